"""The operator console's own table: the people who may log in, and what they may see.

Kept apart from ``models.py`` because only the console uses it; ``store/__init__`` imports
it so that the table is part of the schema the migrations are checked against.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
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

__all__ = ["AUDIT_BY_TIME", "RECORDS_BY_STATE", "ConsoleUser"]
