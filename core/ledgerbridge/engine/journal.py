"""The engine's durable bookkeeping: records, their state history, intents, audit (bindings:
``binder.py``, committed here with the rest of a unit's batch).

A unit of work (a window of one page's records) costs a fixed handful of short
transactions whatever its size: open its records, read what was posted before
and the intents of its writes, record every intent *before* the first remote
call, and after the calls commit one ``Batch`` -- results, bindings, audit
events and state transitions together.  Any worker sharing the database can
run a unit, and a crash at any point leaves a state the next run finishes from
(an intent without a result is looked up in the target before it is written).
Blocking calls: the engine runs them in a worker thread (``off_loop``) so the
event loop keeps moving.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import String, bindparam, func, select
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
    record_counts,
)
from ..store.bulk import BulkStatement, in_chunks, upsert_for
from ..store.types import utcnow
from .batch import Batch, RecordRow, Transition
from .binder import Binder


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


_INTENTS = WriteIntent.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
_RECORDS = SyncRecord.__table__  # type: ignore[attr-defined]
_ATTEMPTS = SyncAttempt.__table__  # type: ignore[attr-defined]

# Intent statuses. ``pending``: the call may have happened (look before writing again);
# ``done``/``adopted``/``superseded``: a record exists in the target; ``failed``: the call
# certainly changed nothing; ``not_sent``: recorded ahead of a call that was never made.
SENT_OR_UNKNOWN = frozenset({"pending", "done", "adopted", "superseded"})


_RECORD_ROW = [
    "id", "entity", "external_id", "state", "source_version", "synced_version", "attempt_count",
]  # fmt: skip
# What a transition sets on its record.
_RECORD_MOVE = [
    "state", "source_version", "synced_version", "updated_at", "next_attempt_at", "reason",
    "error_class", "error_code", "missing_key", "attempt_count", "retry_safe",
]  # fmt: skip


class _HotStatements:
    """The statements a unit of work runs for many rows, built once per dialect."""

    def __init__(self, dialect: str) -> None:
        self.open_records = BulkStatement(upsert_for(dialect, _RECORDS).on_conflict_do_nothing())
        begin = upsert_for(dialect, _INTENTS)
        # A key closed as ``failed``/``not_sent`` is about to be sent after all: pending
        # again.  A completed one (done/adopted) never is.
        self.begin_intents = BulkStatement(
            begin.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "status": "pending",
                    "completed_at": None,
                    "record_id": begin.excluded.record_id,
                },
                where=(_INTENTS.c.status != "done") & (_INTENTS.c.status != "adopted"),
            )
        )
        self.complete_intents = BulkStatement(
            _INTENTS.update()
            .where(_INTENTS.c.key == bindparam("k"))
            .values(status=bindparam("s"), target_id=bindparam("t"), completed_at=bindparam("now"))
        )
        self.audit = BulkStatement(_AUDIT.insert())
        self.move_records = BulkStatement(
            _RECORDS.update()
            .where(_RECORDS.c.id == bindparam("rid"))
            .values(
                {
                    **{c: bindparam(c) for c in _RECORD_MOVE},
                    # the order number, when this step knows it (a record that could not
                    # be read keeps the one it had)
                    "number": func.coalesce(bindparam("num", type_=String), _RECORDS.c.number),
                }
            )
        )
        self.attempts = BulkStatement(_ATTEMPTS.insert())


_HOT: dict[str, _HotStatements] = {}


def _hot(engine: Any) -> _HotStatements:
    name = engine.dialect.name
    if name not in _HOT:
        _HOT[name] = _HotStatements(name)
    return _HOT[name]


class Journal:
    """The store as the engine sees it, scoped to one pipeline.

    Hot paths use SQLAlchemy Core with executemany, one connection per unit of
    work, not ORM sessions per row."""

    def __init__(self, store: Store, scope: Scope) -> None:
        self.store = store
        self.scope = scope
        self._hot = _hot(store.engine)
        self.binder = Binder(store, scope)

    # ----------------------------------------------------------------- records

    def record(self, entity: str, external_id: str) -> RecordRow:
        """The record for a source object, created ``pending`` on first sight."""
        return self.open_records(entity, [external_id])[external_id]

    def get(self, record_id: int) -> SyncRecord | None:
        with self.store.session() as s:
            return s.get(SyncRecord, record_id)

    def open_records(
        self, entity: str, external_ids: list[str], *, create: bool = True
    ) -> dict[str, RecordRow]:
        """The records of a unit of work, created ``pending`` on first sight (one transaction).

        ``create=False`` (a dry run): nothing is written; a record never seen before comes
        back as a new ``pending`` row with id 0, as the first real run would create it."""
        base = (_RECORDS.c.pipeline_id == self.scope.pipeline_id) & (_RECORDS.c.entity == entity)
        columns = [_RECORDS.c[name] for name in _RECORD_ROW]
        found: dict[str, RecordRow] = {}
        wanted = list(dict.fromkeys(external_ids))
        with self.store.engine.begin() as conn:

            def read(ids: list[str]) -> None:
                for chunk in in_chunks(ids):
                    stmt = select(*columns).where(base & _RECORDS.c.external_id.in_(chunk))
                    for row in conn.execute(stmt):
                        found[row.external_id] = RecordRow(*row)

            read(wanted)
            missing = [i for i in wanted if i not in found]
            if missing and not create:
                for external_id in missing:
                    found[external_id] = RecordRow(
                        0, entity, external_id, RecordState.PENDING.value, None, None, 0
                    )
            elif missing:
                now = utcnow()
                created = self._hot.open_records.execute(
                    conn,
                    [
                        {
                            "tenant_id": self.scope.tenant_id,
                            "pipeline_id": self.scope.pipeline_id,
                            "entity": entity,
                            "external_id": external_id,
                            "state": RecordState.PENDING.value,
                            "retry_safe": True,
                            "attempt_count": 0,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for external_id in missing
                    ],
                )  # another worker may have created some first: DO NOTHING, then read
                record_counts.opened(conn, self.scope, created, now)
                read(missing)
        return found

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
    ) -> None:
        """Move one record to ``state`` outside a unit of work (conflict resolution)."""
        current = self.get(record_id)
        assert current is not None
        step = Transition(
            current, state, started_at, version, error, reason, next_attempt_at, request_summary
        )
        self.commit(Batch(transitions=[step]))

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

    def ran_before(self, entities: Iterable[str]) -> bool:
        """Whether the pipeline holds a checkpoint of any of ``entities`` (it has run)."""
        marks = [self.store.get_checkpoint(self.scope.pipeline_id, e) for e in entities]
        return any(mark is not None for mark in marks)

    def state_counts(self) -> dict[str, int]:
        with self.store.session() as s:
            stmt = (
                orm_select(SyncRecord.state, func.count())
                .where(SyncRecord.pipeline_id == self.scope.pipeline_id)
                .group_by(SyncRecord.state)
            )
            return {state: count for state, count in s.exec(stmt)}

    # ----------------------------------------------------------------- intents

    def intents_in_scopes(self, scopes: Iterable[str]) -> dict[str, list[Any]]:
        """Every intent for the given writes, any source version, by scope (one query)."""
        found: dict[str, list[Any]] = {}
        with self.store.engine.connect() as conn:
            for chunk in in_chunks(list(dict.fromkeys(scopes))):
                stmt = select(
                    _INTENTS.c.key, _INTENTS.c.scope, _INTENTS.c.status, _INTENTS.c.target_id
                ).where(_INTENTS.c.scope.in_(chunk))
                for row in conn.execute(stmt):
                    found.setdefault(row.scope, []).append(row)
        return found

    def begin_intents(self, intents: list[tuple[str, str, str, int | None]]) -> None:
        """Durably note (key, scope, operation, record id) of the writes about to happen,
        before the first of their calls: one transaction for a whole unit of work."""
        if not intents:
            return
        now = utcnow()
        with self.store.engine.begin() as conn:
            self._hot.begin_intents.execute(
                conn,
                [
                    {
                        "key": key,
                        "scope": scope,
                        "tenant_id": self.scope.tenant_id,
                        "pipeline_id": self.scope.pipeline_id,
                        "record_id": record_id,
                        "operation": operation,
                        "status": "pending",
                        "created_at": now,
                    }
                    for key, scope, operation, record_id in intents
                ],
            )

    def commit(self, batch: Batch) -> None:
        """After the calls: results, bindings, audit events and transitions in ONE transaction."""
        if batch:
            now = utcnow()
            with self.store.engine.begin() as conn:
                if batch.results:
                    self._hot.complete_intents.execute(
                        conn,
                        [
                            {"k": k, "s": s, "t": t, "now": now}
                            for k, (s, t) in batch.results.items()
                        ],
                    )
                if batch.superseded:
                    conn.execute(
                        _INTENTS.update()
                        .where(
                            (_INTENTS.c.scope == bindparam("sc"))
                            & (_INTENTS.c.status == "pending")
                            & (_INTENTS.c.key != bindparam("k"))
                        )
                        .values(status="superseded", completed_at=now),
                        [{"sc": scope, "k": key} for scope, key in batch.superseded],
                    )
                if batch.bindings:
                    self.binder.write(conn, list(batch.bindings.values()))
                if batch.audits:
                    self._hot.audit.execute(conn, batch.audits)
                if batch.transitions:
                    self._transitions_core(conn, batch.transitions, now)
        for callback in batch.after_commit:
            callback()

    def _transitions_core(self, conn: Any, steps: list[Transition], now: datetime) -> None:
        updates, attempts = [], []
        for step in steps:
            current, state, error = step.record, step.state, step.error
            values: dict[str, Any] = {
                "rid": current.id,
                "state": state.value,
                "source_version": step.version or current.source_version,
                "updated_at": now,
                "next_attempt_at": step.next_attempt_at,
                "num": step.number,
            }
            if state is RecordState.SYNCED:
                values.update(
                    synced_version=step.version, reason=step.reason, error_class=None,
                    error_code=None, missing_key=None, attempt_count=0, retry_safe=True,
                )  # fmt: skip
            else:
                values.update(
                    synced_version=current.synced_version,
                    attempt_count=current.attempt_count + 1,
                    reason=step.reason or (error.message if error else None),
                    error_class=type(error).__name__ if error else None,
                    error_code=error.code if error else None,
                    missing_key=getattr(error, "missing", None),
                    retry_safe=_retry_safe(state, error),
                )
            updates.append(values)
            summary = error.summary() if error else ({"reason": step.reason} if step.reason else {})
            attempts.append(
                {
                    "record_id": current.id,
                    "from_state": current.state,
                    "to_state": state.value,
                    "started_at": step.started_at,
                    "finished_at": now,
                    "error": summary,
                    "request_summary": step.request_summary or {},
                }
            )
        record_counts.moving(conn, [(u["rid"], u["state"]) for u in updates], now)
        self._hot.move_records.execute(conn, updates)
        self._hot.attempts.execute(conn, attempts)

    # ----------------------------------------------------------------- bindings

    # The daily summaries (``daily.py``) reach the bindings through the journal, so these
    # names stay here as one-line hand-offs to the binder; every other caller uses
    # ``journal.binder`` directly.

    def binding(self, entity: str, external_id: str, target_kind: str) -> CrossReference | None:
        return self.binder.binding(entity, external_id, target_kind)

    def binding_row(
        self,
        entity: str,
        external_id: str,
        target_kind: str,
        target_id: str,
        snapshot: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self.binder.binding_row(entity, external_id, target_kind, target_id, snapshot)

    def bind(self, binding: CrossReference) -> None:
        self.binder.bind(binding)

    def bindings_for(self, entity: str, external_ids: list[str]) -> list[CrossReference]:
        return self.binder.bindings_for(entity, external_ids)

    def bindings_of(self, wanted: dict[str, list[str]]) -> list[Any]:
        return self.binder.bindings_of(wanted)

    def bound_to(self, target_kind: str, target_id: str) -> list[CrossReference]:
        return self.binder.bound_to(target_kind, target_id)

    # ----------------------------------------------------------------- audit & conflicts

    def audit(
        self,
        *,
        source_id: str,
        idempotency_key: str,
        operation: str,
        outcome: str,
        record_id: int | None = None,
        source_version: str | None = None,
        target_id: str | None = None,
        duration_ms: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An audit event as the row ``Batch.audits`` inserts (every column, for executemany)."""
        return {
            "tenant_id": self.scope.tenant_id,
            "pipeline_id": self.scope.pipeline_id,
            "record_id": record_id,
            "source_id": source_id,
            "source_version": source_version,
            "idempotency_key": idempotency_key,
            "operation": operation,
            "target_id": target_id,
            "outcome": outcome,
            "duration_ms": duration_ms,
            "attempt": 1,
            "at": utcnow(),
            "details": details or {},
        }

    def has_written(self, source_id: str, operation: str) -> bool:
        """Whether a write of ``operation`` for this source record reached the target."""
        stmt = (
            select(_AUDIT.c.id)
            .where(
                (_AUDIT.c.pipeline_id == self.scope.pipeline_id)
                & (_AUDIT.c.source_id == source_id)
                & (_AUDIT.c.operation == operation)
                & _AUDIT.c.outcome.in_(("ok", "adopted"))
            )
            .limit(1)
        )
        with self.store.engine.connect() as conn:
            return conn.execute(stmt).first() is not None

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


def _retry_safe(state: RecordState, error: SyncError | None) -> bool:
    """Whether re-running the record cannot double-post (intents make every write safe,
    so only records needing a person first are 'not yet')."""
    if state in (RecordState.CONFLICT,):
        return False
    return not (error is not None and error.needs_operator)


__all__ = [
    "SENT_OR_UNKNOWN",
    "Batch",
    "Journal",
    "RecordRow",
    "Scope",
    "Transition",
    "off_loop",
]
