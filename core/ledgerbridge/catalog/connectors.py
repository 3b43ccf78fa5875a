"""Building a connection's catalog connector with what the engine gives every connector
(settings, secrets, credentials and locks over the store, the test transport, limits)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import TenantConfig, connection_models
from ..contracts.catalog import CatalogConnector, CatalogSpec
from ..contracts.context import ConnectorContext, ProcessLocalLocks
from ..errors import ConfigError
from ..store.adapters import StoreCredentials

if TYPE_CHECKING:
    from ..engine import Engine


def catalog_spec(engine: Engine, tenant: TenantConfig, name: str) -> CatalogSpec:
    spec = engine.registry.get(tenant.connections[name].platform)
    if spec.catalog is None:
        raise ConfigError(f"connection {tenant.id}/{name} has no catalog connector")
    return spec.catalog


def build(engine: Engine, tenant: TenantConfig, name: str, *, read_only: bool) -> CatalogConnector:
    conn = tenant.connections[name]
    spec = engine.registry.get(conn.platform)
    settings, secrets = connection_models(conn, spec)
    conn_id = f"{tenant.id}/{name}"
    credentials: Any = StoreCredentials(engine.store, conn_id)
    locks: Any = engine.locks
    if read_only:  # a dry run: refreshed tokens kept in memory
        from ..engine.dryrun import ReadOnlyCredentials

        credentials, locks = ReadOnlyCredentials(credentials), ProcessLocalLocks()
    context = ConnectorContext(
        connection_id=conn_id,
        tenant_id=tenant.id,
        settings=settings,
        secrets=secrets,
        transport=engine.transports.get(conn_id) or engine.transports.get(conn.platform),
        credentials=credentials,
        locks=locks,
        clock=engine.clock,
        limiters=engine.limiters,
    )
    return catalog_spec(engine, tenant, name).factory(context)
