"""Registers the API2Cart source connector and its emulator."""

from __future__ import annotations

from typing import Any

from ledgerbridge import hookimpl
from ledgerbridge.contracts import ConnectorContext, ConnectorKind, ConnectorSpec, SourceCapability
from ledgerbridge.hookspecs import Register

from .settings import Api2CartSecrets, Api2CartSettings
from .source import Api2CartSource

__all__ = ["Api2CartSecrets", "Api2CartSettings", "register_commands", "register_sources"]


def _build(context: ConnectorContext) -> Api2CartSource:
    return Api2CartSource(context)


def _emulator() -> Any:
    from .emulator import create_app

    return create_app()


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
            factory=_build,
            settings_model=Api2CartSettings,
            secrets_model=Api2CartSecrets,
            capabilities=frozenset(
                {
                    SourceCapability.ORDERS,
                    SourceCapability.CUSTOMERS,
                    SourceCapability.PRODUCTS,
                    SourceCapability.REFUNDS,
                    SourceCapability.WEBHOOKS,
                }
            ),
            status="ready",
            description="Unified cart API; cursor pagination; webhook hints.",
            emulator=_emulator,
        )
    )
