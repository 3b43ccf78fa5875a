"""One pipeline run: read changes, turn each into a durable outcome, advance the checkpoint.

Units of work are store-backed so a task queue can dispatch them later:
``process_many`` gives a window of one page's changes their outcomes (``process``
is a window of one), ``run`` walks pages and stores a page's checkpoint once
every change on it is durable.  Nothing here relies on process-local state for
correctness -- the lease, intents, bindings and checkpoints all live in the store.
"""

from __future__ import annotations

import functools
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..canonical import EntityType, Order
from ..config import PipelineConfig
from ..contracts.source import Change, ChangePage, Source
from ..contracts.target import Target, TargetIdentity
from ..errors import (
    AuthFailed,
    NotFound,
    RateLimited,
    ReconnectNeeded,
    SyncError,
)
from ..plan import Link
from ..store import InboxEvent, RecordState, Store, SyncRecord
from ..store.types import utcnow
from .daily import DailySummaries
from .dryrun import Preflight
from .executor import Executor
from .identities import Identities
from .journal import Batch, Journal, RecordRow, Transition, off_loop
from .lease import LEASE_TTL, PipelineBusy, PipelineLease, lease_name
from .outcomes import RecordOutcome, RunReport
from .planner import (
    MappingRuntime,
    Operation,
    Plan,
    PlannedWrite,
    PostedDocument,
    PriorState,
    plan_order,
)

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
UNIT_SECONDS = 0.25  # remote-call time one unit of work aims at (see ``_size_units``)
MAX_UNIT = 500
# A record parked in one of these states at source version V waits for a new version or an
# explicit replay: the same V delivered again (a webhook redelivery, a backstop poll) would
# only repeat what failed -- e.g. create, find the total wrong, void, on every pass.
HELD_STATES = frozenset({RecordState.FAILED.value, RecordState.CONFLICT.value})


OnRecord = Callable[[RecordOutcome], None]
OnExpect = Callable[[str, int], None]  # (pipeline id, records more (or fewer) to come)


