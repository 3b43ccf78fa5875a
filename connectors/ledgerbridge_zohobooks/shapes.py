"""Drafts reshaped into what each Zoho Books request schema can carry (pure).

* **Invoices** take ``shipping_charge`` but no tax for it: ``shipping_charge_tax_id`` is in
  no request schema (``invoices.yml``; facts doc §15). A taxed shipping charge becomes a
  description-only line with that tax (Zoho taxes a line exactly as it taxes a shipping
  charge), and an order discount is then folded into the product lines, so shipping is
  never taxed on less than the storefront taxed it (``ledgerbridge.plan_discounts``).
* **Sales receipts** (``sales-receipt.yml``) take lines of ``{item_id, rate, quantity,
  tax_id}`` and nothing else: no discount, shipping, adjustment, tax-inclusive flag or
  exchange rate. So every discount is folded into the lines' rates, shipping and the
  adjustment become lines, a line without an item gets the connector's service item for
  its purpose, and tax-inclusive prices are written net of tax (the engine settles the
  remaining cent, as a line too). A receipt in another currency than the organisation's
  cannot be written at all (no exchange rate): the record is refused with what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerbridge.errors import ValidationFailed
from ledgerbridge.plan import DocumentDraft, DocumentLine, Link
from ledgerbridge.plan_discounts import one_scope

from .jsonmoney import quantize

PLATFORM = "zohobooks"
SHIPPING = "shipping"
ADJUSTMENT = "adjustment"
LINE = "line"
# The connector's service items for receipt lines the source gives no item (by SKU).
SERVICE_ITEMS: dict[str, tuple[str, str]] = {
    SHIPPING: ("ledgerbridge-shipping", "Shipping"),
    ADJUSTMENT: ("ledgerbridge-adjustment", "Adjustment"),
    LINE: ("ledgerbridge-line", "Other charges"),
}


def _shipping_line(draft: DocumentDraft) -> DocumentLine:
    return DocumentLine(
        description="Shipping",
        quantity=Decimal(1),
        rate=draft.shipping_charge or Decimal(0),
        tax_id=draft.shipping_tax_id,
        source_line_id="shipping:charge",
    )


def invoice(draft: DocumentDraft) -> DocumentDraft:
    """A taxed shipping charge as a taxed line (see the module docstring)."""
    if not (draft.shipping_charge and draft.shipping_tax_id):
        return draft
    lines, discount = one_scope(
        [*draft.lines, _shipping_line(draft)],
        draft.discount,
        currency=draft.currency,
        subject=f"{draft.kind.value} {draft.key.reference}",
    )
    return draft.model_copy(
        update={
            "lines": tuple(lines),
            "discount": discount,
            "shipping_charge": None,
            "shipping_tax_id": None,
        }
    )


def undiscounted(line: DocumentLine, places: int, *, counted: bool = False) -> DocumentLine:
    """A line's own discount folded into its rate: the discounted unit price when exact
    to the cent, else the line's net amount as one unit (``counted``: its description
    then says how many)."""
    if not line.discount:
        return line
    net = line.rate * line.quantity - line.discount
    unit = net / line.quantity if line.quantity else net
    if line.quantity and quantize(unit, places) * line.quantity == net:
        return line.model_copy(update={"rate": unit, "discount": None})
    update: dict[str, Any] = {"rate": net, "quantity": Decimal(1), "discount": None}
    if counted:
        update["description"] = f"{line.quantity} x {line.description}"
    return line.model_copy(update=update)


def receipt_lines(
    draft: DocumentDraft,
    *,
    places: int,
    tax_rates: Mapping[str, Decimal],
    service_items: Mapping[str, str],
) -> list[DocumentLine]:
    """The receipt's lines, each with an item, no discount and a tax-exclusive rate."""
    subject = f"sales receipt {draft.key.reference}"
    lines = list(draft.lines)
    if draft.shipping_charge:
        lines.append(_shipping_line(draft))
    if draft.adjustment:
        lines.append(
            DocumentLine(
                description=draft.adjustment_description or "Adjustment",
                quantity=Decimal(1),
                rate=draft.adjustment,
                source_line_id="fee:adjustment",
            )
        )
    lines, _ = one_scope(
        lines, draft.discount, currency=draft.currency, subject=subject, force=True
    )
    return [
        _receipt_line(line, places=places, taxes_included=draft.taxes_included,
                      tax_rates=tax_rates, service_items=service_items, subject=subject)
        for line in lines
    ]  # fmt: skip


def _receipt_line(
    source: DocumentLine,
    *,
    places: int,
    taxes_included: bool,
    tax_rates: Mapping[str, Decimal],
    service_items: Mapping[str, str],
    subject: str,
) -> DocumentLine:
    line = undiscounted(source, places)
    rate = line.rate
    if taxes_included and line.tax_id:
        pct = tax_rates.get(line.tax_id)
        if pct is None:
            raise ValidationFailed(
                f"{subject}: tax {line.tax_id} is not among the organisation's taxes",
                platform=PLATFORM,
            )
        rate = rate * 100 / (100 + pct)
    item = line.item
    if item is None:
        sid = line.source_line_id or ""
        purpose = (
            SHIPPING
            if sid.startswith("shipping:")
            else ADJUSTMENT
            if sid == "fee:adjustment"
            else LINE
        )
        item = Link(key=f"item:id:{service_items[purpose]}", target_id=service_items[purpose])
    return line.model_copy(update={"rate": quantize(rate, places), "item": item})


def needs_service_items(draft: DocumentDraft) -> set[str]:
    """Which service items a receipt draft's lines will need."""
    wanted = {
        SHIPPING if (line.source_line_id or "").startswith("shipping:") else LINE
        for line in draft.lines
        if line.item is None
    }
    if draft.shipping_charge:
        wanted.add(SHIPPING)
    if draft.adjustment:
        wanted.add(ADJUSTMENT)
    return wanted
