"""Response models: what the connector reads out of Zoho Books JSON.

Lenient on purpose (facts doc §8.1): ids arrive as strings *or* numbers (spec
examples), empty values as ``""``, unknown keys are kept (``extra="allow"``).
Amounts must already be ``Decimal`` (parsed with ``parse_float=Decimal``) or
ints/strings -- never floats.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _id(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ValueError("an id is not a boolean")
    if isinstance(value, float):
        raise ValueError("ids must not be parsed as float (precision loss)")
    return str(value).strip()


def _amount(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float):
        raise ValueError("amount parsed as float; use parse_float=Decimal")
    if isinstance(value, str):
        return Decimal(value.strip().replace(",", ""))
    return value


ZohoId = Annotated[str, BeforeValidator(_id)]
Amount = Annotated[Decimal | None, BeforeValidator(_amount)]


class ZohoModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class PageContext(ZohoModel):
    page: int = 1
    per_page: int = 200
    has_more_page: bool = False


class Organization(ZohoModel):
    organization_id: ZohoId
    name: str = ""
    currency_code: str | None = None
    currency_id: ZohoId = ""
    price_precision: int | None = None
    is_default_org: bool | None = None
    plan_name: str | None = None


class CustomFieldValue(ZohoModel):
    customfield_id: ZohoId = ""
    api_name: str | None = None
    label: str | None = None
    value: Any = None


class Contact(ZohoModel):
    contact_id: ZohoId
    contact_name: str = ""
    email: str | None = None
    currency_id: ZohoId = ""
    currency_code: str | None = None
    custom_field_hash: dict[str, Any] = Field(default_factory=dict)
    last_modified_time: str | None = None


class Item(ZohoModel):
    item_id: ZohoId
    name: str = ""
    sku: str | None = None
    rate: Amount = None
    tax_id: ZohoId = ""


class LineItem(ZohoModel):
    line_item_id: ZohoId = ""
    item_id: ZohoId = ""
    name: str | None = None
    description: str | None = None
    rate: Amount = None
    quantity: Amount = None
    discount: Any = None
    tax_id: ZohoId = ""
    item_total: Amount = None


class TaxAmount(ZohoModel):
    tax_name: str | None = None
    tax_amount: Amount = None


class Document(ZohoModel):
    """Fields invoices, sales receipts and credit notes share."""

    customer_id: ZohoId = ""
    date: str | None = None
    status: str | None = None
    reference_number: str | None = None
    currency_code: str | None = None
    exchange_rate: Amount = None
    sub_total: Amount = None
    tax_total: Amount = None
    discount: Any = None
    shipping_charge: Amount = None
    adjustment: Amount = None
    total: Amount = None
    balance: Amount = None
    line_items: list[LineItem] = Field(default_factory=list)
    taxes: list[TaxAmount] = Field(default_factory=list)
    custom_field_hash: dict[str, Any] = Field(default_factory=dict)
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    last_modified_time: str | None = None


class Invoice(Document):
    invoice_id: ZohoId
    invoice_number: str | None = None


class SalesReceipt(Document):
    sales_receipt_id: ZohoId
    receipt_number: str | None = None


class CreditNote(Document):
    creditnote_id: ZohoId
    creditnote_number: str | None = None


class AppliedInvoice(ZohoModel):
    invoice_id: ZohoId
    amount_applied: Amount = None


class CustomerPayment(ZohoModel):
    payment_id: ZohoId
    customer_id: ZohoId = ""
    amount: Amount = None
    unused_amount: Amount = None
    reference_number: str | None = None
    description: str | None = None
    date: str | None = None
    invoices: list[AppliedInvoice] = Field(default_factory=list)
    custom_field_hash: dict[str, Any] = Field(default_factory=dict)


class CreditNoteRefund(ZohoModel):
    """A refund of a credit note: the create's answer, or a row of the note's refund list
    (which states the amount as ``amount_fcy``/``amount_bcy`` instead of ``amount``)."""

    creditnote_refund_id: ZohoId
    amount: Amount = None
    amount_fcy: Amount = None
    reference_number: str | None = None
    description: str | None = None

    @property
    def refunded(self) -> Decimal | None:
        return self.amount if self.amount is not None else self.amount_fcy


class CreditedInvoice(ZohoModel):
    """One application of a credit note to an invoice (``invoices_credited``)."""

    invoice_id: ZohoId
    creditnote_invoice_id: ZohoId = ""
    credited_amount: Amount = None


class Tax(ZohoModel):
    tax_id: ZohoId
    tax_name: str = ""
    tax_percentage: Amount = None


class Currency(ZohoModel):
    currency_id: ZohoId
    currency_code: str
    price_precision: int | None = None
    is_base_currency: bool = False
    exchange_rate: Amount = None


class ExchangeRate(ZohoModel):
    """A row of ``GET /settings/currencies/{id}/exchangerates`` (currency.yml)."""

    exchange_rate_id: ZohoId | None = None
    currency_code: str | None = None
    effective_date: date | None = None
    rate: Amount = None


class Account(ZohoModel):
    account_id: ZohoId
    account_name: str = ""
    account_type: str | None = None


class TokenResponse(ZohoModel):
    access_token: str
    api_domain: str | None = None
    expires_in: int = 3600
    refresh_token: str | None = None
    token_type: str | None = None


def page_context(value: Any) -> PageContext:
    """``page_context`` is an object live, an array in the spec (defect 1): accept both."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return PageContext.model_validate(value or {})
