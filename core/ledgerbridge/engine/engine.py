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

from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ..canonical import DEFAULT_ROUNDING_TOLERANCE
from ..config import LoadedConfig, PipelineConfig, TenantConfig, connection_models
from ..contracts.context import Clock, ConnectorContext, ProcessLocalLocks, SystemClock
from ..contracts.source import Source
from ..contracts.target import Target
from ..errors import (
    AuthFailed,
    ConfigError,
    LedgerbridgeError,
    ReconnectNeeded,
    SyncError,
    UnknownId,
)
from ..limits import LimiterProvider
from ..plugins import Registry, get_registry
from ..store import (
    AuditEvent,
    ConflictRecord,
    Connection,
    InboxEvent,
    Lease,
    RecordState,
    Store,
    SyncRecord,
)
from ..store.adapters import StoreCredentials, StoreLocks, default_holder
from ..store.types import utcnow
from . import tenancy
from .dryrun import Preflight, ReadOnlyCredentials
from .identities import Identities
from .journal import Journal, Scope
from .lease import PipelineBusy, lease_name
from .planner import MappingRuntime
from .runner import OnExpect, OnRecord, PipelineRunner, RecordOutcome, RunReport


@dataclass(frozen=True)
class PipelineStatus:
    tenant_id: str
    pipeline_id: str
    checkpoints: dict[str, str]
    states: dict[str, int]
    last_activity: str | None


