"""The engine API a host product calls (async; ``Engine.blocking`` for sync hosts).

    engine = Engine(load_config("ledgerbridge.yaml"))
    reports = await engine.sync()                 # every enabled pipeline, once
    await engine.sync("acme-orders", dry_run=True) # plans only: the writes with their payloads
    await engine.replay(state="needs_mapping")     # after fixing the mapping
    await engine.aclose()

Callbacks: ``on_record(RecordOutcome)`` after each record reaches an outcome;
``on_expect(pipeline_id, n)`` when a run learns that ``n`` more records are coming
(a page read, the due retries, the records to replay) -- for progress displays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlmodel import col, select

from ..errors import (
    ConfigError,
    SyncError,
    UnknownId,
)
from ..store import (
    AuditEvent,
    ConflictRecord,
    Connection,
    InboxEvent,
    Lease,
    RecordState,
    SyncRecord,
)
from ..store.types import utcnow
from .assembly import PipelineAssembly, reconnect_instruction
from .dryrun import Preflight
from .journal import Journal, Scope
from .lease import PipelineBusy, lease_name
from .runner import PipelineRunner, RecordOutcome, RunReport


@dataclass(frozen=True)
class PipelineStatus:
    tenant_id: str
    pipeline_id: str
    checkpoints: dict[str, str]
    states: dict[str, int]
    last_activity: str | None


class Engine(PipelineAssembly):
    """The engine API: sync, replay, webhooks' inbox, conflicts and the state an operator reads
    (pipeline assembly -- connectors, mappings, runners -- in ``PipelineAssembly``)."""

    # ----------------------------------------------------------------- operations

    async def sync(
        self,
        pipeline_id: str | None = None,
        *,
        dry_run: bool = False,
        since: str | None = None,
        backfill: bool = False,
    ) -> list[RunReport]:
        """Run pipelines once: read changes, post them, retry what is due.

        ``dry_run``: plan every change as a real run would and check the plans against
        the organisation (``engine/dryrun.py``), writing nothing -- neither to the store
        (no records, intents, checkpoints, audit events, leases) nor to the target."""
        if dry_run:
            return await self._dry_run(pipeline_id, since=since, backfill=backfill)
        await self.prepare()
        await self.verify_targets(pipeline_id)
        reports = []
        for _, pipeline in self.pipelines(pipeline_id):
            runner = self.runner(pipeline.id)
            try:
                reports.append(await runner.run(since=since, backfill=backfill, dry_run=dry_run))
            except PipelineBusy as exc:  # another live worker runs it: the others still run
                reports.append(RunReport(pipeline.id, dry_run=dry_run, busy=str(exc)))
        return reports

    async def _dry_run(
        self, pipeline_id: str | None, *, since: str | None, backfill: bool
    ) -> list[RunReport]:
        await anyio.to_thread.run_sync(self._check_schema)
        self.read_only = True
        try:
            await self.verify_targets(pipeline_id)
            reports = []
            for _, pipeline in self.pipelines(pipeline_id):
                runner = self.runner(pipeline.id)
                runner.preflight = Preflight(runner.runtime, runner.target, pipeline.target)
                reports.append(await runner.run(since=since, backfill=backfill, dry_run=True))
            return reports
        finally:
            self.read_only = False

    def _check_schema(self) -> None:
        """A dry run reads the store as it is: one ``migrate`` would change is refused."""
        url = self.store.engine.url
        missing_file = url.get_backend_name() == "sqlite" and not (
            url.database and (url.database == ":memory:" or Path(url.database).exists())
        )
        if missing_file or not self.store.schema_is_current():
            raise ConfigError(
                f"{self.config.path}: the store's schema is missing or out of date; run "
                f"`ledgerbridge migrate -c {self.config.path}` first (a dry run writes "
                "nothing, the schema included)"
            )

    async def replay(
        self,
        record_ids: list[int] | None = None,
        *,
        state: RecordState | str | None = None,
        tenant: str | None = None,
    ) -> list[RunReport]:
        """Re-run parked records safely (intents make a re-run unable to double-post)."""
        await self.prepare()
        records = await anyio.to_thread.run_sync(
            lambda: self._select_records(record_ids, state, tenant)
        )
        by_pipeline: dict[str, list[SyncRecord]] = {}
        for record in records:
            by_pipeline.setdefault(record.pipeline_id, []).append(record)
        reports = []
        catalogs = {e.pipeline.id for e in self.config.catalogs}
        for pipeline_id, group in by_pipeline.items():
            if pipeline_id in catalogs:  # a catalog pipeline's records (docs/catalog.md)
                from ..catalog.replay import replay_catalog

                await replay_catalog(self, pipeline_id, group)
                continue
            reports.append(await self.runner(pipeline_id).replay(group))
        return reports

    def _select_records(
        self, ids: list[int] | None, state: RecordState | str | None, tenant: str | None
    ) -> list[SyncRecord]:
        with self.store.session() as s:
            stmt = select(SyncRecord)
            if ids:
                stmt = stmt.where(col(SyncRecord.id).in_(ids))
            if state is not None:
                stmt = stmt.where(SyncRecord.state == RecordState(state).value)
            if tenant is not None:
                stmt = stmt.where(SyncRecord.tenant_id == tenant)
            if not ids and state is None:
                parked = [RecordState.FAILED, RecordState.NEEDS_MAPPING, RecordState.CONFLICT]
                stmt = stmt.where(col(SyncRecord.state).in_([p.value for p in parked]))
            return list(s.exec(stmt.order_by(col(SyncRecord.id))))

    async def process_inbox(
        self, limit: int = 500, *, skip: frozenset[str] = frozenset()
    ) -> list[RecordOutcome]:
        """Process stored webhook events through the same path as polling; events of the
        pipelines in ``skip`` (running now, in this process) wait for a later drain."""
        await self.prepare()
        outcomes: list[RecordOutcome] = []
        events = await anyio.to_thread.run_sync(lambda: self.store.pending_inbox(limit=limit))
        for event in events:
            for tenant, pipeline in self.pipelines():
                if f"{tenant.id}/{pipeline.source}" != event.connection_id:
                    continue
                if pipeline.id in skip:
                    break  # its pipeline is running: the event waits for the next drain
                runner = self.runner(pipeline.id)
                try:
                    async with runner.lease():
                        if await runner.target_reachable():
                            outcome = await runner.handle_event(event)
                except PipelineBusy:
                    break  # another worker runs the pipeline: the event waits for later
                if runner.halted is not None:  # dead credentials: the event waits as well
                    await runner.record_halt()
                    break
                outcomes.append(outcome)
            else:
                await anyio.to_thread.run_sync(self._mark_processed, event.id)
        return outcomes

    async def work(
        self,
        pipeline_id: str,
        *,
        holder: str | None = None,
        max_pages: int | None = 1,
        lease_ttl: timedelta | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> RunReport:
        """One bounded share of a pipeline's work -- a distributed worker's unit of dispatch
        (``engine/share.py``): waiting webhook events, due retries, at most ``max_pages``
        pages, closed summary days, under the pipeline's lease renewed by a heartbeat.
        ``report.more`` says the pipeline has work left."""
        from .share import run_share

        await self.prepare()
        await self.verify_targets(pipeline_id)
        runner = self.runner(pipeline_id)
        if holder is not None:
            runner.holder = holder
        if lease_ttl is not None:
            runner.lease_ttl = lease_ttl
        [(tenant, pipeline)] = self.pipelines(pipeline_id)
        outside = should_stop or (lambda: False)
        return await run_share(
            self.store,
            runner,
            f"{tenant.id}/{pipeline.source}",
            max_pages=max_pages,
            should_stop=lambda: self.should_stop() or outside(),
            mark_processed=self._mark_processed,
        )

    def _mark_processed(self, event_id: int | None) -> None:
        with self.store.session() as s:
            row = s.get(InboxEvent, event_id)
            if row is not None:
                row.status, row.processed_at = "processed", utcnow()
                s.add(row)

    # ----------------------------------------------------------------- conflicts

    def conflicts(self, *, tenant: str | None = None) -> list[ConflictRecord]:
        with self.store.session() as s:
            stmt = select(ConflictRecord).where(ConflictRecord.status == "open")
            if tenant is not None:
                stmt = stmt.where(ConflictRecord.tenant_id == tenant)
            return list(s.exec(stmt.order_by(col(ConflictRecord.id))))

    async def resolve_conflict(self, conflict_id: int, keep: str) -> RecordOutcome | None:
        """``keep="source"`` re-posts the source version over the target's edit;
        ``keep="target"`` accepts the target's version and re-baselines on it."""
        if keep not in ("source", "target"):
            raise ValueError("keep must be 'source' or 'target'")
        await self.prepare()
        conflict = await anyio.to_thread.run_sync(self._get_conflict, conflict_id)
        if conflict.entity == "catalog_field":  # a catalog pipeline's (docs/catalog.md)
            from ..catalog.resolve import resolve_catalog_conflict

            await resolve_catalog_conflict(self, conflict, keep)
            return None
        runner = self.runner(conflict.pipeline_id, source_wins=keep == "source")
        await anyio.to_thread.run_sync(runner.journal.resolve_conflict, conflict_id, keep)
        record = runner.journal.get(conflict.record_id) if conflict.record_id else None
        if record is None:
            return None
        if keep == "target":
            await self._rebaseline(runner, conflict)
            record_id = record.id
            assert record_id is not None
            await anyio.to_thread.run_sync(
                lambda: runner.journal.transition(
                    record_id,
                    RecordState.SYNCED,
                    started_at=utcnow(),
                    version=record.source_version,
                    reason=f"conflict {conflict_id} resolved: kept the target's version",
                )
            )
            return None
        async with runner.lease():
            await runner.check_target()
            return await runner.refetch(record)

    def _get_conflict(self, conflict_id: int) -> ConflictRecord:
        with self.store.session() as s:
            row = s.get(ConflictRecord, conflict_id)
            if row is None:
                raise UnknownId(f"no conflict {conflict_id}")
            return row

    async def _rebaseline(self, runner: PipelineRunner, conflict: ConflictRecord) -> None:
        binding = await anyio.to_thread.run_sync(
            lambda: [
                b
                for b in runner.journal.binder.bindings_for("order", [conflict.external_id])
                if b.target_kind in ("invoice", "sales_receipt")
            ]
        )
        for b in binding:
            snapshot = dict(b.snapshot)
            snapshot["last_modified"] = conflict.target_snapshot.get("last_modified")
            snapshot["fingerprint"] = "accepted-target-version"
            b.snapshot = snapshot
            await anyio.to_thread.run_sync(runner.journal.binder.bind, b)

    # ----------------------------------------------------------------- reading state

    def status(self) -> list[PipelineStatus]:
        out = []
        for tenant, pipeline in self.config.pipelines():
            journal = Journal(self.store, Scope(tenant.id, pipeline.id, "", ""))
            checkpoints = {
                e.value: cp
                for e in pipeline.entities
                if (cp := self.store.get_checkpoint(pipeline.id, e.value)) is not None
            }
            with self.store.session() as s:
                last = s.exec(
                    select(SyncRecord.updated_at)
                    .where(SyncRecord.pipeline_id == pipeline.id)
                    .order_by(col(SyncRecord.updated_at).desc())
                ).first()
            out.append(
                PipelineStatus(
                    tenant.id,
                    pipeline.id,
                    checkpoints,
                    journal.state_counts(),
                    last.isoformat() if last else None,
                )
            )
        return out

    def leases(self) -> list[Lease]:
        """Every lease in the store: pipeline runs and token refreshes, with holder and expiry."""
        return self.store.leases()

    def pipeline_lease(self, pipeline_id: str) -> Lease | None:
        """The lease of a pipeline the config defines (``UnknownId`` for any other name)."""
        self.pipelines(pipeline_id)
        return self.store.get_lease(lease_name(pipeline_id))

    def unlock(self, pipeline_id: str, holder: str) -> bool:
        """Release a pipeline's lease held by ``holder`` (the one the operator confirmed)."""
        self.pipelines(pipeline_id)
        return self.store.break_lease(lease_name(pipeline_id), holder)

    def needing_reconnect(self) -> list[Connection]:
        """Connections a run found with dead credentials, not mended since."""
        return self.store.needing_reconnect()

    async def limits(self) -> dict[str, dict[str, Any] | None]:
        """Each target connection's rate-limit state (one cheap call per organisation)."""
        await self.prepare()
        out: dict[str, dict[str, Any] | None] = {}
        for tenant, pipeline in self.pipelines():
            conn_id = f"{tenant.id}/{pipeline.target}"
            if conn_id in out:
                continue
            target = self._connector(tenant, pipeline.target, pipeline.rounding_tolerance)
            try:
                out[conn_id] = await target.limits()
            except SyncError as exc:
                out[conn_id] = {"error": exc.message}
        return out

    def failures(
        self, states: list[RecordState] | None = None, *, tenant: str | None = None
    ) -> list[SyncRecord]:
        wanted = states or [RecordState.FAILED, RecordState.NEEDS_MAPPING, RecordState.RETRYING]
        with self.store.session() as s:
            stmt = select(SyncRecord).where(col(SyncRecord.state).in_([w.value for w in wanted]))
            if tenant is not None:
                stmt = stmt.where(SyncRecord.tenant_id == tenant)
            return list(s.exec(stmt.order_by(col(SyncRecord.id))))

    def audit(self, source_id: str) -> list[AuditEvent]:
        with self.store.session() as s:
            stmt = (
                select(AuditEvent)
                .where(AuditEvent.source_id == source_id)
                .order_by(col(AuditEvent.id))
            )
            return list(s.exec(stmt))

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


__all__ = ["Engine", "PipelineStatus", "reconnect_instruction"]
