"""The operator console's own table: the people who may log in, and what they may see.

Kept apart from ``models.py`` because only the console uses it; ``store/__init__`` imports
it so that the table is part of the schema the migrations are checked against.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Table, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import String
from sqlmodel import Field, SQLModel

from .models import AuditEvent, SyncRecord
from .types import UTCDateTime, utcnow


class ConsoleUser(SQLModel, table=True):
    """A console log-in made by ``ledgerbridge users add``.

    ``password_hash`` is an argon2 hash (never the password); ``tenants`` lists the tenant
    ids the user may see, ``["*"]`` for all of them.
    """

    __tablename__ = "console_users"

    username: str = Field(primary_key=True, max_length=100)
    password_hash: str = Field(sa_type=Text)
    role: str = Field(max_length=20)  # viewer | operator | admin
    tenants: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    def describe(self) -> dict[str, Any]:
        """What ``users list`` shows (no hash)."""
        return {"username": self.username, "role": self.role, "tenants": list(self.tenants)}


class ReplayJob(SQLModel, table=True):
    """A replay started from the console and its progress, in the store so that any
    console process (behind a load balancer, or after a restart) shows it: the runner
    writes each record's outcome as it comes, the progress page reads it back."""

    __tablename__ = "console_replay_jobs"

    id: str = Field(primary_key=True, max_length=40)
    owner: str = Field(max_length=100)  # the user who started it: the only one who sees it
    title: str = Field(sa_type=Text)
    single: bool = False  # one record's replay (its page then opens the record)
    record_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    done: int = 0
    outcomes: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    results: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    finished: bool = False
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# The console counts a pipeline's records per state and lists them by state, newest first:
# one index answers both without reading the table (migration 0005).
RECORDS_BY_STATE = Index(
    "ix_sync_records_pipeline_state",
    SyncRecord.__table__.c.pipeline_id,  # type: ignore[attr-defined]
    SyncRecord.__table__.c.state,  # type: ignore[attr-defined]
)

# The audit export reads one tenant's events between two times.
AUDIT_BY_TIME = Index(
    "ix_audit_events_tenant_at",
    AuditEvent.__table__.c.tenant_id,  # type: ignore[attr-defined]
    AuditEvent.__table__.c.at,  # type: ignore[attr-defined]
)


class DocumentNumber(ColumnElement[str]):
    """The target document number a write was given (``details.number`` of its audit
    event, e.g. ``INV-000123``): one expression, written per dialect, that the index below
    and the records search share -- an expression index only serves a query that spells
    the same expression."""

    inherit_cache = True
    type = String()


@compiles(DocumentNumber, "postgresql")
def _number_pg(_element: DocumentNumber, _compiler: object, **_kw: object) -> str:
    return "(details ->> 'number')"


@compiles(DocumentNumber)
def _number_sqlite(_element: DocumentNumber, _compiler: object, **_kw: object) -> str:
    return "json_extract(details, '$.number')"


class DetailsUser(ColumnElement[str]):
    """Who took an operator action (``details.user`` of its audit event; NULL for a
    write), read in SQL for the audit export, spelled per dialect."""

    inherit_cache = True
    type = String()


@compiles(DetailsUser, "postgresql")
def _user_pg(_element: DetailsUser, _compiler: object, **_kw: object) -> str:
    return "(audit_events.details ->> 'user')"


@compiles(DetailsUser)
def _user_sqlite(_element: DetailsUser, _compiler: object, **_kw: object) -> str:
    return "json_extract(audit_events.details, '$.user')"


@compiles(Table, "sqlite")
def _sqlite_table_with_hint(table: Table, compiler: Any, **kw: Any) -> str:
    """A table in a SQLite FROM clause, followed by its ``INDEXED BY`` hint when the
    statement gives one (``Select.with_hint(table, "INDEXED BY ix", "sqlite")``).

    SQLAlchemy's SQLite compiler drops FROM hints (SQLite has exactly one, ``INDEXED BY``,
    which the records page needs: ``console_queries.records_page``); this compiles the table
    as usual and appends the hint the statement asked for.  A statement without a SQLite
    hint compiles exactly as before; other dialects never come here.
    """
    text: str = compiler.visit_table(table, **kw)
    hints = kw.get("fromhints")
    if text and hints and table in hints:
        text += f" {hints[table]}"
    return text


AUDIT_BY_NUMBER = Index(
    "ix_audit_events_number",
    DocumentNumber(),
    _table=AuditEvent.__table__,  # type: ignore[attr-defined]
)

# The overview's 7-day trend counts a pipeline's records per state by day of last change;
# a date-range search lists records by first-seen time (migration 0007).
RECORDS_BY_STATE_CHANGE = Index(
    "ix_sync_records_pipeline_state_updated",
    SyncRecord.__table__.c.pipeline_id,  # type: ignore[attr-defined]
    SyncRecord.__table__.c.state,  # type: ignore[attr-defined]
    SyncRecord.__table__.c.updated_at,  # type: ignore[attr-defined]
)
RECORDS_BY_CREATED = Index(
    "ix_sync_records_pipeline_created",
    SyncRecord.__table__.c.pipeline_id,  # type: ignore[attr-defined]
    SyncRecord.__table__.c.created_at,  # type: ignore[attr-defined]
    SyncRecord.__table__.c.id,  # type: ignore[attr-defined]
)

__all__ = [
    "AUDIT_BY_NUMBER",
    "AUDIT_BY_TIME",
    "RECORDS_BY_CREATED",
    "RECORDS_BY_STATE",
    "RECORDS_BY_STATE_CHANGE",
    "ConsoleUser",
    "DetailsUser",
    "DocumentNumber",
    "ReplayJob",
]
