"""Pipeline assembly: from the loaded config to a ready ``PipelineRunner``.

Registers tenants and connections in the store, builds each connection's connector once
(read-only ones for a dry run), loads each pipeline's mapping once, binds target accounts
to their tenants and checks the organisation each target reaches.  ``Engine`` (the API a
host calls) is built on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
from sqlalchemy.exc import IntegrityError

from ..canonical import DEFAULT_ROUNDING_TOLERANCE
from ..config import LoadedConfig, PipelineConfig, TenantConfig, connection_models
from ..contracts.context import Clock, ConnectorContext, ProcessLocalLocks, SystemClock
from ..contracts.source import Source
from ..contracts.target import Target
from ..errors import AuthFailed, ConfigError, LedgerbridgeError, ReconnectNeeded, UnknownId
from ..limits import LimiterProvider
from ..plugins import Registry, get_registry
from ..store import Store
from ..store.adapters import StoreCredentials, StoreLocks, default_holder
from . import tenancy
from .dryrun import ReadOnlyCredentials
from .identities import Identities
from .journal import Journal, Scope
from .planner import MappingRuntime
from .runner import OnExpect, OnRecord, PipelineRunner


class PipelineAssembly:
    """Connectors, mappings and runners of one loaded config (cached for the process)."""

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
        self.limiters = limiters if limiters is not None else configured_limiters(config)
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
                retry_on_race, partial(self.store.upsert_tenant, tenant.id, tenant.name)
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

                await anyio.to_thread.run_sync(retry_on_race, upsert)
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
        runner.executor.master.bulk_lookups = not self._shares_organisation(tenant, pipeline)
        runner.reconnect = {
            f"{tenant.id}/{name}": reconnect_instruction(tenant.id, name, conn.platform)
            for name, conn in tenant.connections.items()
        }
        return runner

    def _shares_organisation(self, tenant: TenantConfig, pipeline: PipelineConfig) -> bool:
        """Another configured pipeline (enabled or not: it can be run by hand) writes into
        the organisation this one writes into -- the same target connection, or another
        connection naming the same organisation.  Its creates would be invisible to a copy
        of the organisation's contacts and items read in bulk (``Target.prepare_lookups``),
        so such pipelines look each one up as they create it."""

        def where(t: TenantConfig, p: PipelineConfig) -> tuple[str, ...]:
            conn = t.connections.get(p.target)
            org = conn.settings.get("organization_id") if conn is not None else None
            return ("org", str(org)) if org else ("connection", t.id, p.target)

        mine = where(tenant, pipeline)
        return any(p.id != pipeline.id and where(t, p) == mine for t, p in self.config.pipelines())

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

    async def aclose(self) -> None:
        """Close every connector built so far."""
        await self._stack.aclose()
        self._connectors.clear()


def reconnect_instruction(tenant_id: str, name: str, platform: str) -> str:
    """The command that gives a connection working credentials again."""
    if platform == "zohobooks":
        return f"ledgerbridge connect zohobooks --tenant {tenant_id} --name {name}"
    return f"renew the {platform} credentials of connection {tenant_id}/{name} in the config"


def configured_limiters(config: LoadedConfig) -> LimiterProvider | None:
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


def retry_on_race(upsert: Callable[[], object]) -> None:
    """Run a read-then-insert upsert; once more if another process inserted the same row
    between our read and our insert (several ``ledgerbridge sync`` processes starting
    together on one store) -- the second attempt finds the row and updates it."""
    try:
        upsert()
    except IntegrityError:
        upsert()
