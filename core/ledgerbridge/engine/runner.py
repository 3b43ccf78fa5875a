"""One pipeline run: read changes, turn each into a durable outcome, advance the checkpoint.

Units of work are store-backed so a task queue can dispatch them later:
``process_many`` gives a window of one page's changes their outcomes (``process``
is a window of one), ``run`` walks pages and stores a page's checkpoint once
every change on it is durable.  Nothing here relies on process-local state for
correctness -- the lease, intents, bindings and checkpoints all live in the store.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import date, timedelta
from typing import Any

from ..config import PipelineConfig
from ..contracts.source import Source
from ..contracts.target import Target, TargetIdentity
from ..errors import AuthFailed, ReconnectNeeded, SyncError
from ..store import Store
from ..store.types import utcnow
from .dryrun import Preflight
from .executor import Executor
from .identities import Identities
from .journal import Journal, off_loop
from .lease import LEASE_TTL, PipelineBusy, PipelineLease, lease_name
from .outcomes import RecordOutcome, RunReport
from .pages import PageReading
from .planner import MappingRuntime
from .reruns import Reruns
from .units import HELD_STATES

log = logging.getLogger(__name__)


OnRecord = Callable[[RecordOutcome], None]
OnExpect = Callable[[str, int], None]  # (pipeline id, records more (or fewer) to come)


class PipelineRunner(PageReading, Reruns):
    """One pipeline's runs: the page walk (``pages``), units of work (``units``), re-runs
    (``reruns``) and daily summaries (``daily``) share the attributes set here."""

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
                                # a day whose money is left undone is counted as parked
                                report.states["failed"] += len(self.money_left)
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

    def _stopping(self) -> bool:
        return self.should_stop() or self.halted is not None

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
        if await self._db(self.journal.ran_before, self.pipeline.entities):
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

    def _expect(self, count: int) -> None:
        """Progress: ``count`` more records to come (fewer, when negative: a correction)."""
        if self.on_expect is not None and count:
            self.on_expect(self.pipeline.id, count)

    def _emit(self, outcome: RecordOutcome) -> RecordOutcome:
        if self.on_record is not None:
            self.on_record(outcome)
        return outcome

    # ----------------------------------------------------------------- lease

    def lease(self) -> PipelineLease:
        self._lease = PipelineLease(self.store, self.pipeline.id, self.holder, self.lease_ttl)
        # A new tenure of the lease: what the target read in bulk before it answers nothing
        # now (``Target.prepare_lookups``; another holder may have written in between).
        self.executor.master.lookup_scope = uuid.uuid4().hex
        return self._lease

    async def _renew(self, every: timedelta | None = None) -> None:
        """Extend the lease (``every``: only when that long has passed since the last time)."""
        if self._lease is not None:
            await self._lease.renew(every)

    @property
    def lease_name(self) -> str:
        """The store lease that makes one run of the pipeline at a time, on any host."""
        return lease_name(self.pipeline.id)


__all__ = ["HELD_STATES", "PipelineBusy", "PipelineRunner", "RecordOutcome", "RunReport"]
