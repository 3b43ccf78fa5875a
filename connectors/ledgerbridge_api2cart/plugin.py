"""Registers the API2Cart source. Shell until the API2Cart connector issue lands."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ledgerbridge import hookimpl
from ledgerbridge.contracts import ConnectorKind, ConnectorSpec, SourceCapability
from ledgerbridge.hookspecs import Register


class Api2CartSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(default="https://api.api2cart.com/v1.1")
    cart: str | None = Field(default=None, description="Cart type behind the store key")


class Api2CartSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr | None = None
    store_key: SecretStr | None = None


@hookimpl
def register_sources(register: Register) -> None:
    register(
        ConnectorSpec(
            name="api2cart",
            kind=ConnectorKind.SOURCE,
            title="API2Cart",
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
            status="shell",
            description="Unified cart API; cursor pagination; webhook hints.",
        )
    )
