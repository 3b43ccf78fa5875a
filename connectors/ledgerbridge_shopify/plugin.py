"""Registers the Shopify source. Shell until the Shopify connector issue lands."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ledgerbridge import hookimpl
from ledgerbridge.contracts import ConnectorKind, ConnectorSpec, SourceCapability
from ledgerbridge.hookspecs import Register


class ShopifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop: str = Field(description="Shop subdomain: <shop>.myshopify.com")
    api_version: str = Field(default="2025-01", pattern=r"^\d{4}-\d{2}$")


class ShopifySecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_token: SecretStr | None = None
    app_secret: SecretStr | None = Field(default=None, description="Verifies webhook HMACs")


@hookimpl
def register_sources(register: Register) -> None:
    register(
        ConnectorSpec(
            name="shopify",
            kind=ConnectorKind.SOURCE,
            title="Shopify",
            settings_model=ShopifySettings,
            secrets_model=ShopifySecrets,
            capabilities=frozenset(
                {
                    SourceCapability.ORDERS,
                    SourceCapability.CUSTOMERS,
                    SourceCapability.PRODUCTS,
                    SourceCapability.REFUNDS,
                    SourceCapability.WEBHOOKS,
                    SourceCapability.BACKFILL,
                }
            ),
            status="shell",
            description="GraphQL Admin API; bulk backfill; signed webhooks.",
        )
    )