class Engine:
    def __init__(
        self,
        config: LoadedConfig,
        store: Store | None = None,
        *,
        registry: Registry | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        on_record: OnRecord | None = None,
        holder: str | None = None,
        clock: Clock | None = None,
        limiters: LimiterProvider | None = None,
        on_expect: OnExpect | None = None,
    ) -> None:
        self.config = config
        self.on_expect = on_expect  # progress: n more records coming for a pipeline
        # Rate limits of target accounts: this process's (embedded) unless given, or the
        # config's ``workers: {limits: redis}`` shares them through Redis.
        self.limiters = limiters if limiters is not None else _configured_limiters(config)
        self.store = store or Store(config.config.database)
        self.registry = registry or get_registry()
        self.transports = dict(transports or {})
        self.clock = clock or SystemClock()
        self.on_record = on_record
        self.should_stop: Callable[[], bool] = lambda: False
        self.holder = holder or default_holder()
        self.locks = StoreLocks(self.store, self.holder)
        self._stack = AsyncExitStack()
        self._connectors: dict[str, Source | Target] = {}
        self._runtimes: dict[str, MappingRuntime] = {}
        self._prepared = False
        self._verified: set[str] = set()  # target connections checked at startup
        self.identities = Identities()  # what each target connection answered (identities.py)
        self._claimed: set[str] = set()  # accounts this start bound (``_bind_accounts``)
        self.read_only = False  # a dry run's connectors: nothing they do reaches the store

    # ----------------------------------------------------------------- setup

    async def prepare(self) -> None:
        """Migrate the store and register tenants and connections (idempotent)."""
        if self._prepared:
            return
        await anyio.to_thread.run_sync(self.store.migrate)
        await self._bind_accounts()
        for tenant in self.config.config.tenants:
            await anyio.to_thread.run_sync(
                _retry_on_race, partial(self.store.upsert_tenant, tenant.id, tenant.name)
            )
            for name, conn in tenant.connections.items():
                spec = self.registry.get(conn.platform)

                def upsert(t: TenantConfig = tenant, n: str = name, kind: str = spec.kind) -> None:
                    c = t.connections[n]
                    self.store.upsert_connection(
                        t.id,
                        n,
                        platform=c.platform,
                        kind=kind,
                        settings=c.settings,
                        organization_id=str(c.settings.get("organization_id") or "") or None,
                    )

                await anyio.to_thread.run_sync(_retry_on_race, upsert)
        self._prepared = True

    def pipelines(
        self, pipeline_id: str | None = None
    ) -> list[tuple[TenantConfig, PipelineConfig]]:
        found = [
            (t, p)
            for t, p in self.config.pipelines()
            if (pipeline_id is None and p.enabled) or p.id == pipeline_id
        ]
        if pipeline_id is not None and not found:
            known = ", ".join(p.id for _, p in self.config.pipelines())
            raise UnknownId(
                f"no pipeline {pipeline_id!r} in {self.config.path} (pipelines: {known})"
            )
        return found

    def source(self, tenant_id: str, connection: str) -> Source:
        """The source connector of a connection (the webhook receiver verifies through it)."""
        tenant = self.config.tenant(tenant_id)
        if connection not in tenant.connections:
            raise ConfigError(f"tenant {tenant_id!r} has no connection {connection!r}")
        pipeline = next((p for p in tenant.pipelines if p.source == connection), None)
        tolerance = pipeline.rounding_tolerance if pipeline else DEFAULT_ROUNDING_TOLERANCE
        found = self._connector(tenant, connection, tolerance)
        if not isinstance(found, Source):
            raise ConfigError(f"connection {tenant_id}/{connection} is not a source")
        return found

    def _connector(self, tenant: TenantConfig, name: str, tolerance: Decimal) -> Any:
        conn_id = f"{tenant.id}/{name}"
        cache_key = f"{conn_id} (read only)" if self.read_only else conn_id
        if cache_key in self._connectors:
            return self._connectors[cache_key]
        conn = tenant.connections[name]
        spec = self.registry.get(conn.platform)
        settings, secrets = connection_models(conn, spec)
        credentials: Any = StoreCredentials(self.store, conn_id)
        locks: Any = self.locks
        if self.read_only:  # tokens kept in memory, token locks held in this process only
            credentials, locks = ReadOnlyCredentials(credentials), ProcessLocalLocks()
        context = ConnectorContext(
            connection_id=conn_id,
            tenant_id=tenant.id,
            settings=settings,
            secrets=secrets,
            transport=self.transports.get(conn_id) or self.transports.get(conn.platform),
            credentials=credentials,
            locks=locks,
            clock=self.clock,
            rounding_tolerance=tolerance,
            limiters=self.limiters,
        )
        connector = spec.build(context)
        self._connectors[cache_key] = connector
        self._stack.push_async_callback(connector.aclose)
        return connector

    def runtime(self, pipeline: PipelineConfig) -> MappingRuntime:
        if pipeline.id not in self._runtimes:
            from ..mapping import load_mapping

            path: Path = self.config.mapping_path(pipeline)
            self._runtimes[pipeline.id] = load_mapping(path)
        return self._runtimes[pipeline.id]

    def runner(self, pipeline_id: str, *, source_wins: bool = False) -> PipelineRunner:
        [(tenant, pipeline)] = self.pipelines(pipeline_id)
        source = self._connector(tenant, pipeline.source, pipeline.rounding_tolerance)
        target = self._connector(tenant, pipeline.target, pipeline.rounding_tolerance)
        if not isinstance(source, Source) or not isinstance(target, Target):
            raise ConfigError(
                f"pipeline {pipeline.id}: source/target connectors have the wrong kind"
            )
        journal = Journal(
            self.store,
            Scope(
                tenant.id,
                pipeline.id,
                f"{tenant.id}/{pipeline.source}",
                f"{tenant.id}/{pipeline.target}",
            ),
        )
        org = tenant.connections[pipeline.target].settings.get("organization_id")
        runner = PipelineRunner(
            pipeline=pipeline,
            tenant_id=tenant.id,
            source=source,
            target=target,
            runtime=self.runtime(pipeline),
            journal=journal,
            store=self.store,
            holder=self.holder,
            organization_id=str(org) if org else None,
            source_wins=source_wins,
            on_record=self.on_record,
        ).stopping_when(self.should_stop)
        runner.on_expect = self.on_expect
        runner.identities = self.identities
        runner.executor.before_unit = self._unit_guard(tenant, pipeline.target)
        runner.reconnect = {
            f"{tenant.id}/{name}": reconnect_instruction(tenant.id, name, conn.platform)
            for name, conn in tenant.connections.items()
        }
        return runner

    # ----------------------------------------------------------------- tenancy

    async def _bind_accounts(self) -> None:
        """Startup: each target account is bound to its tenant, or the engine refuses."""
        bind = partial(tenancy.bind_accounts, self.store, self.config, self.registry)
        try:
            self._claimed = await anyio.to_thread.run_sync(bind)
        except IntegrityError:  # another process bound one at the same moment: check again
            self._claimed = await anyio.to_thread.run_sync(bind)

    async def verify_targets(self, pipeline_id: str | None = None) -> None:
        """Startup, once per target connection: the organisation its credentials reach is
        the configured one, among those they can reach, and bound to its tenant."""
        for tenant, pipeline in self.pipelines(pipeline_id):
            conn_id = f"{tenant.id}/{pipeline.target}"
            if conn_id in self._verified:
                continue
            target = self._connector(tenant, pipeline.target, pipeline.rounding_tolerance)
            conn = tenant.connections[pipeline.target]
            spec = self.registry.get(conn.platform)
            settings, _ = connection_models(conn, spec)
            account = spec.account_key(settings)
            try:
                try:
                    identity = await target.identity()
                except AuthFailed as exc:  # dead credentials: reconnect, never a crash
                    mend = reconnect_instruction(tenant.id, pipeline.target, conn.platform)
                    why = ReconnectNeeded(conn_id, mend, exc)
                    if not self.read_only:
                        await anyio.to_thread.run_sync(
                            self.store.mark_needs_reconnect, conn_id, str(why)
                        )
                    raise why from exc
                tenancy.verify_identity(spec, settings, identity, conn_id)
                self.identities.put(conn_id, identity)
            except LedgerbridgeError:
                if account in self._claimed:  # claimed by this start: not ours after all
                    await anyio.to_thread.run_sync(self.store.release_account, account, tenant.id)
                raise
            if account is not None and not (
                self.read_only and await anyio.to_thread.run_sync(self._unbound, account)
            ):  # a dry run before the first run: the account is bound by that run
                await anyio.to_thread.run_sync(
                    self.store.check_account, account, tenant.id, conn_id
                )
            self._verified.add(conn_id)

    def _unbound(self, account: str) -> bool:
        return self.store.account_binding(account) is None

    def _unit_guard(self, tenant: TenantConfig, name: str) -> tenancy.UnitGuard | None:
        conn = tenant.connections[name]
        account = self.registry.get(conn.platform).account_key(conn.settings)
        if account is None:
            return None
        return tenancy.UnitGuard(self.store, account, tenant.id, f"{tenant.id}/{name}")

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
        for pipeline_id, group in by_pipeline.items():
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
                for b in runner.journal.bindings_for("order", [conflict.external_id])
                if b.target_kind in ("invoice", "sales_receipt")
            ]
        )
        for b in binding:
            snapshot = dict(b.snapshot)
            snapshot["last_modified"] = conflict.target_snapshot.get("last_modified")
            snapshot["fingerprint"] = "accepted-target-version"
            b.snapshot = snapshot
            await anyio.to_thread.run_sync(runner.journal.bind, b)

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

    async def aclose(self) -> None:
        await self._stack.aclose()
        self._connectors.clear()

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


