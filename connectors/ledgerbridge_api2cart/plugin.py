"""Registers the API2Cart source connector and its emulator."""

from __future__ import annotations

from typing import Any

from ledgerbridge import hookimpl
from ledgerbridge.contracts import ConnectorKind, ConnectorSpec
from ledgerbridge.contracts.source import STOREFRONT_CAPABILITIES
from ledgerbridge.hookspecs import Register

from .settings import Api2CartSecrets, Api2CartSettings
from .source import Api2CartSource

__all__ = ["Api2CartSecrets", "Api2CartSettings", "register_commands", "register_sources"]


def _emulator(orders: int | None = None) -> Any:
    from .emulator import create_app
    from .emulator.app import create_state

    return create_app(create_state(orders=orders) if orders is not None else None)


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


@hookimpl
def register_commands(cli: Any) -> None:
    from .cli import register

    register(cli)


@hookimpl
def register_sources(register: Register) -> None:
    register(
        ConnectorSpec(
            name="api2cart",
            kind=ConnectorKind.SOURCE,
            title="API2Cart",
            factory=Api2CartSource,
            settings_model=Api2CartSettings,
            secrets_model=Api2CartSecrets,
            capabilities=STOREFRONT_CAPABILITIES,
            status="ready",
            description="Unified cart API; cursor pagination; webhook hints.",
            emulator=_emulator,
            sandbox_info=_sandbox_info,
            catalog=_catalog_spec(),
        )
    )


def _catalog_spec() -> Any:
    from .catalog_sync import SPEC

    return SPEC
