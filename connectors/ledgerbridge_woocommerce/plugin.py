"""Registers the WooCommerce source (REST API wc/v3) and its emulator."""

from __future__ import annotations

from typing import Any

from ledgerbridge import hookimpl
from ledgerbridge.contracts import ConnectorKind, ConnectorSpec
from ledgerbridge.contracts.source import STOREFRONT_CAPABILITIES
from ledgerbridge.hookspecs import Register

from .settings import WooCommerceSecrets, WooCommerceSettings
from .source import WooCommerceSource

__all__ = ["WooCommerceSecrets", "WooCommerceSettings", "register_sources"]


def _emulator(orders: int | None = None) -> Any:
    from .emulator import create_app, seed

    return create_app(seed(orders=orders) if orders is not None else None)


def _sandbox_info(url: str) -> Any:
    from ledgerbridge.sandbox import SandboxInfo

    from .emulator import DEFAULT_KEY, DEFAULT_SECRET

    return SandboxInfo(
        settings={"store_url": url, "allow_http": True, "currency": "USD"},
        secrets={"consumer_key": DEFAULT_KEY, "consumer_secret": DEFAULT_SECRET},
        notes=(
            "plain http is signed with OAuth 1.0a (allow_http: true); a real store is https",
            "one order carries a shipping plugin's status, awaiting-shipment: map it with "
            "settings.status_map: {awaiting-shipment: open}",
        ),
    )


@hookimpl
def register_sources(register: Register) -> None:
    register(
        ConnectorSpec(
            name="woocommerce",
            kind=ConnectorKind.SOURCE,
            title="WooCommerce",
            factory=WooCommerceSource,
            settings_model=WooCommerceSettings,
            secrets_model=WooCommerceSecrets,
            capabilities=STOREFRONT_CAPABILITIES,
            status="ready",
            description="REST API v3; Basic auth or OAuth 1.0a; signed webhooks.",
            emulator=_emulator,
            sandbox_info=_sandbox_info,
            catalog=_catalog_spec(),
        )
    )


def _catalog_spec() -> Any:
    from .catalog_sync import SPEC

    return SPEC
