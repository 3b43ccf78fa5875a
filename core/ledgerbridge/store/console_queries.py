"""Read (and the few write) queries behind the operator console.

Every read is bounded to the pipelines the caller may see (the console passes the pipeline
ids of the user's tenants), so one tenant's rows never reach another tenant's page, and
every list is a keyset page on an indexed column: ``sync_records`` by ``pipeline_id`` and
id, the unique ``(pipeline_id, entity, external_id)`` for a search by order id, ``state``;
``audit_events`` and ``sync_attempts`` by ``record_id``.  Views never write SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import col, select

from .console_audit import audit_export
from .console_models import RECORDS_BY_STATE, ConsoleUser, DocumentNumber
from .models import (
    AuditEvent,
    Checkpoint,
    ConflictRecord,
    CrossReference,
    SyncAttempt,
    SyncRecord,
)
from .store import Store
from .types import utcnow

PAGE_SIZE = 50
PARKED = ("failed", "needs_mapping", "conflict", "retrying")


@dataclass(frozen=True)
class FailureGroup:
    """Parked records that share one cause: state, error class and missing key (or code)."""

    state: str
    error_class: str | None
    key: str | None  # the missing mapping key, else the platform's error code
    count: int
    sample_id: int  # the newest record of the group


def state_counts(store: Store, pipeline_id: str) -> dict[str, int]:
    """How many records of a pipeline are in each state."""
    with store.session() as s:
        stmt = (
            select(SyncRecord.state, func.count())
            .where(SyncRecord.pipeline_id == pipeline_id)
            .group_by(SyncRecord.state)
        )
        return {state: int(n) for state, n in s.exec(stmt)}


def last_activity(store: Store, pipeline_id: str, window: int = 20_000) -> datetime | None:
    """When the pipeline last did something: its newest state change among the store's
    latest ``window`` history rows (a bounded walk back from the newest row, not a read of
    every record of the pipeline), else when its checkpoint last moved."""
    with store.session() as s:
        top = s.exec(select(func.max(SyncAttempt.id))).first()
        if top is not None:
            stmt = (
                select(SyncAttempt.started_at, SyncAttempt.finished_at)
                .join(SyncRecord, col(SyncRecord.id) == col(SyncAttempt.record_id))
                .where(SyncRecord.pipeline_id == pipeline_id)
                .where(col(SyncAttempt.id) > top - window)
                .order_by(col(SyncAttempt.id).desc())
                .limit(1)
            )
            row = s.exec(stmt).first()
            if row is not None:
                return row[1] or row[0]
        return s.exec(
            select(func.max(Checkpoint.updated_at)).where(Checkpoint.pipeline_id == pipeline_id)
        ).first()


def records_page(
    store: Store,
    pipelines: Sequence[str],
    *,
    state: str | None = None,
    search: str | None = None,
    before_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = PAGE_SIZE,
) -> list[SyncRecord]:
    """Newest first, ``limit`` records older than ``before_id`` (keyset, never OFFSET).

    ``search`` is a source record id (an order's id or number as the source keys it):
    matched exactly through the unique index on ``(pipeline_id, entity, external_id)``.
    ``since``/``until`` bound when a record was first seen; the page then walks the
    ``(pipeline_id, created_at, id)`` index newest first, the cursor still one record id
    (its ``created_at`` is read back to continue from it).
    """
    ranged = since is not None or until is not None
    found: list[SyncRecord] = []
    with store.session() as s:
        cursor = s.get(SyncRecord, before_id) if ranged and before_id is not None else None
        # One keyset page per pipeline, merged: ``pipeline_id = ?`` walks its index in id
        # order (with ``state``, the pipeline-and-state index), where ``IN (...)`` would
        # sort every matching row before the LIMIT.
        for pipeline_id in dict.fromkeys(pipelines):
            stmt = select(SyncRecord).where(SyncRecord.pipeline_id == pipeline_id)
            if state:
                stmt = stmt.where(SyncRecord.state == state)
            if search:
                stmt = stmt.where(SyncRecord.external_id == search.strip())
            if since is not None:
                stmt = stmt.where(col(SyncRecord.created_at) >= since)
            if until is not None:
                stmt = stmt.where(col(SyncRecord.created_at) < until)
            if ranged:
                if cursor is not None:
                    stmt = stmt.where(
                        or_(
                            col(SyncRecord.created_at) < cursor.created_at,
                            and_(
                                col(SyncRecord.created_at) == cursor.created_at,
                                col(SyncRecord.id) < cursor.id,
                            ),
                        )
                    )
                order: tuple[Any, ...] = (
                    col(SyncRecord.created_at).desc(),
                    col(SyncRecord.id).desc(),
                )
            else:
                if before_id is not None:
                    stmt = stmt.where(col(SyncRecord.id) < before_id)
                    # Once ANALYZE has seen one pipeline hold most records, SQLite takes
                    # ``id < ?`` on the table itself -- for each small pipeline a walk of
                    # every older record; the pipeline's index holds the id too and answers
                    # the page from the cursor on.
                    index = RECORDS_BY_STATE.name if state else "ix_sync_records_pipeline_id"
                    stmt = stmt.with_hint(SyncRecord, f"INDEXED BY {index}", "sqlite")
                order = (col(SyncRecord.id).desc(),)
            found += s.exec(stmt.order_by(*order).limit(limit))
    if ranged:
        found.sort(key=lambda r: (r.created_at, r.id or 0), reverse=True)
    else:
        found.sort(key=lambda r: -(r.id or 0))
    return found[:limit]


def records_by_order(
    store: Store, pipelines: Sequence[str], query: str, limit: int = PAGE_SIZE
) -> list[SyncRecord]:
    """The records an order number or source id names, newest first: the lookup ``audit``
    and ``replay`` use (``orders.find_orders``: "#1003", "1003" or the source's id, through
    the indexes on ``number`` and ``external_id``); when no order answers, a record of any
    entity keyed by exactly that source id."""
    from .orders import find_orders

    if not pipelines:
        return []
    found = find_orders(store, query, pipelines=list(dict.fromkeys(pipelines)))
    if not found:
        return records_page(store, pipelines, search=query, limit=limit)
    return sorted(found, key=lambda r: -(r.id or 0))[:limit]


def records_by_number(
    store: Store, pipelines: Sequence[str], number: str, limit: int = PAGE_SIZE
) -> list[SyncRecord]:
    """The records whose writes were given target document number ``number`` (an invoice's
    ``INV-000123``), read through the expression index on the audit events' number."""
    with store.session() as s:
        ids = s.exec(
            select(AuditEvent.record_id)
            .where(DocumentNumber() == number.strip())
            .where(col(AuditEvent.pipeline_id).in_(list(pipelines)))
            .limit(limit)
        ).all()
        wanted = sorted({i for i in ids if i is not None}, reverse=True)
        if not wanted:
            return []
        rows = s.exec(select(SyncRecord).where(col(SyncRecord.id).in_(wanted))).all()
    return sorted((r for r in rows if r.pipeline_id in pipelines), key=lambda r: -(r.id or 0))


def document_numbers(store: Store, record_id: int) -> dict[str, str]:
    """Target id -> the document number the target gave it, from the record's writes."""
    out: dict[str, str] = {}
    for event in record_events(store, record_id):
        number = event.details.get("number")
        if event.target_id and number:
            out[event.target_id] = str(number)
    return out


def record_in(store: Store, record_id: int, pipelines: Sequence[str]) -> SyncRecord | None:
    """One record, or ``None`` when it does not exist *or* belongs to a pipeline not listed
    (the console answers both with 404: another tenant's ids are not confirmed)."""
    with store.session() as s:
        row = s.get(SyncRecord, record_id)
    if row is None or row.pipeline_id not in pipelines:
        return None
    return row


def history(store: Store, record_id: int) -> list[SyncAttempt]:
    """Every state change of a record, oldest first."""
    with store.session() as s:
        stmt = (
            select(SyncAttempt)
            .where(SyncAttempt.record_id == record_id)
            .order_by(col(SyncAttempt.id))
        )
        return list(s.exec(stmt))


def record_events(store: Store, record_id: int) -> list[AuditEvent]:
    """The writes made for a record (with their idempotency keys) and operator actions on it."""
    with store.session() as s:
        stmt = (
            select(AuditEvent).where(AuditEvent.record_id == record_id).order_by(col(AuditEvent.id))
        )
        return list(s.exec(stmt))


def bindings_of(
    store: Store, tenant_id: str, source_connection_id: str, entity: str, external_id: str
) -> list[CrossReference]:
    """The target documents written for a source record: its own bindings and those of its
    parts (``<id>:<part>``, e.g. the payments of order 1005 are ``payment 1005:paid``).
    A prefix range on the unique index, not ``LIKE`` (which neither SQLite nor PostgreSQL
    answers from that index).  The range assumes byte order, as SQLite's default and
    PostgreSQL's ``C`` collations sort; under a language collation, which may ignore the
    ``:``, a part can be missed (never a wrong one shown: each is checked for the prefix)."""
    with store.session() as s:
        own = select(CrossReference).where(
            CrossReference.tenant_id == tenant_id,
            CrossReference.source_connection_id == source_connection_id,
            CrossReference.entity == entity,
            CrossReference.external_id == external_id,
        )
        parts = select(CrossReference).where(
            CrossReference.tenant_id == tenant_id,
            CrossReference.source_connection_id == source_connection_id,
            col(CrossReference.external_id) >= f"{external_id}:",
            col(CrossReference.external_id) < f"{external_id};",  # ';' follows ':'
        )
        prefix = f"{external_id}:"
        return list(s.exec(own)) + [
            b for b in s.exec(parts) if b.entity != entity and b.external_id.startswith(prefix)
        ]


def open_conflicts(
    store: Store, pipelines: Sequence[str], limit: int = 200
) -> list[ConflictRecord]:
    """Open conflicts of the pipelines the user may see, oldest first (a person must act on
    each; the open ones are few, found through the ``status`` index)."""
    if not pipelines:
        return []
    with store.session() as s:
        stmt = (
            select(ConflictRecord)
            .where(ConflictRecord.status == "open")
            .where(col(ConflictRecord.pipeline_id).in_(list(pipelines)))
            .order_by(col(ConflictRecord.id))
            .limit(limit)
        )
        return list(s.exec(stmt))


def conflict_in(store: Store, conflict_id: int, pipelines: Sequence[str]) -> ConflictRecord | None:
    """One conflict, or ``None`` when absent or another tenant's (answered 404 alike)."""
    with store.session() as s:
        row = s.get(ConflictRecord, conflict_id)
    if row is None or row.pipeline_id not in pipelines:
        return None
    return row


def conflicts_of(store: Store, tenant_id: str, record_id: int) -> list[ConflictRecord]:
    """Every conflict a record had, open or resolved (its timeline), through the tenant
    index (a tenant's conflicts are few: each one waited for a person)."""
    with store.session() as s:
        stmt = select(ConflictRecord).where(
            ConflictRecord.tenant_id == tenant_id, ConflictRecord.record_id == record_id
        )
        return list(s.exec(stmt.order_by(col(ConflictRecord.id))))


def failure_groups(store: Store, pipelines: Sequence[str]) -> list[FailureGroup]:
    """Parked and retrying records grouped by cause, biggest group first."""
    if not pipelines:
        return []
    key = func.coalesce(SyncRecord.missing_key, SyncRecord.error_code)
    with store.session() as s:
        stmt = (
            select(  # type: ignore[call-overload]
                SyncRecord.state, SyncRecord.error_class, key, func.count(), func.max(SyncRecord.id)
            )
            .where(col(SyncRecord.pipeline_id).in_(list(pipelines)))
            .where(col(SyncRecord.state).in_(PARKED))
            .group_by(SyncRecord.state, SyncRecord.error_class, key)
        )
        rows = list(s.exec(stmt))
    groups = [FailureGroup(st, cls, k, int(n), int(newest)) for st, cls, k, n, newest in rows]
    return sorted(groups, key=lambda g: (-g.count, g.state, g.error_class or "", g.key or ""))


def group_members(
    store: Store,
    pipelines: Sequence[str],
    state: str,
    error_class: str | None,
    key: str | None,
    limit: int = 500,
) -> list[SyncRecord]:
    """The records of one failure group (for its list and for "replay the group")."""
    if not pipelines:
        return []
    cause = func.coalesce(SyncRecord.missing_key, SyncRecord.error_code)
    klass = col(SyncRecord.error_class)
    with store.session() as s:
        stmt = (
            select(SyncRecord)
            .where(col(SyncRecord.pipeline_id).in_(list(pipelines)))
            .where(SyncRecord.state == state)
            .where(klass.is_(None) if error_class is None else klass == error_class)
            .where(cause.is_(None) if key is None else cause == key)
            .order_by(col(SyncRecord.id))
            .limit(limit)
        )
        return list(s.exec(stmt))


def record_operator_action(
    store: Store,
    record: SyncRecord,
    *,
    user: str,
    action: str,
    outcome: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """An operator's action on a record, as an audit event naming the user."""
    now = utcnow()
    event = AuditEvent(
        tenant_id=record.tenant_id,
        pipeline_id=record.pipeline_id,
        record_id=record.id,
        source_id=record.external_id,
        source_version=record.source_version,
        idempotency_key=f"operator:{action}:{record.id}:{now.isoformat()}",
        operation=f"operator_{action}",
        outcome=outcome,
        at=now,
        details={"user": user, **(details or {})},
    )
    with store.session() as s:
        s.add(event)
    return event


# --------------------------------------------------------------------------- users


def get_user(store: Store, username: str) -> ConsoleUser | None:
    with store.session() as s:
        return s.get(ConsoleUser, username)


def list_users(store: Store) -> list[ConsoleUser]:
    with store.session() as s:
        return list(s.exec(select(ConsoleUser).order_by(col(ConsoleUser.username))))


def put_user(
    store: Store, username: str, *, password_hash: str, role: str, tenants: Sequence[str]
) -> ConsoleUser:
    """Create a user or replace its password, role and tenants."""
    with store.session() as s:
        row = s.get(ConsoleUser, username) or ConsoleUser(
            username=username, password_hash=password_hash, role=role
        )
        row.password_hash, row.role, row.tenants = password_hash, role, list(tenants)
        row.updated_at = utcnow()
        s.add(row)
        return row


def remove_user(store: Store, username: str) -> bool:
    with store.session() as s:
        row = s.get(ConsoleUser, username)
        if row is None:
            return False
        s.delete(row)
        return True


__all__ = [
    "PAGE_SIZE",
    "FailureGroup",
    "audit_export",
    "bindings_of",
    "conflict_in",
    "conflicts_of",
    "document_numbers",
    "failure_groups",
    "get_user",
    "group_members",
    "history",
    "last_activity",
    "list_users",
    "open_conflicts",
    "put_user",
    "record_events",
    "record_in",
    "record_operator_action",
    "records_by_number",
    "records_by_order",
    "records_page",
    "remove_user",
    "state_counts",
]
