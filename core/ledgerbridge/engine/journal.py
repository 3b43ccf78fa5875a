"""The engine's durable bookkeeping: records, their state history, intents, bindings, audit.

Every method is one short transaction, so a unit of work (one record's plan)
can run on any worker sharing the database, and a crash at any point leaves a
state the next run can finish from.  Blocking calls: the engine runs them in a
worker thread (``anyio.to_thread``) so the event loop keeps moving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

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


@dataclass(frozen=True)
class Scope:
    """Who a piece of bookkeeping belongs to."""

    tenant_id: str
    pipeline_id: str
    source_connection_id: str
    target_connection_id: str


class Journal:
    def __init__(self, store: Store, scope: Scope) -> None:
        self.store = store
        self.scope = scope

    # ----------------------------------------------------------------- records

    def record(self, entity: str, external_id: str) -> SyncRecord:
        """The record for a source object, created ``pending`` on first sight."""
        with self.store.session() as s:
            row = self._find(s, entity, external_id)
            if row is not None:
                return row
        try:
            with self.store.session() as s:
                row = SyncRecord(
                    tenant_id=self.scope.tenant_id,
                    pipeline_id=self.scope.pipeline_id,
                    entity=entity,
                    external_id=external_id,
                )
                s.add(row)
                return row
        except IntegrityError:  # another worker created it first
            with self.store.session() as s:
                found = self._find(s, entity, external_id)
                assert found is not None
                return found

    def _find(self, session: Any, entity: str, external_id: str) -> SyncRecord | None:
        stmt = select(SyncRecord).where(
            SyncRecord.pipeline_id == self.scope.pipeline_id,
            SyncRecord.entity == entity,
            SyncRecord.external_id == external_id,
        )
        result: SyncRecord | None = session.exec(stmt).first()
        return result

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
        """Move a record to ``state`` and keep the step in its history."""
        now = utcnow()
        with self.store.session() as s:
            row = s.get(SyncRecord, record_id)
            assert row is not None
            previous = row.state
            row.state = state.value
            row.source_version = version or row.source_version
            row.updated_at = now
            row.next_attempt_at = next_attempt_at
            if state is RecordState.SYNCED:
                row.synced_version = version
                row.reason = row.error_class = row.error_code = row.missing_key = None
                row.attempt_count = 0
                row.retry_safe = True
            else:
                row.attempt_count += 1
                row.reason = reason or (error.message if error else None)
                row.error_class = type(error).__name__ if error else None
                row.error_code = error.code if error else None
                row.missing_key = getattr(error, "missing", None)
                row.retry_safe = _retry_safe(state, error)
            s.add(row)
            s.add(
                SyncAttempt(
                    record_id=record_id,
                    from_state=previous,
                    to_state=state.value,
                    started_at=started_at,
                    finished_at=now,
                    error=error.summary() if error else ({"reason": reason} if reason else {}),
                    request_summary=request_summary or {},
                )
            )
            return row

    def records(
        self, states: list[RecordState] | None = None, due_before: datetime | None = None
    ) -> list[SyncRecord]:
        with self.store.session() as s:
            stmt = select(SyncRecord).where(SyncRecord.pipeline_id == self.scope.pipeline_id)
            if states:
                stmt = stmt.where(col(SyncRecord.state).in_([st.value for st in states]))
            if due_before is not None:
                stmt = stmt.where(col(SyncRecord.next_attempt_at) <= due_before)
            return list(s.exec(stmt.order_by(col(SyncRecord.id))))

    def state_counts(self) -> dict[str, int]:
        with self.store.session() as s:
            stmt = (
                select(SyncRecord.state, func.count())
                .where(SyncRecord.pipeline_id == self.scope.pipeline_id)
                .group_by(SyncRecord.state)
            )
            return {state: count for state, count in s.exec(stmt)}

    # ----------------------------------------------------------------- intents

    def intent(self, key: str) -> WriteIntent | None:
        with self.store.session() as s:
            return s.get(WriteIntent, key)

    def pending_in_scope(self, scope: str) -> list[WriteIntent]:
        """Intents for the same write (any source version) whose outcome is unknown."""
        with self.store.session() as s:
            stmt = select(WriteIntent).where(
                WriteIntent.scope == scope, WriteIntent.status == "pending"
            )
            return list(s.exec(stmt))

    def begin_intent(self, key: str, scope: str, operation: str, record_id: int | None) -> None:
        """Durably note that a remote write is about to happen (before the call)."""
        with self.store.session() as s:
            if s.get(WriteIntent, key) is not None:
                return
            s.add(
                WriteIntent(
                    key=key,
                    scope=scope,
                    tenant_id=self.scope.tenant_id,
                    pipeline_id=self.scope.pipeline_id,
                    record_id=record_id,
                    operation=operation,
                )
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
        with self.store.session() as s:
            row = s.get(WriteIntent, key)
            if row is not None:
                row.status = "adopted" if adopted else "done"
                row.target_id = target_id
                row.completed_at = now
                s.add(row)
            if settle_scope is not None:
                stmt = select(WriteIntent).where(
                    WriteIntent.scope == settle_scope, WriteIntent.status == "pending"
                )
                for other in s.exec(stmt):
                    other.status = "superseded"
                    other.completed_at = now
                    s.add(other)
            if binding is not None:
                self._bind(s, binding)
            s.add(audit)

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
            stmt = select(CrossReference).where(
                CrossReference.tenant_id == self.scope.tenant_id,
                CrossReference.source_connection_id == self.scope.source_connection_id,
                CrossReference.target_connection_id == self.scope.target_connection_id,
                CrossReference.entity == entity,
                col(CrossReference.external_id).in_(external_ids),
            )
            return list(s.exec(stmt))

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
        with self.store.session() as s:
            self._bind(s, binding)

    def _bind(self, session: Any, binding: CrossReference) -> None:
        stmt = select(CrossReference).where(
            CrossReference.tenant_id == binding.tenant_id,
            CrossReference.source_connection_id == binding.source_connection_id,
            CrossReference.entity == binding.entity,
            CrossReference.external_id == binding.external_id,
            CrossReference.target_connection_id == binding.target_connection_id,
            CrossReference.target_kind == binding.target_kind,
        )
        existing = session.exec(stmt).first()
        if existing is None:
            session.add(binding)
            return
        existing.target_id = binding.target_id
        existing.snapshot = binding.snapshot
        existing.updated_at = utcnow()
        session.add(existing)

    # ----------------------------------------------------------------- audit & conflicts

    def audit(self, **fields: Any) -> AuditEvent:
        return AuditEvent(
            tenant_id=self.scope.tenant_id, pipeline_id=self.scope.pipeline_id, **fields
        )

    def add_audit(self, event: AuditEvent) -> None:
        with self.store.session() as s:
            s.add(event)

    def audit_trail(self, source_id: str) -> list[AuditEvent]:
        with self.store.session() as s:
            stmt = (
                select(AuditEvent)
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
            stmt = select(ConflictRecord).where(
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


def _retry_safe(state: RecordState, error: SyncError | None) -> bool:
    """Whether re-running the record cannot double-post (intents make every write safe,
    so only records needing a person first are 'not yet')."""
    if state in (RecordState.CONFLICT,):
        return False
    return not (error is not None and error.needs_operator)
