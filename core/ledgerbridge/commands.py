"""What a plugin's own CLI commands may call (``register_commands``).

Connectors never open the store, load the config or reach into the engine themselves
(``make lint`` enforces it with import-linter).  A command such as ``ledgerbridge connect
zohobooks`` or ``ledgerbridge api2cart subscribe`` still needs three things from core --
the connection a config defines, a place to keep credentials it obtained, and the exit code
an error means -- so core offers exactly those here, on the same paths its own commands use.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .contracts import ConnectorContext
from .errors import ConfigError, LedgerbridgeError

DEFAULT_CONFIG = Path("ledgerbridge.yaml")


def exit_code(exc: LedgerbridgeError) -> int:
    """The exit code an error that ends a command means (docs/operations.md, "Exit codes")."""
    from .cli import exit_code_of

    return int(exit_code_of(exc))


def config_database(config: Path | None) -> str | None:
    """The ``database:`` of the config (``-c``, else ./ledgerbridge.yaml when present), read
    without validating the rest: a connection is often made before the config is complete."""
    from .config.loader import config_database as read

    if config is None:
        return read(DEFAULT_CONFIG) if DEFAULT_CONFIG.exists() else None
    return read(config)


def save_connection(
    database_url: str | None,
    platform: str,
    tenant_id: str,
    name: str,
    *,
    settings: Mapping[str, Any],
    secrets: dict[str, Any],
    organization_id: str | None = None,
) -> str:
    """Store a connection made interactively, secrets encrypted, and bind the account it
    reaches to the tenant (refused with ``AccountBound`` when another tenant has it).

    Returns the connection's id (``tenant/name``)."""
    from .engine.tenancy import register_connection
    from .plugins import get_registry
    from .store import Store

    store = Store(database_url)
    try:
        store.migrate()
        connection = register_connection(
            store,
            get_registry().get(platform),
            tenant_id,
            name,
            settings=settings,
            secrets=secrets,
            organization_id=organization_id,
        )
    finally:
        store.close()
    return str(connection.id)


def configured_connection(
    config: Path, tenant_id: str, name: str, platform: str
) -> ConnectorContext:
    """The context of connection ``tenant/name`` as the checked config defines it (settings
    and secrets validated by the connector's own models)."""
    from .config import connection_models, load_config
    from .plugins import get_registry

    loaded = load_config(config)
    conn = loaded.tenant(tenant_id).connections.get(name)
    if conn is None or conn.platform != platform:
        raise ConfigError(f"tenant {tenant_id!r} has no {platform} connection {name!r}")
    settings, secrets = connection_models(conn, get_registry().get(platform))
    return ConnectorContext(
        connection_id=f"{tenant_id}/{name}", tenant_id=tenant_id, settings=settings, secrets=secrets
    )
