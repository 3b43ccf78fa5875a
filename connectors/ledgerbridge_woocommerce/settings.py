"""What a WooCommerce connection is configured with (validated from ledgerbridge.yaml)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator

from ledgerbridge.canonical import OrderStatus

AuthMode = Literal["auto", "basic", "query", "oauth1"]


class WooCommerceSettings(BaseModel, extra="forbid"):
    """Connection settings. ``store_url`` is the site URL as WordPress reports it."""

    store_url: str = Field(description="https://shop.example.com")
    allow_http: bool = Field(default=False, description="Permit a plain-http store (OAuth 1.0a)")
    auth: AuthMode = Field(
        default="auto",
        description=(
            "auto: Basic over https (falling back once to query parameters when the server drops "
            "the Authorization header), OAuth 1.0a over http; or force one mode"
        ),
    )
    per_page: int = Field(default=100, ge=1, le=100, description="WooCommerce's maximum is 100")
    timeout: float = Field(default=30.0, gt=0)
    currency: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{3}$",
        description="Store currency (ISO 4217); products carry none, so prices need it",
    )
    status_map: dict[str, OrderStatus] = Field(
        default_factory=dict,
        description="Store status (as the platform names it) -> canonical status (open, "
        "completed, on_hold, pending, cancelled, failed, draft); overrides the built-in table, "
        "so a plugin's own status (e.g. awaiting-shipment) can be posted. docs/configuration.md, "
        '"Order statuses"',
    )
    refunds_endpoint: Literal["auto", "global", "per_order"] = Field(
        default="auto",
        description=(
            "auto: GET /refunds (WooCommerce 9.0+), per order where the site lacks it; "
            "global: GET /refunds only; per_order: /orders/{id}/refunds"
        ),
    )

    @field_validator("store_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"store_url {value!r} must be an absolute http(s) URL")
        return value.strip().rstrip("/")

    @property
    def is_https(self) -> bool:
        return urlsplit(self.store_url).scheme == "https"

    @property
    def store_key(self) -> str:
        """The store's identity in ``SourceRef.store`` (host and path, no scheme)."""
        parts = urlsplit(self.store_url)
        return (parts.netloc + parts.path).rstrip("/")


class WooCommerceSecrets(BaseModel, extra="forbid"):
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    webhook_secret: SecretStr | None = None
