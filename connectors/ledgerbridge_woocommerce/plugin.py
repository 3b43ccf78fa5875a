"""Registers the WooCommerce source (REST API wc/v3) and its emulator."""

from __future__ import annotations

from typing import Any

from ledgerbridge.contracts import ConnectorKind, ConnectorSpec
from ledgerbridge.contracts.source import STOREFRONT_CAPABILITIES
from ledgerbridge.plugin_kit import sandbox_app, sources

from .catalog_sync import SPEC as CATALOG
from .settings import WooCommerceSecrets, WooCommerceSettings
from .source import WooCommerceSource

__all__ = ["WooCommerceSecrets", "WooCommerceSettings", "register_sources"]


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


register_sources = sources(
    ConnectorSpec(
        name="woocommerce",
        kind=ConnectorKind.SOURCE,
        title="WooCommerce",
        factory=WooCommerceSource,
        settings_model=WooCommerceSettings,
        secrets_model=WooCommerceSecrets,
        capabilities=STOREFRONT_CAPABILITIES,
        description="REST API v3; Basic auth or OAuth 1.0a; signed webhooks.",
        emulator=sandbox_app(
            "ledgerbridge_woocommerce.emulator:create_app",
            seed="ledgerbridge_woocommerce.emulator:seed",
        ),
        sandbox_info=_sandbox_info,
        catalog=CATALOG,
    )
)
