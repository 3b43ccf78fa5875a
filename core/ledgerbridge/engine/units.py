"""Units of work: a window of changes given their durable outcomes.

A unit opens its records, plans each change (or skips, parks, summarizes it), runs the
planned writes through the executor, and commits every outcome with one ``Batch``.
Never raises for a bad record: a bug parks the record, it does not end the run.

Mixed into ``PipelineRunner`` (which sets the attributes named below).
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..canonical import Order
from ..config import PipelineConfig
from ..contracts.source import Change
from ..errors import AuthFailed, RateLimited, ReconnectNeeded, SyncError
from ..store import RecordState
from ..store.types import utcnow
from .batch import Batch, RecordRow, Transition
from .daily import DailySummaries
from .dryrun import Preflight
from .executor import Executor
from .journal import Journal, off_loop
from .outcomes import RecordOutcome
from .planner import MappingRuntime, Plan, plan_order
from .prior import plan_deletion, posted_for, prior_state

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
# A record parked in one of these states at source version V waits for a new version or an
# explicit replay: the same V delivered again (a webhook redelivery, a backstop poll) would
# only repeat what failed -- e.g. create, find the total wrong, void, on every pass.
HELD_STATES = frozenset({RecordState.FAILED.value, RecordState.CONFLICT.value})


class UnitProcessing(DailySummaries):
    """The unit-of-work half of ``PipelineRunner``."""

    pipeline: PipelineConfig
    runtime: MappingRuntime
    journal: Journal
    executor: Executor
    policy: str
    preflight: Preflight | None
    halted: ReconnectNeeded | None
    _db = staticmethod(off_loop)
    _halt: Callable[[str, AuthFailed], None]
    _emit: Callable[[RecordOutcome], RecordOutcome]

    @property
    def summarizing(self) -> bool:
        return self.policy == "daily_summary"

    async def process(
        self, change: Change, *, dry_run: bool = False, force: bool = False
    ) -> RecordOutcome:
        """Give one change a durable outcome (a unit of work of one record).

        A record a dead connection kept from its outcome comes back with ``state=None``
        (it is left as it was; ``self.halted`` says why)."""
        for outcome in await self.process_many([change], dry_run=dry_run, force=force):
            return outcome
        return RecordOutcome(
            self.pipeline.id, change.entity, change.external_id, change.version, None,
            reason=str(self.halted) if self.halted else "not processed",
        )  # fmt: skip

    async def process_many(
        self,
        changes: list[Change],
        *,
        dry_run: bool = False,
        force: bool = False,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> list[RecordOutcome]:
        """Give each change a durable outcome: one unit of work. Never raises for a bad record.

        A record appears at most once in ``changes``.  Returns the outcomes of the
        records processed: all of them, unless ``should_stop`` cut the unit short.
        """
        entity_ids: dict[str, list[str]] = {}
        for change in changes:
            entity_ids.setdefault(change.entity.value, []).append(change.external_id)
        records: dict[tuple[str, str], RecordRow] = {}
        for entity, ids in entity_ids.items():
            opened = await self._db(self.journal.open_records, entity, ids, create=not dry_run)
            records.update(((entity, i), r) for i, r in opened.items())

        batch = Batch()
        outcomes: dict[int, RecordOutcome] = {}
        todo: list[tuple[int, Change, RecordRow]] = []
        for index, change in enumerate(changes):
            record = records[(change.entity.value, change.external_id)]
            if not force and _seen_before(record, change):
                outcomes[index] = RecordOutcome(
                    self.pipeline.id, change.entity, change.external_id, change.version, None
                )
            else:
                todo.append((index, change, record))

        orders = [c.record for _, c, _ in todo if isinstance(c.record, Order) and not c.deleted]
        posted: dict[tuple[str, str], list[Any]] = {}
        if orders and not self.summarizing:
            for b in await self._db(posted_for, self.journal.binder, orders):
                posted.setdefault((b.entity, b.external_id), []).append(b)
        planned: list[tuple[int, Change, RecordRow, Plan, datetime]] = []
        for index, change, record in todo:
            started = utcnow()
            step = functools.partial(self._finish, batch, record, change, started)
            try:
                if isinstance(change.error, AuthFailed):
                    self._halt("source", change.error)
                    continue  # the record stays as it was: the source cannot be read now
                if change.error is not None:
                    raise change.error
                if change.deleted:
                    plan = await plan_deletion(self.journal, change)
                elif isinstance(change.record, Order) and self.summarizing:
                    outcomes[index] = await self._summarize(
                        change.record, change, record, step, dry_run, batch
                    )
                    continue
                elif isinstance(change.record, Order):
                    prior = prior_state(change.record, posted)
                    plan = plan_order(
                        change.record, self.runtime, self.policy, prior,
                        trigger=self.pipeline.posting_trigger, paid_when=self.pipeline.paid_when,
                    )  # fmt: skip
                    if dry_run and self.preflight is not None:
                        self.preflight.check(change.record, plan)  # raises what would park
                else:
                    reason = f"{change.entity.value} records are not posted by this pipeline"
                    outcomes[index] = step(RecordState.SKIPPED, reason=reason)
                    continue
                if dry_run:
                    outcomes[index] = RecordOutcome(
                        self.pipeline.id, change.entity, change.external_id, change.version,
                        _planned_state(plan), reason=plan.skipped or plan.waiting,
                        record_id=record.id or None, plan=plan,
                        number=_number_of(change),
                    )  # fmt: skip
                elif plan.skipped:
                    outcomes[index] = step(RecordState.SKIPPED, reason=plan.skipped)
                elif plan.waiting:
                    outcomes[index] = step(RecordState.WAITING, reason=plan.waiting)
                else:
                    planned.append((index, change, record, plan, started))
            except SyncError as exc:
                outcomes[index] = step(RecordState(exc.record_state), error=exc)
            except Exception as exc:  # a bug must park the record, not end the run
                log.exception(
                    "unexpected error processing %s %s", change.entity, change.external_id
                )
                outcomes[index] = step(
                    RecordState.FAILED, error=SyncError(f"internal error: {exc!r}")
                )

        if planned:
            results = await self.executor.run_unit(
                [(plan, record.id) for _, _, record, plan, _ in planned], batch, should_stop
            )
            for (index, change, record, _, started), result in zip(planned, results, strict=True):
                step = functools.partial(self._finish, batch, record, change, started)
                if result is None:
                    continue  # the unit stopped before this record: read again next time
                if isinstance(result, AuthFailed):
                    # Dead credentials say nothing about the record: it stays as it was
                    # (the write's intent is closed ``failed``: its call changed nothing).
                    self._halt("target", result)
                    continue
                if isinstance(result, SyncError):
                    outcomes[index] = step(RecordState(result.record_state), error=result)
                else:
                    writes = tuple((w.operation.value, outcome) for w, outcome in result)
                    outcomes[index] = step(RecordState.SYNCED, writes=writes)
        if not dry_run:
            await self._db(self.journal.commit, batch)
        ordered = [outcomes[i] for i in sorted(outcomes)]
        for outcome in ordered:
            self._emit(outcome)
        return ordered

    def _finish(
        self,
        batch: Batch,
        record: RecordRow,
        change: Change,
        started: datetime,
        state: RecordState,
        *,
        reason: str | None = None,
        error: SyncError | None = None,
        writes: tuple[tuple[str, str], ...] = (),
    ) -> RecordOutcome:
        """The record's new state, into the unit's batch (durable when the batch commits)."""
        next_attempt = self._next_attempt(record, error) if state is RecordState.RETRYING else None
        batch.transitions.append(
            Transition(
                record, state, started, version=change.version, error=error, reason=reason,
                next_attempt_at=next_attempt,
                request_summary={"writes": [list(w) for w in writes]} if writes else None,
                number=change.record.number if isinstance(change.record, Order) else None,
            )
        )  # fmt: skip
        return RecordOutcome(
            self.pipeline.id,
            change.entity,
            change.external_id,
            change.version,
            state,
            writes=writes,
            reason=reason or (error.message if error else None),
            record_id=record.id or None,
            error=error,
            number=_number_of(change),
        )

    @staticmethod
    def _next_attempt(record: RecordRow, error: SyncError | None) -> datetime:
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return utcnow() + timedelta(seconds=error.retry_after)
        backoff = min(RETRY_BASE * (2 ** min(record.attempt_count, 12)), RETRY_CAP)
        jitter = timedelta(seconds=backoff.total_seconds() * random.uniform(0, 0.2))
        when: datetime = utcnow() + backoff + jitter
        return when


def _planned_state(plan: Plan) -> RecordState:
    """A dry run's state for ``plan``: what a real run would record before any write."""
    if plan.skipped:
        return RecordState.SKIPPED
    return RecordState.WAITING if plan.waiting else RecordState.PENDING


def _seen_before(record: RecordRow, change: Change) -> bool:
    """Whether ``change`` is a re-delivery of a version that needs no work: synced at that
    version, or parked (``HELD_STATES``) at it -- a new version or ``replay`` retries it."""
    if change.version is None:
        return False
    if record.state == RecordState.SYNCED.value:
        return record.synced_version == change.version
    return record.state in HELD_STATES and record.source_version == change.version


def _number_of(change: Change) -> str | None:
    number = getattr(change.record, "number", None)
    return None if number is None else str(number)
