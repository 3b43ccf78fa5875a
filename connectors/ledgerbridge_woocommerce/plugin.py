"""Registers the WooCommerce source (REST API wc/v3) and its emulator."""

from __future__ import annotations

from typing import Any

from ledgerbridge import hookimpl
from ledgerbridge.contracts import ConnectorContext, ConnectorKind, ConnectorSpec, SourceCapability
from ledgerbridge.hookspecs import Register

from .settings import WooCommerceSecrets, WooCommerceSettings
from .source import WooCommerceSource

__all__ = ["WooCommerceSecrets", "WooCommerceSettings", "register_sources"]


def _factory(context: ConnectorContext) -> WooCommerceSource:
    return WooCommerceSource(context)


def _emulator() -> Any:
    from .emulator import create_app

    return create_app()


@hookimpl
def register_sources(register: Register) -> None:
    register(
        ConnectorSpec(
            name="woocommerce",
            kind=ConnectorKind.SOURCE,
            title="WooCommerce",
            factory=_factory,
            settings_model=WooCommerceSettings,
            secrets_model=WooCommerceSecrets,
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
            description="REST API v3; Basic auth or OAuth 1.0a; signed webhooks.",
            emulator=_emulator,
        )
    )
