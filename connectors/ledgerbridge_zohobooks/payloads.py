"""Plan drafts -> Zoho Books request bodies (pure functions, no I/O).

Amounts are rounded half-up to the currency's precision and stay ``Decimal``
(written as exact JSON numbers by ``jsonmoney.dumps``); ids stay strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.canonical.common import Address
from ledgerbridge.errors import ValidationFailed
from ledgerbridge.plan import (
    ContactDraft,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    ItemDraft,
    PaymentDraft,
)

from .jsonmoney import quantize
from .shapes import undiscounted

DEFAULT_PAYMENT_MODE = "others"


def write_marker(key: str) -> str:
    """The tag a payment or refund carries in its ``description`` so that it is found
    again after a lost response (``[ledgerbridge <key>]``). The brackets keep one key
    from matching inside a longer one (``...:T1`` in ``...:T10``)."""
    return f"[ledgerbridge {key}]"


def has_marker(description: str | None, key: str) -> bool:
    return write_marker(key) in (description or "")


def address(addr: Address | None) -> dict[str, Any] | None:
    if addr is None:
        return None
    body = {
        "attention": addr.name or addr.company,
        "address": addr.line1,
        "street2": addr.line2,
        "city": addr.city,
        "state": addr.region,
        "state_code": addr.region_code,
        "zip": addr.postal_code,
        "country": addr.country_code,
        "phone": addr.phone,
    }
    return {k: v for k, v in body.items() if v}


def contact_body(
    draft: ContactDraft, *, currency_id: str | None, fields: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """``fields``: the contact's custom fields, already addressed as ``contacts.yml``
    declares them (``customfields.Catalog``)."""
    body: dict[str, Any] = {"contact_name": draft.display_name, "contact_type": "customer"}
    if draft.company:
        body["company_name"] = draft.company
    if currency_id:
        body["currency_id"] = currency_id
    for name, addr in (
        ("billing_address", draft.billing_address),
        ("shipping_address", draft.shipping_address),
    ):
        rendered = address(addr)
        if rendered:
            body[name] = rendered
    if draft.email or draft.first_name or draft.last_name or draft.phone:
        person = {
            "first_name": draft.first_name,
            "last_name": draft.last_name,
            "email": draft.email,
            "phone": draft.phone,
            "is_primary_contact": True,
        }
        body["contact_persons"] = [{k: v for k, v in person.items() if v is not None}]
    if fields:
        body["custom_fields"] = fields
    return body


def item_body(draft: ItemDraft, *, places: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": draft.name,
        "rate": quantize(draft.rate or Decimal(0), places),
        "product_type": "goods",
    }
    for name in ("sku", "tax_id", "description", "account_id"):
        if getattr(draft, name):
            body[name] = getattr(draft, name)
    return body


def line_body(line: DocumentLine, *, places: int, kind: DocumentKind) -> dict[str, Any]:
    if kind is DocumentKind.CREDIT_NOTE:
        # A credit-note line carries no discount (credit-notes.yml declares none).
        line = undiscounted(line, places, counted=True)
    body: dict[str, Any] = {
        "description": line.description,
        "rate": quantize(line.rate, places),  # sent for credit notes too (spec defect 5)
        "quantity": line.quantity,
    }
    if line.item is not None:
        body["item_id"] = line.item.require()
    else:
        body["name"] = line.description  # description-only line (spec defect 4)
    if line.discount:
        body["discount"] = quantize(line.discount, places)
    if line.tax_id:
        body["tax_id"] = line.tax_id
    if line.account_id and kind is DocumentKind.CREDIT_NOTE:
        body["account_id"] = line.account_id
    return body


def discount_fields(draft: DocumentDraft, *, places: int) -> dict[str, Any]:
    """The document's discount scope: Zoho takes one per document (``discount_type``
    ``entity_level`` or ``item_level``, invoices.yml; facts doc §15). The mapping folds an
    order discount into the lines when a line has its own (``ledgerbridge.plan_discounts``); a draft
    that still carries both is refused here rather than booked wrong."""
    lined = any(line.discount for line in draft.lines)
    if draft.kind is DocumentKind.CREDIT_NOTE:
        if draft.discount:
            raise ValidationFailed(
                f"credit note {draft.key.reference} carries a document discount; "
                "credit-notes.yml declares none (credit the discounted lines instead)",
                platform="zohobooks",
            )
        return {}  # line discounts are folded into the rates (shapes.undiscounted)
    if draft.discount and lined:
        raise ValidationFailed(
            f"{draft.kind.value} {draft.key.reference} carries a document discount and line "
            "discounts; Zoho Books takes one scope per document (fold the document discount "
            "into the lines)",
            platform="zohobooks",
        )
    if draft.discount:
        return {
            "discount": quantize(draft.discount, places),
            "is_discount_before_tax": True,
            "discount_type": "entity_level",
        }
    if lined:
        return {"discount_type": "item_level"}
    return {}


# customer-payments.yml spells payment modes ``creditcard``/``banktransfer``; sales-receipt.yml
# ``credit_card``/``bank_transfer`` (facts doc §12 defect 9, §15). Mappings use the payment
# spelling (it is also the lookup's); receipts get theirs.
RECEIPT_SPELLING = {
    "creditcard": "credit_card",
    "banktransfer": "bank_transfer",
    "bankremittance": "bank_remittance",
    "autotransaction": "auto_transaction",
}


def credit_note_extra_lines(draft: DocumentDraft, *, places: int) -> list[dict[str, Any]]:
    """A credit note's refunded shipping and its adjustment as description-only lines: the
    credit-note request schema declares no ``shipping_charge``/``adjustment`` (facts doc
    §15), while its lines take a name, a description and a tax. Zoho's arithmetic is the
    same: a line is taxed (or its tax extracted) exactly as a shipping charge is."""
    lines: list[dict[str, Any]] = []
    if draft.shipping_charge:
        line: dict[str, Any] = {
            "name": "Shipping",
            "description": "Shipping refund",
            "rate": quantize(draft.shipping_charge, places),
            "quantity": Decimal(1),
        }
        if draft.shipping_tax_id:
            line["tax_id"] = draft.shipping_tax_id
        lines.append(line)
    if draft.adjustment:
        text = draft.adjustment_description or "Adjustment"
        lines.append(
            {
                "name": text,
                "description": text,
                "rate": quantize(draft.adjustment, places),
                "quantity": Decimal(1),
            }
        )
    return lines


def receipt_body(draft: DocumentDraft, lines: list[DocumentLine], *, places: int) -> dict[str, Any]:
    """A sales receipt with only the fields ``sales-receipt.yml`` declares: its lines come
    from ``shapes.receipt_lines`` (each with an item, no discount, tax-exclusive)."""
    line_items = []
    for line in lines:
        entry: dict[str, Any] = {
            "item_id": line.item.require() if line.item else "",
            "rate": quantize(line.rate, places),
            "quantity": line.quantity,
        }
        if line.tax_id:
            entry["tax_id"] = line.tax_id
        line_items.append(entry)
    mode = draft.payment_mode or DEFAULT_PAYMENT_MODE
    body: dict[str, Any] = {
        "customer_id": draft.contact.require(),
        "receipt_number": draft.key.reference,
        "date": draft.date.isoformat(),
        "payment_mode": RECEIPT_SPELLING.get(mode, mode),
        "line_items": line_items,
    }
    if draft.notes:
        body["notes"] = draft.notes
    return body


def document_body(
    draft: DocumentDraft,
    *,
    places: int,
    fields: list[dict[str, Any]] | None = None,
    currency_id: str | None = None,
) -> dict[str, Any]:
    """An invoice or credit note (receipts: ``receipt_body``). ``fields``: custom fields
    already addressed as the module's request schema declares (``customfields``)."""
    body: dict[str, Any] = {
        "customer_id": draft.contact.require(),
        "date": draft.date.isoformat(),
        "line_items": [line_body(line, places=places, kind=draft.kind) for line in draft.lines],
        "is_inclusive_tax": draft.taxes_included,
    }
    if currency_id:
        # The draft's currency, stated (invoices.yml, credit-notes.yml declare currency_id):
        # Zoho refuses it if the contact is in another one, instead of booking the
        # amounts in the contact's currency.
        body["currency_id"] = currency_id
    body["reference_number"] = draft.key.reference
    if draft.exchange_rate is not None:
        body["exchange_rate"] = draft.exchange_rate
    body.update(discount_fields(draft, places=places))
    if draft.kind is DocumentKind.CREDIT_NOTE:
        # credit-notes.yml declares neither shipping_charge nor adjustment: both are lines.
        body["line_items"] += credit_note_extra_lines(draft, places=places)
    else:
        if draft.shipping_charge:
            if draft.shipping_tax_id:
                # No request schema declares shipping_charge_tax_id (facts doc §15); the
                # target turns a taxed charge into a line first (shapes.invoice).
                raise ValidationFailed(
                    f"{draft.kind.value} {draft.key.reference}: a taxed shipping charge "
                    "must be sent as a line",
                    platform="zohobooks",
                )
            # The spec types shipping_charge as a string (defect 7); an exact decimal string.
            body["shipping_charge"] = format(quantize(draft.shipping_charge, places), "f")
        if draft.adjustment:
            body["adjustment"] = quantize(draft.adjustment, places)
            body["adjustment_description"] = draft.adjustment_description or "Rounding"
    if draft.notes:
        body["notes"] = draft.notes
    if fields:
        body["custom_fields"] = fields
    body.update(draft.extra)
    return body


