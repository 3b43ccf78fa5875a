"""A Zoho Books connection's settings and secrets, as written in ``ledgerbridge.yaml``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

DataCenterCode = Literal["com", "eu", "in", "com.au", "jp", "ca", "com.cn", "sa", "uk"]
Plan = Literal["free", "standard", "professional", "premium", "elite", "ultimate"]
MarkSent = Literal["always", "unless_paid", "never"]
Module = Literal["contacts", "invoices", "salesreceipts", "creditnotes", "customerpayments"]

# ``mark_invoices_sent`` was a boolean; existing YAML keeps working.
_LEGACY_MARK_SENT = {"true": "unless_paid", "false": "never"}


class ZohoBooksSettings(BaseModel, extra="forbid"):
    data_center: DataCenterCode = "com"
    organization_id: str | None = Field(default=None, pattern=r"^\d*$")
    plan: Plan = Field(default="standard", description="Sets the daily quota and in-flight cap.")
    daily_quota: int | None = Field(default=None, gt=0, description="Overrides the plan's quota.")
    max_in_flight: int | None = Field(default=None, gt=0, le=10)
    requests_per_minute: int = Field(
        default=95,
        gt=0,
        le=100,
        description="Paced rate; with ``burst`` no 60-second window exceeds Zoho's 100.",
    )
    burst: int = Field(
        default=5, ge=1, le=100, description="Calls that may start at once (token bucket depth)."
    )
    key_field: str | None = Field(
        default=None,
        description="API name of a custom field (e.g. cf_ledgerbridge_key) the merchant created on "
        "invoices, sales receipts, credit notes and payments to hold our source key. Off by "
        "default: writing a custom field the organisation lacks would fail every document.",
    )
    key_field_unique: bool = Field(
        default=False,
        description="True when the organisation marks key_field unique: writes go through "
        "Zoho's upsert by unique custom field and are idempotent at Zoho.",
    )
    contact_key_field: str | None = None
    mark_invoices_sent: MarkSent = Field(
        default="unless_paid",
        description="Zoho creates API invoices as drafts, which are not in the ledger. "
        "``always``: POST /invoices/{id}/status/sent after every create. ``unless_paid`` "
        "(default): the same, except for an invoice whose payments in the same plan cover "
        "its total (``settled_in_plan``): recording them takes it out of draft, so the call "
        "is saved. ``never``: leave new invoices as drafts. Legacy YAML booleans: ``true`` "
        "means ``unless_paid``, ``false`` means ``never``.",
    )
    custom_fields: dict[Module, list[str]] = Field(
        default_factory=dict,
        description="The custom fields the merchant created in the organisation, by module "
        "(API names, e.g. {invoices: [cf_source_order_id]}); `mappings validate --against` "
        "checks every field the mapping writes is among them. Writes address each field by "
        "the id or label read from the organisation's settings (GET /settings/fields) "
        '(docs/connectors/zohobooks.md, "Custom fields").',
    )
    refund_account_id: str | None = Field(
        default=None, description="Default from_account_id for credit-note refunds."
    )
    api_url: str | None = Field(
        default=None, description="Override of the API domain (an emulator or a proxy)."
    )
    accounts_url: str | None = Field(
        default=None, description="Override of the accounts (OAuth) server (an emulator)."
    )

    @field_validator("mark_invoices_sent", mode="before")
    @classmethod
    def _legacy_mark_sent(cls, value: Any) -> Any:
        if isinstance(value, bool | str):
            return _LEGACY_MARK_SENT.get(str(value).strip().lower(), value)
        return value


class ZohoBooksSecrets(BaseModel, extra="forbid"):
    client_id: SecretStr | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    # Written at run time by the connector through the credential store (never in YAML):
    access_token: SecretStr | None = None
    access_token_expires_at: str | None = None
    api_domain: str | None = None
