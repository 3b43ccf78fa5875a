"""An order cut into its shipments: one canonical sub-order per fulfilment.

Each part holds exactly the lines and quantities its fulfilment shipped.  A line's
discount and each of its taxes are shared between the parts in proportion to quantity,
in the currency's minor unit, by *cumulative* rounding: the first k shipments of a line
get round(amount x shipped-so-far / quantity), each shipment the difference from the
one before.  Whatever the rounding leaves goes to the shipment whose cumulative share
crosses it -- the largest-remainder result for the sequence -- and, unlike a split
recomputed over all parts, a shipment's share never changes when later ones arrive
(its invoice is already posted).  A fully shipped line is shared out exactly, so the
parts of a fully shipped order add up to the order to the cent.
Shipping, fees, order-level taxes and discounts and the rounding adjustment go on the
first part (the first shipment carries the order's own charges).

Pure and Decimal only; the planner (``engine/fulfilments.py``) books each part.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .common import TaxLine
from .fulfilment import Fulfilment
from .money import Money, minor_units
from .order import Order, OrderLine, OrderTotals
from .reconcile import reconcile_order


def cumulative(
    amount: Decimal, taken: list[Decimal], quantity: Decimal, places: int
) -> list[Decimal]:
    """Shares of ``amount`` for quantities ``taken`` (in shipping order) of ``quantity``:
    each the rounded cumulative share less the one before (stable as shipments arrive)."""
    if quantity <= 0:
        return [Decimal(0)] * len(taken)
    unit = Decimal(1).scaleb(-places)
    shares, before, done = [], Decimal(0), Decimal(0)
    for q in taken:
        done = min(done + q, quantity)
        upto = (amount * done / quantity).quantize(unit, rounding=ROUND_HALF_UP)
        shares.append(upto - before)
        before = upto
    return shares


def shipped_quantities(order: Order, fulfilment: Fulfilment) -> dict[str, Decimal]:
    """Line id -> quantity this fulfilment shipped (the whole order when the source
    cannot say which lines: ``whole_order``)."""
    if fulfilment.whole_order or not fulfilment.lines:
        return {line.line_id: line.quantity for line in order.lines}
    out: dict[str, Decimal] = {}
    for item in fulfilment.lines:
        out[item.line_id] = out.get(item.line_id, Decimal(0)) + item.quantity
    return out


def split_by_fulfilment(order: Order) -> list[tuple[Fulfilment, Order]]:
    """The order's shipped fulfilments, oldest first, each with its part of the order."""
    shipped = [f for f in order.fulfilments if f.shipped]
    if not shipped:
        return []
    places = minor_units(order.currency)
    qty = [shipped_quantities(order, f) for f in shipped]
    parts_lines: list[list[OrderLine]] = [[] for _ in shipped]
    for line in order.lines:
        taken = [q.get(line.line_id, Decimal(0)) for q in qty]
        discounts = (
            cumulative(line.discount.amount, taken, line.quantity, places)
            if line.discount is not None
            else None
        )
        taxes = [cumulative(t.amount.amount, taken, line.quantity, places) for t in line.taxes]
        for i, q in enumerate(taken):
            if q <= 0:
                continue
            parts_lines[i].append(
                line.model_copy(
                    update={
                        "quantity": q,
                        "discount": Money(amount=discounts[i], currency=order.currency)
                        if discounts is not None
                        else None,
                        "taxes": tuple(
                            _tax(t, shares[i], order.currency)
                            for t, shares in zip(line.taxes, taxes, strict=True)
                        ),
                    }
                )
            )
    parts: list[tuple[Fulfilment, Order]] = []
    for i, fulfilment in enumerate(shipped):
        first = i == 0
        update: dict[str, Any] = {
            "lines": tuple(parts_lines[i]),
            "fulfilments": (fulfilment,),
            "payments": (),
            "refunds": (),
        }
        if not first:
            update.update(shipping_lines=(), fees=(), tax_lines=(), rounding_adjustment=None)
            update["discounts"] = tuple(d for d in order.discounts if d.allocated)
        part = order.model_copy(update=update)
        computed = reconcile_order(part).computed
        if part.rounding_adjustment is not None:
            computed += part.rounding_adjustment.amount
        total = Money(amount=computed, currency=order.currency)
        parts.append((fulfilment, part.model_copy(update={"totals": OrderTotals(total=total)})))
    return parts


def _tax(tax: TaxLine, amount: Decimal, currency: str) -> TaxLine:
    return tax.model_copy(update={"amount": Money(amount=amount, currency=currency)})


def fully_shipped(order: Order) -> bool:
    """Every unit of every line is in a shipped fulfilment."""
    shipped: dict[str, Decimal] = {}
    for f in order.fulfilments:
        if f.shipped:
            for line_id, q in shipped_quantities(order, f).items():
                shipped[line_id] = shipped.get(line_id, Decimal(0)) + q
    return all(shipped.get(line.line_id, Decimal(0)) >= line.quantity for line in order.lines)


__all__ = ["cumulative", "fully_shipped", "shipped_quantities", "split_by_fulfilment"]
