"""What one API2Cart connection is configured with (validated from ledgerbridge.yaml)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from ledgerbridge.canonical import OrderStatus

TransactionKind = Literal[
    "authorization", "capture", "sale", "void", "refund", "pending", "failure", "ignore"
]


class Api2CartSettings(BaseModel, extra="forbid"):
    base_url: str = Field(default="https://api.api2cart.com/v1.1")
    cart: str | None = Field(
        default=None,
        description="Cart type behind the store key (cart_id, e.g. 'EtsyAPIv3'); "
        "selects how that cart's totals add up",
    )
    store_label: str | None = Field(
        default=None, description="Names the store in SourceRef.store (default: the connection id)"
    )
    page_size: int = Field(default=250, ge=1, le=250, description="`count` per list request")
    rounding_precision: int = Field(
        default=4,
        ge=1,
        le=6,
        description="Sent on every order read so amounts are not rounded twice",
    )
    modified_overlap: timedelta = Field(
        default=timedelta(hours=3),
        description="Re-read this far before the checkpoint: the filter's time zone is "
        "undocumented; re-reads are de-duplicated by (id, modified_at)",
    )
    filter_timezone: str = Field(
        default="UTC", description="Time zone `modified_from` is written in (IANA name)"
    )
    status_map: dict[str, OrderStatus] = Field(
        default_factory=dict,
        description="Store status id (or name) -> canonical status; overrides the built-in table",
    )
    currency: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{3}$",
        description="Store currency for product prices (product.list carries none)",
    )
    account_backoff: float = Field(
        default=60.0, ge=0, description="Seconds to wait on return_code 10 (account limit)"
    )
    timeout: float = Field(default=30.0, gt=0)
    read_shipments: bool = Field(
        default=False,
        description="Read each order's shipments (order.shipment.list, one call per order): "
        "needed by a pipeline with posting_trigger: fulfilled",
    )
    read_transactions: bool = Field(
        default=False,
        description="Read each order's transactions (order.transaction.list, one call per "
        "order) as its payments: authorisations, voids, partial captures, gift cards; "
        "without it an order paid in full gets one payment of its total. Set it before the "
        "connection's orders are posted: an order already booked with that one payment would "
        "gain its transactions as further payments",
    )
    transaction_kinds: dict[str, TransactionKind] = Field(
        default_factory=dict,
        description="Transaction status text (case-insensitive) -> what it is, for the "
        "statuses a cart uses beyond the plain words (capture, authorized, void ...)",
    )


class Api2CartSecrets(BaseModel, extra="forbid"):
    api_key: SecretStr | None = None
    store_key: SecretStr | None = None
    webhook_token: SecretStr | None = Field(
        default=None,
        description="Shared secret that ends the webhook callback URL path "
        "(API2Cart documents no signature)",
    )
