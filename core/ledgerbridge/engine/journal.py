"""The engine's durable bookkeeping: records, their state history, intents, bindings, audit.

Every method is one short transaction, so a unit of work (one record's plan)
can run on any worker sharing the database, and a crash at any point leaves a
state the next run can finish from.  Blocking calls: the engine runs them in a
worker thread (``anyio.to_thread``) so the event loop keeps moving.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import func, or_, select
from sqlmodel import col
from sqlmodel import select as orm_select

from ..errors import SyncError
from ..store import (
    AuditEvent,
    ConflictRecord,
    CrossReference,
    RecordState,
    Store,
    SyncAttempt,
    SyncRecord,
    WriteIntent,
)
from ..store.types import utcnow


async def off_loop(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking store call in a worker thread so the event loop keeps moving."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


@dataclass(frozen=True)
class Scope:
    """Who a piece of bookkeeping belongs to."""

    tenant_id: str
    pipeline_id: str
    source_connection_id: str
    target_connection_id: str


def _upsert(engine: Any, table: Any) -> Any:
    """INSERT ... ON CONFLICT for the store's dialect (SQLite and PostgreSQL share the syntax)."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


_INTENTS = WriteIntent.__table__  # type: ignore[attr-defined]
_XREFS = CrossReference.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
_RECORDS = SyncRecord.__table__  # type: ignore[attr-defined]
_ATTEMPTS = SyncAttempt.__table__  # type: ignore[attr-defined]
_BINDING_KEY = [
    "tenant_id", "source_connection_id", "entity", "external_id",
    "target_connection_id", "target_kind",
]  # fmt: skip


