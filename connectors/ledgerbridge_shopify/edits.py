"""Shopify order edits: units removed from a line after the order was placed.

A ``LineItem``'s ``quantity``, ``taxLines`` and ``discountAllocations`` include removed units;
``currentQuantity`` excludes refunded *and* removed ones, ``refundableQuantity`` refunded ones
only (refdata shopify-graphql-schema 2025-01, LineItem), so their difference is what an edit
removed.  The order's stated total no longer holds those units (``shopify.md`` §8.5): booked as
read, the line would be held as a totals mismatch.  It is booked with the units that remain, its
discount and taxes cut to their share (half-up in cents; the reconciliation tolerance takes
Shopify's rounding).  A line removed entirely is dropped.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerbridge.canonical import Money, TaxLine

CENT = Decimal("0.01")


def removed_units(item: dict[str, Any]) -> int:
    current, refundable = item.get("currentQuantity"), item.get("refundableQuantity")
    if not isinstance(current, int) or not isinstance(refundable, int):
        return 0
    return max(refundable - current, 0)


def without_removed(line: dict[str, Any], item: dict[str, Any]) -> dict[str, Any] | None:
    """The canonical line fields of ``line`` less the units an edit removed (None: all)."""
    removed = removed_units(item)
    if removed <= 0:
        return line
    quantity: Decimal = line["quantity"]
    kept = quantity - removed
    if kept <= 0:
        return None

    def share(amount: Money) -> Money:
        part = (amount.amount * kept / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        return Money(amount=part, currency=amount.currency)

    taxes: tuple[TaxLine, ...] = line["taxes"]
    return {
        **line,
        "quantity": kept,
        "discount": share(line["discount"]) if line.get("discount") is not None else None,
        "taxes": tuple(t.model_copy(update={"amount": share(t.amount)}) for t in taxes),
        "extra": {**line.get("extra", {}), "removed_by_edit": removed},
    }