__all__ = ["Engine", "PipelineStatus"]


def reconnect_instruction(tenant_id: str, name: str, platform: str) -> str:
    """The command that gives a connection working credentials again."""
    if platform == "zohobooks":
        return f"ledgerbridge connect zohobooks --tenant {tenant_id} --name {name}"
    return f"renew the {platform} credentials of connection {tenant_id}/{name} in the config"


def _configured_limiters(config: LoadedConfig) -> LimiterProvider | None:
    """``workers: {limits: redis}``: every process of the deployment shares account limits."""
    import os

    workers = config.config.workers
    if workers is None or workers.limits != "redis":
        return None
    url = (
        os.environ.get("LEDGERBRIDGE_REDIS_URL")
        or workers.redis_url
        or os.environ.get("LEDGERBRIDGE_BROKER_URL")
        or workers.broker_url
    )
    if not url or not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"{config.path}: workers.limits is 'redis' but no Redis URL is configured "
            "(set workers.redis_url or LEDGERBRIDGE_REDIS_URL)"
        )
    from ..limits.redis import RedisLimiters

    return RedisLimiters(url)


def _retry_on_race(upsert: Callable[[], object]) -> None:
    """Run a read-then-insert upsert; once more if another process inserted the same row
    between our read and our insert (several ``ledgerbridge sync`` processes starting
    together on one store) -- the second attempt finds the row and updates it."""
    try:
        upsert()
    except IntegrityError:
        upsert()
