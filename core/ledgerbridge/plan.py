"""The plan: target writes in target-neutral terms.

Planning is pure -- canonical objects in, a list of intended writes out -- so
the drafts here may hold *unresolved* links (``Link.target_id is None``): "the
contact for Shopify customer 42", "the item with SKU ABC".  The executor
resolves each link (cross-reference, then find-by-business-key, then create)
and fills ``target_id`` before a target connector ever sees the draft.

Ids of the target's own lookups (tax ids, accounts, payment modes) are plain
strings chosen by the mapping.  A target connector turns these drafts into its
platform's JSON; nothing above the connector ever sees that JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .canonical.common import Address
from .canonical.money import ExactDecimal

Day = date  # for fields of models that also have a field named ``date``


class PlanModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    SALES_RECEIPT = "sales_receipt"
    CREDIT_NOTE = "credit_note"


class Link(PlanModel):
    """A reference to a target record, resolved by the executor.

    ``key`` is stable and target-neutral (``contact:shopify:acme:42``,
    ``item:sku:ABC-1``); ``target_id`` is the target's id once known.
    """

    key: str
    target_id: str | None = None

    def resolved(self, target_id: str) -> Link:
        return Link(key=self.key, target_id=target_id)

    def require(self) -> str:
        if self.target_id is None:
            raise ValueError(f"link {self.key} was not resolved before reaching the target")
        return self.target_id


class TargetRef(PlanModel):
    """What a target returns after a write: its id and what identifies it for humans."""

    kind: str
    target_id: str
    number: str | None = None
    last_modified: datetime | None = None
    total: ExactDecimal | None = None  # the document total the target computed, when known
    adopted: bool = False
    """True when the target found the record already written (by an earlier call whose
    answer was lost) instead of writing it now: the engine records it as adopted."""


class BusinessKey(PlanModel):
    """How a document is found again in the target without our own database.

    ``reference`` is the human reference (the source order number) and
    ``source_key`` the unique machine key (written to a custom field when the
    target has one); either may be used to find the document after a crash.
    """

    reference: str
    source_key: str


class ContactDraft(PlanModel):
    link: Link
    display_name: str
    email: str | None = None
    company: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    currency: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    custom_fields: dict[str, str] = Field(default_factory=dict)
    # The display name is ours and unique to this contact (a daily summary's "Daily sales
    # (USD)"): with no e-mail and no key, the target finds it again by that name -- never a
    # storefront customer's name, which two people may share.
    unique_name: bool = False


class ItemDraft(PlanModel):
    link: Link
    name: str
    sku: str | None = None
    rate: ExactDecimal | None = None
    tax_id: str | None = None
    description: str | None = None
    account_id: str | None = None


class DocumentLine(PlanModel):
    """One line of an invoice, receipt or credit note.

    ``item`` None means a description-only line.  ``rate`` is the unit price in
    the document currency, before ``discount`` (an amount, not a percentage).
    """

    description: str
    quantity: ExactDecimal
    rate: ExactDecimal
    item: Link | None = None
    discount: ExactDecimal | None = None
    tax_id: str | None = None
    account_id: str | None = None
    source_line_id: str | None = None


class DocumentDraft(PlanModel):
    kind: DocumentKind
    key: BusinessKey
    contact: Link
    date: date
    currency: str
    lines: tuple[DocumentLine, ...]
    taxes_included: bool = False
    exchange_rate: ExactDecimal | None = None  # configured: 1 unit of `currency` in base units
    stated_rates: dict[str, ExactDecimal] = Field(
        default_factory=dict, exclude_if=lambda rates: not rates
    )
    """Rates the source states (units of each named currency per 1 unit of ``currency``,
    e.g. Shopify's presentment money): a target whose base currency is named here takes
    that rate before ``exchange_rate``. Left out of the JSON when empty, so the
    fingerprint of a document without one is what it was before the field existed."""
    target_rate_on: Day | None = Field(default=None, exclude_if=lambda day: day is None)
    """Set when the pipeline takes the target's own exchange rate as the fallback
    (``lookups.currencies.fallback_rate: target``): the day whose rate applies (a
    credit note's is the order's day or the refund's, ``refund_rate``). The target uses
    its rate for that day when the source states none, before ``exchange_rate``."""
    discount: ExactDecimal | None = None  # document-level, before tax
    shipping_charge: ExactDecimal | None = None
    shipping_tax_id: str | None = None
    adjustment: ExactDecimal | None = None
    adjustment_description: str | None = None
    notes: str | None = None
    custom_fields: dict[str, str] = Field(default_factory=dict)
    payment_mode: str | None = None  # sales receipts
    deposit_account_id: str | None = None  # sales receipts
    against: Link | None = None  # credit notes: the invoice they credit
    extra: dict[str, Any] = Field(
        default_factory=dict
    )  # target-specific fields named by the mapping
    settled_in_plan: bool = False
    """A hint, not content: the same plan applies payments covering the document's whole
    total right after this document is created. A target may skip a step that only an
    unpaid document needs (Zoho Books: marking a draft invoice sent, since recording the
    payment takes it out of draft). Not part of the document's fingerprint
    (``engine.planner.fingerprint``): it says what happens next, not what the document is."""


class PaymentDraft(PlanModel):
    """Money received from a customer, applied to documents (or unapplied: an advance)."""

    key: BusinessKey
    contact: Link
    amount: ExactDecimal
    currency: str
    date: date
    payment_mode: str | None = None
    account_id: str | None = None
    reference: str | None = None
    exchange_rate: ExactDecimal | None = None
    stated_rates: dict[str, ExactDecimal] = Field(
        default_factory=dict, exclude_if=lambda rates: not rates
    )  # as on DocumentDraft
    target_rate_on: Day | None = Field(
        default=None, exclude_if=lambda day: day is None
    )  # as on DocumentDraft
    applied_to: tuple[tuple[Link, ExactDecimal], ...] = ()


class CreditApplication(PlanModel):
    credit_note: Link
    document: Link
    amount: ExactDecimal


class CreditRefundDraft(PlanModel):
    """Money paid back against a credit note."""

    credit_note: Link
    amount: ExactDecimal
    date: date
    from_account_id: str | None = None
    payment_mode: str | None = None
    reference: str | None = None


class LookupKind(StrEnum):
    """Target master data a mapping may name and `mappings validate --against` checks."""

    TAXES = "taxes"
    CURRENCIES = "currencies"
    ACCOUNTS = "accounts"
    BANK_ACCOUNTS = "bank_accounts"
    PAYMENT_MODES = "payment_modes"
    ITEMS = "items"
    CUSTOM_FIELDS = "custom_fields"  # details: {"module": ...} (what records carry it)


class LookupEntry(PlanModel):
    kind: LookupKind
    target_id: str
    name: str
    details: dict[str, Any] = Field(default_factory=dict)
