"""Registers the WooCommerce source. Shell until the WooCommerce connector issue lands."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ledgerbridge import hookimpl
from ledgerbridge.contracts import ConnectorKind, ConnectorSpec, SourceCapability
from ledgerbridge.hookspecs import Register


class WooCommerceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store_url: str = Field(description="https://shop.example.com")
    allow_http: bool = Field(default=False, description="Permit a plain-http store (OAuth 1.0a)")


class WooCommerceSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    webhook_secret: SecretStr | None = None


@hookimpl
def register_sources(register: Register) -> None:
    register(
        ConnectorSpec(
            name="woocommerce",
            kind=ConnectorKind.SOURCE,
            title="WooCommerce",
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
            status="shell",
            description="REST API v3; Basic auth or OAuth 1.0a; signed webhooks.",
        )
    )