def payment_body(
    draft: PaymentDraft, *, places: int, fields: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": draft.contact.require(),
        "payment_mode": draft.payment_mode or DEFAULT_PAYMENT_MODE,
        "amount": quantize(draft.amount, places),
        "date": draft.date.isoformat(),
        # Our business key's reference, so find_payment finds it after a lost response;
        # the gateway's own reference goes to the description.
        "reference_number": draft.key.reference,
        # An empty list is an advance: the amount stays as customer credit.
        "invoices": [
            {"invoice_id": link.require(), "amount_applied": quantize(amount, places)}
            for link, amount in draft.applied_to
        ],
    }
    # The marker first: the payment is found by it after a lost response (two payments of
    # one order share the reference_number); the gateway's own reference after it.
    body["description"] = write_marker(draft.key.source_key) + (
        f" Reference: {draft.reference}" if draft.reference else ""
    )
    if draft.account_id:
        body["account_id"] = draft.account_id
    if draft.exchange_rate is not None:
        body["exchange_rate"] = draft.exchange_rate
    if fields:
        body["custom_fields"] = fields
    return body


def credit_refund_body(
    draft: CreditRefundDraft, *, places: int, from_account_id: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "date": draft.date.isoformat(),
        "amount": quantize(draft.amount, places),
        "from_account_id": from_account_id,
        "refund_mode": draft.payment_mode or DEFAULT_PAYMENT_MODE,
    }
    if draft.reference:
        body["reference_number"] = draft.reference
    # Found by this after a lost response (``ZohoBooksTarget.find_refund``): the credit
    # note's key names the source refund, and a note gets one refund write from us.
    body["description"] = write_marker(draft.credit_note.key)
    return body