class PipelineRunner(DailySummaries):
    def __init__(
        self,
        *,
        pipeline: PipelineConfig,
        tenant_id: str,
        source: Source,
        target: Target,
        runtime: MappingRuntime,
        journal: Journal,
        store: Store,
        holder: str,
        organization_id: str | None = None,
        source_wins: bool = False,
        on_record: OnRecord | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.tenant_id = tenant_id
        self.source = source
        self.target = target
        self.runtime = runtime
        self.journal = journal
        self.store = store
        self.holder = holder
        self.organization_id = organization_id
        self.on_record = on_record
        self.on_expect: OnExpect | None = None
        self.should_stop: Callable[[], bool] = lambda: False
        self.today: Callable[[], date] = lambda: utcnow().date()
        self.executor = Executor(target, journal, source_wins=source_wins)
        # The pipeline may override the mapping's posting policy.
        self.policy: str = pipeline.posting_policy or runtime.posting_policy
        self._identity: TargetIdentity | None = None
        # Set by the engine: the identities its runners share (``identities.py``).
        self.identities: Identities | None = None
        self._asked_target = False  # whether ``_identity`` was asked for in this run
        self.unit_size = 1  # grows with the target's pace (``_size_units``)
        self._lease: PipelineLease | None = None
        # The dead connection that stopped this run (see ``_halt``), and the command that
        # mends each connection (the engine fills it in: ``ledgerbridge connect ...``).
        self.halted: ReconnectNeeded | None = None
        self.reconnect: dict[str, str] = {}
        self.lease_ttl = LEASE_TTL  # a worker renews a short lease from a heartbeat instead
        # A dry run's check of each plan against the organisation (``engine/dryrun.py``):
        # what the target would refuse, from look-ups read once per run.
        self.preflight: Preflight | None = None

    _db = staticmethod(off_loop)

    @property
    def summarizing(self) -> bool:
        return self.policy == "daily_summary"

    def stopping_when(self, should_stop: Callable[[], bool]) -> PipelineRunner:
        """Check ``should_stop`` between records (graceful shutdown of ``ledgerbridge run``)."""
        self.should_stop = should_stop
        return self

    # ----------------------------------------------------------------- run

    async def run(
        self,
        *,
        since: str | None = None,
        backfill: bool = False,
        dry_run: bool = False,
        max_pages: int | None = None,
    ) -> RunReport:
        """Read, post and retry; a dead connection stops the run (``report.halted``), leaving
        every record it did not reach as it was.  ``max_pages``: at most that many pages per
        entity -- a distributed worker's bounded share; ``report.more`` says work remains."""
        report = RunReport(self.pipeline.id, dry_run=dry_run)
        # A dry run writes nothing and takes no lease: it runs beside a real run.
        held: AbstractAsyncContextManager[Any] = nullcontext() if dry_run else self.lease()
        async with held:
            try:
                if await self.target_reachable(dry_run=dry_run):
                    if dry_run and self.preflight is not None:
                        await self.preflight.load()
                    if not dry_run:  # a dry run writes nothing: no proof to ask for
                        await self._decide_trust()
                    for entity in self.pipeline.entities:
                        await self._read(
                            entity, report, since=since, backfill=backfill, dry_run=dry_run,
                            max_pages=max_pages,
                        )  # fmt: skip
                        if self.should_stop() or self.halted:
                            report.more = self.halted is None
                            break
                    else:
                        if not dry_run:
                            await self.retry_due(report)
                            if self.summarizing and not self.halted:
                                report.writes += len(await self.close_days(self.today()))
            except AuthFailed as exc:  # e.g. a daily summary's post
                self._halt("target", exc)
        if dry_run:
            report.halted = self.halted  # said, not recorded: a dry run writes nothing
        else:
            await self.record_halt(report)
        return report

    async def target_reachable(self, *, dry_run: bool = False) -> bool:
        """``check_target``; a dead target connection halts the run (``halted``) before any
        record is touched, and one that answers clears its "needs reconnecting" mark."""
        try:
            await self.check_target()
        except AuthFailed as exc:
            self._halt("target", exc)
            return False
        if not dry_run and self._asked_target:  # a remembered answer proves no reconnect
            await self._db(
                self.store.clear_needs_reconnect, self.journal.scope.target_connection_id
            )
        return True

    def _halt(self, side: str, error: AuthFailed) -> None:
        """Credentials that cannot work until a person reconnects: stop at the first sign.

        Every later record would fail the same way (and each would ask the platform for a
        token again); they stay as they are -- pending, or due for retry -- not failed."""
        if self.halted is not None:
            return
        scope = self.journal.scope
        conn = scope.target_connection_id if side == "target" else scope.source_connection_id
        if side == "target" and self.identities is not None:
            self.identities.forget(conn)  # the next run asks the target again
        instruction = self.reconnect.get(conn) or f"renew the credentials of connection {conn}"
        self.halted = ReconnectNeeded(conn, instruction, error)
        log.error("%s", self.halted)

    async def record_halt(self, report: RunReport | None = None) -> None:
        """A halted run marks the dead connection in the store (``status`` shows it)."""
        if self.halted is not None:
            if report is not None:
                report.halted = self.halted
            await self._db(
                self.store.mark_needs_reconnect, self.halted.connection_id, str(self.halted)
            )

    async def _read(
        self,
        entity: EntityType,
        report: RunReport,
        *,
        since: str | None,
        backfill: bool,
        dry_run: bool,
        max_pages: int | None = None,
    ) -> None:
        checkpoint = since or await self._db(self.store.get_checkpoint, self.pipeline.id, entity)
        pages: AsyncIterator[ChangePage]
        if backfill:
            start = datetime.fromisoformat(since) if since else None
            pages = self.source.backfill(entity, start)
        else:
            pages = self.source.changes(entity, checkpoint)
        try:
            read, resumable = 0, False
            seen, announced = 0, 0  # progress: records read, records announced (``on_expect``)
            async for page in pages:
                if max_pages is not None and read >= max_pages and resumable:
                    # A bounded share is done and the stored checkpoint resumes right here.
                    report.more = True
                    aclose = getattr(pages, "aclose", None)
                    if aclose is not None:
                        await aclose()
                    return
                hint = seen + page.remaining if page.remaining is not None else 0
                seen += len(page.changes)
                if max(seen, hint) > announced:
                    self._expect(max(seen, hint) - announced)
                    announced = max(seen, hint)
                read += 1
                resumable = bool(page.checkpoint) and not dry_run
                if not await self._page(page, entity, report, dry_run):
                    report.more = True
                    return
            if announced > seen:  # the read is over: the platform's count was an estimate
                self._expect(seen - announced)
        except AuthFailed as exc:
            self._halt("source", exc)

    async def _page(
        self, page: ChangePage, entity: EntityType, report: RunReport, dry_run: bool
    ) -> bool:
        """Give a page's changes their outcomes, then store its checkpoint; ``False``: stopped."""
        for unit in self._units(page.changes):
            began = time.perf_counter()
            outcomes = await self.process_many(unit, dry_run=dry_run, should_stop=self._stopping)
            self._size_units(time.perf_counter() - began, outcomes)
            for outcome in outcomes:
                report.add(outcome)
            if self._stopping():
                # Stopped between records: the page's checkpoint is not stored, so the
                # rest of the page is read again next time (already-synced ones are no-ops).
                return False
            await self._renew(every=self.lease_ttl / 4)
        if page.checkpoint and not dry_run:
            # Every change above has a durable outcome: the checkpoint may move past them.
            await self._db(self.store.set_checkpoint, self.pipeline.id, entity, page.checkpoint)
            report.checkpoints[entity.value] = page.checkpoint
            await self._renew()
        return True

    def _stopping(self) -> bool:
        return self.should_stop() or self.halted is not None

    def _units(self, changes: list[Change]) -> Iterator[list[Change]]:
        """Split a page into units of work of the current size; a record appears at most
        once per unit (a later change to it starts the next one)."""
        unit: list[Change] = []
        seen: set[tuple[EntityType, str]] = set()
        for change in changes:
            key = (change.entity, change.external_id)
            if len(unit) >= self.unit_size or key in seen:
                yield unit
                unit, seen = [], set()
            unit.append(change)
            seen.add(key)
        if unit:
            yield unit

    def _size_units(self, seconds: float, outcomes: list[RecordOutcome]) -> None:
        """Size the next unit so its remote calls take about ``UNIT_SECONDS``.

        A crash inside a unit leaves its intents without results, and each costs a
        look-up in the target on the next run: against a slow, rate-limited target
        a unit is a record or two; against a fast one the bookkeeping of hundreds
        of records is shared by a few transactions."""
        writes = sum(len(o.writes) for o in outcomes)
        if not writes:
            return  # records with nothing to write say nothing about the target's pace
        per_write = seconds / writes
        per_record = per_write * max(1.0, writes / max(1, len(outcomes)))
        wanted = int(UNIT_SECONDS / per_record) if per_record > 0 else MAX_UNIT
        self.unit_size = max(1, min(MAX_UNIT, wanted, self.unit_size * 4))

    async def check_target(self) -> TargetIdentity:
        """Refuse to run against an organisation the credentials cannot reach."""
        if self._identity is None:
            conn = self.journal.scope.target_connection_id
            known = self.identities.get(conn) if self.identities is not None else None
            self._asked_target = known is None
            self._identity = known or await self.target.identity()
            if known is None and self.identities is not None:
                self.identities.put(conn, self._identity)
        return self._identity

    async def _decide_trust(self) -> None:
        """Whether the store's intents can vouch that a write was never attempted.

        When the pipeline has run before (it holds a checkpoint). A first run -- or a run
        on a store that was lost and recreated -- may meet documents the store knows
        nothing of, so each create is searched for first, unless the target proves it
        holds nothing we could have written (``Target.holds_nothing_written``, one probe
        per such run): then every write of the run has its intent, and they vouch.
        A crash before the first checkpoint makes the next run probe again, and find
        what this one wrote. ``search_before_create: always`` keeps the search on every run."""
        if self.pipeline.search_before_create == "always":
            self.executor.trust_intents = False
            return
        marks = await self._db(
            lambda: [self.store.get_checkpoint(self.pipeline.id, e) for e in self.pipeline.entities]
        )
        if any(mark is not None for mark in marks):
            self.executor.trust_intents = True
            return
        try:
            self.executor.trust_intents = await self.target.holds_nothing_written()
        except AuthFailed:
            raise
        except SyncError as exc:  # no proof: search before each create, as before
            log.info("pipeline %s: cold-start probe failed (%s); searching", self.pipeline.id, exc)
            self.executor.trust_intents = False

    # ----------------------------------------------------------------- records

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
            for b in await self._db(self._posted_for, orders):
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
                    plan = await self._plan_deletion(change)
                elif isinstance(change.record, Order) and self.summarizing:
                    outcomes[index] = await self._summarize(
                        change.record, change, record, step, dry_run, batch
                    )
                    continue
                elif isinstance(change.record, Order):
                    prior = self._prior(change.record, posted)
                    plan = plan_order(change.record, self.runtime, self.policy, prior)
                    if dry_run and self.preflight is not None:
                        self.preflight.check(change.record, plan)  # raises what would park
                else:
                    reason = f"{change.entity.value} records are not posted by this pipeline"
                    outcomes[index] = step(RecordState.SKIPPED, reason=reason)
                    continue
                if dry_run:
                    outcomes[index] = RecordOutcome(
                        self.pipeline.id, change.entity, change.external_id, change.version,
                        RecordState.SKIPPED if plan.skipped else RecordState.PENDING,
                        reason=plan.skipped, record_id=record.id or None, plan=plan,
                        number=_number_of(change),
                    )  # fmt: skip
                elif plan.skipped:
                    outcomes[index] = step(RecordState.SKIPPED, reason=plan.skipped)
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

    def _expect(self, count: int) -> None:
        """Progress: ``count`` more records to come (fewer, when negative: a correction)."""
        if self.on_expect is not None and count:
            self.on_expect(self.pipeline.id, count)

    def _emit(self, outcome: RecordOutcome) -> RecordOutcome:
        if self.on_record is not None:
            self.on_record(outcome)
        return outcome

    @staticmethod
    def _next_attempt(record: RecordRow, error: SyncError | None) -> datetime:
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return utcnow() + timedelta(seconds=error.retry_after)
        backoff = min(RETRY_BASE * (2 ** min(record.attempt_count, 12)), RETRY_CAP)
        jitter = timedelta(seconds=backoff.total_seconds() * random.uniform(0, 0.2))
        when: datetime = utcnow() + backoff + jitter
        return when

    # ----------------------------------------------------------------- prior state

    def _posted_for(self, orders: list[Order]) -> list[Any]:
        """What was posted before for a unit's orders, their payments and refunds (one query)."""
        return self.journal.bindings_of(
            {
                "order": [o.source.external_id for o in orders],
                "payment": [p.external_id for o in orders for p in o.payments],
                "refund": [r.source.external_id for o in orders for r in o.refunds],
            }
        )

    @staticmethod
    def _prior(order: Order, posted: dict[tuple[str, str], list[Any]]) -> PriorState:
        """What was posted before for ``order`` (``posted``: the unit's bindings by record)."""
        mine = [
            ("order", order.source.external_id),
            *(("payment", p.external_id) for p in order.payments),
            *(("refund", r.source.external_id) for r in order.refunds),
        ]
        found = [b for key in mine for b in posted.get(key, ())]
        docs = {b.target_kind: b for b in found if b.entity == "order"}
        document = None
        for kind in ("invoice", "sales_receipt"):
            if kind in docs:
                document = PostedDocument(kind, docs[kind].target_id, dict(docs[kind].snapshot))
        payments = [b for b in found if b.entity == "payment"]
        refunds = [b for b in found if b.entity == "refund"]
        return PriorState(
            document=document,
            voided="void" in docs,
            payments=frozenset(b.external_id for b in payments),
            credit_notes={
                b.external_id: b.target_id for b in refunds if b.target_kind == "credit_note"
            },
            credit_refunds=frozenset(
                b.external_id for b in refunds if b.target_kind == "credit_refund"
            ),
            applications={
                b.external_id: _decimal(b.snapshot.get("amount"))
                for b in refunds
                if b.target_kind == "credit_application"
            },
        )

    async def _plan_deletion(self, change: Change) -> Plan:
        """A record deleted at the source: void its unpaid document, if any."""
        plan = Plan(order_key=change.external_id, version=change.version)
        docs = await self._db(self.journal.bindings_for, "order", [change.external_id])
        kinds = {b.target_kind: b for b in docs}
        if "invoice" not in kinds or "void" in kinds:
            plan.skipped = (
                f"{change.entity.value} {change.external_id} deleted at the source; "
                "nothing posted to undo"
            )
            return plan
        paid = await self._db(
            self.journal.has_written, change.external_id, Operation.RECORD_PAYMENT.value
        )
        if paid:
            raise SyncError(
                f"order {change.external_id} was deleted at the source after payment; "
                "its invoice is left as is -- review it in the target"
            )
        invoice = kinds["invoice"]
        ref = Link(key=f"document:{invoice.target_id}", target_id=invoice.target_id)
        plan.writes.append(
            PlannedWrite(
                Operation.VOID_DOCUMENT,
                "order",
                change.external_id,
                "void",
                f"order {change.external_id} deleted at the source before payment: void",
                ref=ref,
            )
        )
        return plan

    # ----------------------------------------------------------------- re-runs

    async def refetch(self, record: RecordRow | SyncRecord, *, force: bool = True) -> RecordOutcome:
        """Read the record again from the source and process it (retries, replays, webhooks)."""
        entity = EntityType(record.entity)
        try:
            fresh = await self.source.fetch(entity, record.external_id)
            change = Change(entity, record.external_id, _version_of(fresh), record=fresh)
        except NotFound:
            change = Change(entity, record.external_id, None, deleted=True)
        except SyncError as exc:
            change = Change(entity, record.external_id, record.source_version, error=exc)
        return await self.process(change, force=force)

    async def retry_due(self, report: RunReport | None = None) -> list[RecordOutcome]:
        due = await self._db(self.journal.records, [RecordState.RETRYING], utcnow())
        self._expect(len(due))
        outcomes = []
        for record in due:
            if self._stopping():
                break
            outcome = await self.refetch(record)
            if self.halted is not None:
                break
            outcomes.append(outcome)
            if report is not None:
                report.add(outcome)
        return outcomes

    async def replay(self, records: list[SyncRecord]) -> RunReport:
        """Run parked records again, each read fresh from the source (``force``: even at
        the version they were parked at)."""
        report = RunReport(self.pipeline.id)
        async with self.lease():
            if await self.target_reachable():
                self._expect(len(records))
                for record in records:
                    outcome = await self.refetch(record)
                    if self.halted is not None:
                        break
                    report.add(outcome)
        await self.record_halt(report)
        return report

    async def handle_event(self, event: InboxEvent) -> RecordOutcome:
        """A webhook is a hint: read the authoritative record, then process it as a change."""
        entity = EntityType(event.entity)
        if event.deleted:
            change = Change(entity, event.external_id, event.version, deleted=True)
            return await self.process(change)
        record = await self._db(self.journal.record, event.entity, event.external_id)
        return await self.refetch(record, force=False)

    # ----------------------------------------------------------------- lease

    def lease(self) -> PipelineLease:
        self._lease = PipelineLease(self.store, self.pipeline.id, self.holder, self.lease_ttl)
        # A new tenure of the lease: what the target read in bulk before it answers nothing
        # now (``Target.prepare_lookups``; another holder may have written in between).
        self.executor.lookup_scope = uuid.uuid4().hex
        return self._lease

    async def _renew(self, every: timedelta | None = None) -> None:
        """Extend the lease (``every``: only when that long has passed since the last time)."""
        if self._lease is not None:
            await self._lease.renew(every)

    @property
    def lease_name(self) -> str:
        """The store lease that makes one run of the pipeline at a time, on any host."""
        return lease_name(self.pipeline.id)


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


def _version_of(record: Any) -> str | None:
    source = getattr(record, "source", None)
    return getattr(source, "version", None)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


__all__ = ["HELD_STATES", "PipelineBusy", "PipelineRunner", "RecordOutcome", "RunReport"]