class Journal:
    """Hot paths (one per record or per write) use SQLAlchemy Core on one connection
    each: an order's bookkeeping costs a handful of short statements, not ORM sessions."""

    def __init__(self, store: Store, scope: Scope) -> None:
        self.store = store
        self.scope = scope

    # ----------------------------------------------------------------- records

    def record(self, entity: str, external_id: str) -> SyncRecord:
        """The record for a source object, created ``pending`` on first sight."""
        now = utcnow()
        where = (
            (_RECORDS.c.pipeline_id == self.scope.pipeline_id)
            & (_RECORDS.c.entity == entity)
            & (_RECORDS.c.external_id == external_id)
        )
        with self.store.engine.begin() as conn:
            row = conn.execute(select(_RECORDS).where(where)).first()
            if row is None:
                conn.execute(
                    _upsert(self.store.engine, _RECORDS)
                    .values(
                        tenant_id=self.scope.tenant_id,
                        pipeline_id=self.scope.pipeline_id,
                        entity=entity,
                        external_id=external_id,
                        state=RecordState.PENDING.value,
                        retry_safe=True,
                        attempt_count=0,
                        created_at=now,
                        updated_at=now,
                    )
                    .on_conflict_do_nothing()  # another worker created it first
                )
                row = conn.execute(select(_RECORDS).where(where)).one()
        return SyncRecord.model_validate(row._asdict())

    def get(self, record_id: int) -> SyncRecord | None:
        with self.store.session() as s:
            return s.get(SyncRecord, record_id)

    def transition(
        self,
        record_id: int,
        state: RecordState,
        *,
        started_at: datetime,
        version: str | None = None,
        error: SyncError | None = None,
        reason: str | None = None,
        next_attempt_at: datetime | None = None,
        request_summary: dict[str, Any] | None = None,
    ) -> SyncRecord:
        """Move a record to ``state`` and keep the step in its history (one transaction)."""
        now = utcnow()
        with self.store.engine.begin() as conn:
            current = conn.execute(select(_RECORDS).where(_RECORDS.c.id == record_id)).one()
            values: dict[str, Any] = {
                "state": state.value,
                "source_version": version or current.source_version,
                "updated_at": now,
                "next_attempt_at": next_attempt_at,
            }
            if state is RecordState.SYNCED:
                values.update(
                    synced_version=version, reason=reason, error_class=None, error_code=None,
                    missing_key=None, attempt_count=0, retry_safe=True,
                )  # fmt: skip
            else:
                values.update(
                    attempt_count=current.attempt_count + 1,
                    reason=reason or (error.message if error else None),
                    error_class=type(error).__name__ if error else None,
                    error_code=error.code if error else None,
                    missing_key=getattr(error, "missing", None),
                    retry_safe=_retry_safe(state, error),
                )
            conn.execute(_RECORDS.update().where(_RECORDS.c.id == record_id).values(**values))
            conn.execute(
                _ATTEMPTS.insert().values(
                    record_id=record_id,
                    from_state=current.state,
                    to_state=state.value,
                    started_at=started_at,
                    finished_at=now,
                    error=error.summary() if error else ({"reason": reason} if reason else {}),
                    request_summary=request_summary or {},
                )
            )
            row = conn.execute(select(_RECORDS).where(_RECORDS.c.id == record_id)).one()
        return SyncRecord.model_validate(row._asdict())

    def records(
        self, states: list[RecordState] | None = None, due_before: datetime | None = None
    ) -> list[SyncRecord]:
        with self.store.session() as s:
            stmt = orm_select(SyncRecord).where(SyncRecord.pipeline_id == self.scope.pipeline_id)
            if states:
                stmt = stmt.where(col(SyncRecord.state).in_([st.value for st in states]))
            if due_before is not None:
                stmt = stmt.where(col(SyncRecord.next_attempt_at) <= due_before)
            return list(s.exec(stmt.order_by(col(SyncRecord.id))))

    def state_counts(self) -> dict[str, int]:
        with self.store.session() as s:
            stmt = (
                orm_select(SyncRecord.state, func.count())
                .where(SyncRecord.pipeline_id == self.scope.pipeline_id)
                .group_by(SyncRecord.state)
            )
            return {state: count for state, count in s.exec(stmt)}

    # ----------------------------------------------------------------- intents

    def intent(self, key: str) -> WriteIntent | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(select(_INTENTS).where(_INTENTS.c.key == key)).first()
        return None if row is None else WriteIntent.model_validate(row._asdict())

    def intents_in_scope(self, scope: str) -> list[WriteIntent]:
        """Every intent for the same write, any source version (one query per write)."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(_INTENTS).where(_INTENTS.c.scope == scope)).all()
        return [WriteIntent.model_validate(r._asdict()) for r in rows]

    def pending_in_scope(self, scope: str) -> list[WriteIntent]:
        """Intents for the same write (any source version) whose outcome is unknown."""
        return [i for i in self.intents_in_scope(scope) if i.status == "pending"]

    def begin_intent(self, key: str, scope: str, operation: str, record_id: int | None) -> None:
        """Durably note that a remote write is about to happen (before the call)."""
        with self.store.engine.begin() as conn:
            conn.execute(
                _upsert(self.store.engine, _INTENTS)
                .values(
                    key=key,
                    scope=scope,
                    tenant_id=self.scope.tenant_id,
                    pipeline_id=self.scope.pipeline_id,
                    record_id=record_id,
                    operation=operation,
                    status="pending",
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing()
            )

    def complete_intent(
        self,
        key: str,
        *,
        target_id: str | None,
        adopted: bool,
        binding: CrossReference | None,
        audit: AuditEvent,
        settle_scope: str | None = None,
    ) -> None:
        """After the call: result, binding and audit event in ONE transaction."""
        now = utcnow()
        with self.store.engine.begin() as conn:
            conn.execute(
                _INTENTS.update()
                .where(_INTENTS.c.key == key)
                .values(
                    status="adopted" if adopted else "done", target_id=target_id, completed_at=now
                )
            )
            if settle_scope is not None:
                conn.execute(
                    _INTENTS.update()
                    .where(
                        (_INTENTS.c.scope == settle_scope)
                        & (_INTENTS.c.status == "pending")
                        & (_INTENTS.c.key != key)
                    )
                    .values(status="superseded", completed_at=now)
                )
            if binding is not None:
                self._bind_core(conn, binding)
            conn.execute(_AUDIT.insert().values(**_audit_values(audit)))

    def fail_intent(self, key: str) -> None:
        """A call that certainly changed nothing: close its intent (no look-up needed later)."""
        with self.store.engine.begin() as conn:
            conn.execute(
                _INTENTS.update()
                .where(_INTENTS.c.key == key)
                .values(status="failed", completed_at=utcnow())
            )

    # ----------------------------------------------------------------- bindings

    def binding(self, entity: str, external_id: str, target_kind: str) -> CrossReference | None:
        return self.store.get_xref(
            self.scope.tenant_id,
            self.scope.source_connection_id,
            entity,
            external_id,
            self.scope.target_connection_id,
            target_kind,
        )

    def bindings_for(self, entity: str, external_ids: list[str]) -> list[CrossReference]:
        if not external_ids:
            return []
        with self.store.session() as s:
            stmt = orm_select(CrossReference).where(
                CrossReference.tenant_id == self.scope.tenant_id,
                CrossReference.source_connection_id == self.scope.source_connection_id,
                CrossReference.target_connection_id == self.scope.target_connection_id,
                CrossReference.entity == entity,
                col(CrossReference.external_id).in_(external_ids),
            )
            return list(s.exec(stmt))

    def bindings_of(self, wanted: dict[str, list[str]]) -> list[CrossReference]:
        """Bindings of several entities at once (entity -> external ids): one query."""
        clauses = [
            (_XREFS.c.entity == entity) & (_XREFS.c.external_id.in_(ids))
            for entity, ids in wanted.items()
            if ids
        ]
        if not clauses:
            return []
        stmt = select(_XREFS).where(
            (_XREFS.c.tenant_id == self.scope.tenant_id)
            & (_XREFS.c.source_connection_id == self.scope.source_connection_id)
            & (_XREFS.c.target_connection_id == self.scope.target_connection_id)
            & or_(*clauses)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [CrossReference.model_validate(r._asdict()) for r in rows]

    def make_binding(
        self,
        entity: str,
        external_id: str,
        target_kind: str,
        target_id: str,
        snapshot: dict[str, Any] | None = None,
    ) -> CrossReference:
        return CrossReference(
            tenant_id=self.scope.tenant_id,
            source_connection_id=self.scope.source_connection_id,
            entity=entity,
            external_id=external_id,
            target_connection_id=self.scope.target_connection_id,
            target_kind=target_kind,
            target_id=target_id,
            snapshot=snapshot or {},
        )

    def bind(self, binding: CrossReference) -> None:
        with self.store.engine.begin() as conn:
            self._bind_core(conn, binding)

    def _bind_core(self, conn: Any, binding: CrossReference) -> None:
        values = {
            "tenant_id": binding.tenant_id,
            "source_connection_id": binding.source_connection_id,
            "entity": binding.entity,
            "external_id": binding.external_id,
            "target_connection_id": binding.target_connection_id,
            "target_kind": binding.target_kind,
            "target_id": binding.target_id,
            "fingerprint": binding.fingerprint,
            "snapshot": binding.snapshot or {},
            "updated_at": utcnow(),
        }
        stmt = _upsert(self.store.engine, _XREFS).values(**values)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=_BINDING_KEY,
                set_={
                    "target_id": stmt.excluded.target_id,
                    "snapshot": stmt.excluded.snapshot,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
        )

    # ----------------------------------------------------------------- audit & conflicts

    def audit(self, **fields: Any) -> AuditEvent:
        return AuditEvent(
            tenant_id=self.scope.tenant_id, pipeline_id=self.scope.pipeline_id, **fields
        )

    def add_audit(self, event: AuditEvent) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(_AUDIT.insert().values(**_audit_values(event)))

    def audit_trail(self, source_id: str) -> list[AuditEvent]:
        with self.store.session() as s:
            stmt = (
                orm_select(AuditEvent)
                .where(AuditEvent.pipeline_id == self.scope.pipeline_id)
                .where(AuditEvent.source_id == source_id)
                .order_by(col(AuditEvent.id))
            )
            return list(s.exec(stmt))

    def add_conflict(self, conflict: ConflictRecord) -> ConflictRecord:
        with self.store.session() as s:
            s.add(conflict)
            return conflict

    def open_conflicts(self) -> list[ConflictRecord]:
        with self.store.session() as s:
            stmt = orm_select(ConflictRecord).where(
                ConflictRecord.pipeline_id == self.scope.pipeline_id,
                ConflictRecord.status == "open",
            )
            return list(s.exec(stmt))

    def resolve_conflict(self, conflict_id: int, keep: str) -> ConflictRecord:
        with self.store.session() as s:
            row = s.get(ConflictRecord, conflict_id)
            if row is None:
                raise KeyError(conflict_id)
            row.status, row.resolution, row.resolved_at = "resolved", keep, utcnow()
            s.add(row)
            return row


def _audit_values(event: AuditEvent) -> dict[str, Any]:
    values = event.model_dump(exclude={"id"})
    values["at"] = values.get("at") or utcnow()
    return values


def _retry_safe(state: RecordState, error: SyncError | None) -> bool:
    """Whether re-running the record cannot double-post (intents make every write safe,
    so only records needing a person first are 'not yet')."""
    if state in (RecordState.CONFLICT,):
        return False
    return not (error is not None and error.needs_operator)
