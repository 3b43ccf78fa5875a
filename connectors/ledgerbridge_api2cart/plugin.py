"""Registers the API2Cart source connector, its emulator and its commands."""

from __future__ import annotations

from typing import Any

from ledgerbridge.contracts import ConnectorKind, ConnectorSpec
from ledgerbridge.contracts.source import STOREFRONT_CAPABILITIES
from ledgerbridge.plugin_kit import commands, sandbox_app, sources

from .catalog_sync import SPEC as CATALOG
from .settings import Api2CartSecrets, Api2CartSettings
from .source import Api2CartSource

__all__ = ["Api2CartSecrets", "Api2CartSettings", "register_commands", "register_sources"]


def _sandbox_info(url: str) -> Any:
    from ledgerbridge.sandbox import SandboxInfo

    from .emulator.app import DEFAULT_API_KEY, DEFAULT_STORES

    key, (cart, currency) = next(iter(DEFAULT_STORES.items()))
    others = ", ".join(f"{k} ({c}, {cur})" for k, (c, cur) in list(DEFAULT_STORES.items())[1:])
    return SandboxInfo(
        settings={"base_url": f"{url}/v1.1", "cart": cart},
        secrets={"api_key": DEFAULT_API_KEY, "store_key": key},
        notes=(f"store {key} sells in {currency}; other store keys: {others}",),
    )


register_commands = commands("ledgerbridge_api2cart.cli:register")
register_sources = sources(
    ConnectorSpec(
        name="api2cart",
        kind=ConnectorKind.SOURCE,
        title="API2Cart",
        factory=Api2CartSource,
        settings_model=Api2CartSettings,
        secrets_model=Api2CartSecrets,
        capabilities=STOREFRONT_CAPABILITIES,
        description="Unified cart API; cursor pagination; webhook hints.",
        emulator=sandbox_app(
            "ledgerbridge_api2cart.emulator:create_app",
            seed="ledgerbridge_api2cart.emulator.app:create_state",
        ),
        sandbox_info=_sandbox_info,
        catalog=CATALOG,
    )
)
