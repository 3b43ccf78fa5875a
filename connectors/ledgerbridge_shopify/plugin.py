"""Registers the Shopify source (GraphQL Admin API) and its emulator."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr

from ledgerbridge.canonical import OrderStatus
from ledgerbridge.contracts import ConnectorKind, ConnectorSpec, SourceCapability
from ledgerbridge.contracts.source import STOREFRONT_CAPABILITIES
from ledgerbridge.plugin_kit import lazy, sources

from .catalog import SPEC as CATALOG


class ShopifySettings(BaseModel, extra="forbid"):
    shop: str = Field(description="Shop subdomain: <shop>.myshopify.com")
    api_version: str = Field(default="2025-01", pattern=r"^\d{4}-\d{2}$")
    base_url: str | None = Field(
        default=None,
        description="Override https://<shop>.myshopify.com (sandbox / emulator only)",
    )
    page_size: int = Field(
        default=50,
        ge=1,
        le=250,
        description="Orders asked per page (lowered automatically when a page would cost too much)",
    )
    overlap_seconds: int = Field(
        default=120, ge=0, description="Re-read window before the checkpoint"
    )
    client_id: str | None = Field(
        default=None, description="App client id (expiring offline tokens are refreshed with it)"
    )
    bulk_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often a bulk backfill is polled"
    )
    fetch_api: Literal["graphql", "rest"] = Field(
        default="graphql",
        description="How one order is re-read for a webhook, a retry or a replay: GraphQL "
        "(default), or REST -- orders/{id}.json with its transactions, the shape Shopify's "
        'webhook bodies have. docs/connectors/shopify.md, "Webhooks"',
    )
    status_map: dict[str, OrderStatus] = Field(
        default_factory=dict,
        description="Order state (open, closed, cancelled) -> canonical status; overrides the "
        'built-in meaning. docs/configuration.md, "Order statuses"',
    )


class ShopifySecrets(BaseModel, extra="forbid"):
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = Field(
        default=None, description="Expiring offline tokens: the first refresh token (then rotated)"
    )
    client_secret: SecretStr | None = Field(default=None, description="Refreshes expiring tokens")
    app_secret: SecretStr | None = Field(default=None, description="Verifies webhook HMACs")
    previous_app_secret: SecretStr | None = Field(
        default=None, description="Also accepted for webhooks while a secret rotation settles"
    )


def _sandbox_info(url: str) -> Any:
    from ledgerbridge.sandbox import SandboxInfo

    from .emulator import DEFAULT_TOKEN

    return SandboxInfo(
        settings={"shop": "emulated", "base_url": url},
        secrets={"access_token": DEFAULT_TOKEN},
        notes=("the shop sells in USD; base_url is for a sandbox only",),
    )


register_sources = sources(
    ConnectorSpec(
        name="shopify",
        kind=ConnectorKind.SOURCE,
        title="Shopify",
        factory=lazy("ledgerbridge_shopify.source:ShopifySource"),
        settings_model=ShopifySettings,
        secrets_model=ShopifySecrets,
        capabilities=STOREFRONT_CAPABILITIES | {SourceCapability.BACKFILL},
        description="GraphQL Admin API; bulk backfill; signed webhooks.",
        emulator=lazy("ledgerbridge_shopify.emulator:create_app"),
        sandbox_info=_sandbox_info,
        catalog=CATALOG,
    )
)
