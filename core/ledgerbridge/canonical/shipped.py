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
Shipping, fees, order-level taxes and the rounding adjustment go on the first part (the
first shipment carries the order's own charges).  An unallocated order discount is shared
in proportion to each part's net (``order_discount_shares``): put whole on the first part
it could exceed what that shipment is worth and make its invoice negative.

Pure and Decimal only; the planner (``engine/fulfilments.py``) books each part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def split_by_fulfilment(
    order: Order,
    posted: Sequence[str] = (),
    figures: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[tuple[Fulfilment, Order]]:
    """The order's shipped fulfilments, each with its part of the order: those in
    ``posted`` (already invoiced, in the order they were) first, then the rest oldest
    first.  A shipment created earlier but shipped after others were invoiced must not
    take their places: each part's share depends on the parts before it, and the first
    carries the shipping.

    ``figures`` (fulfilment id -> line id -> ``line_figures``) are what the posted parts
    were invoiced with: they are kept as they were, and the later parts share what remains
    of the order's figures now, so an order edited after a shipment was invoiced still
    adds up (a remainder gone negative is the edit's to adjust, not a share's)."""
    figures = figures or {}
    rank = {fid: i for i, fid in enumerate(posted)}
    shipped = sorted(
        (f for f in order.fulfilments if f.shipped),
        key=lambda f: (0, rank[f.external_id]) if f.external_id in rank else (1, 0),
    )
    if not shipped:
        return []
    places = minor_units(order.currency)
    qty = [shipped_quantities(order, f) for f in shipped]
    parts_lines: list[list[OrderLine]] = [[] for _ in shipped]
    for line in order.lines:
        taken = _within(line.quantity, [q.get(line.line_id, Decimal(0)) for q in qty])
        done: dict[int, Mapping[str, Any]] = {}
        for i, f in enumerate(shipped):
            known = figures.get(f.external_id, {}).get(line.line_id)
            if known is not None:
                done[i] = known
                taken[i] = Decimal(str(known["q"]))
        quantity = line.quantity - sum((taken[i] for i in done), Decimal(0))
        # Units of later parts: what the posted ones left of the line (``_within``).
        later = [
            Decimal(0) if i in done else q for i, q in enumerate(_within(line.quantity, taken))
        ]
        discount = line.discount.amount if line.discount is not None else Decimal(0)
        discount -= sum((Decimal(str(k["discount"])) for k in done.values()), Decimal(0))
        discounts = (
            cumulative(discount, later, quantity, places)
            if line.discount is not None or done
            else None
        )
        taxes = [
            cumulative(
                t.amount.amount - sum((_posted_tax(k, j) for k in done.values()), Decimal(0)),
                later, quantity, places,
            )
            for j, t in enumerate(line.taxes)
        ]  # fmt: skip
        for i, known in done.items():
            if discounts is not None:
                discounts[i] = Decimal(str(known["discount"]))
            for j, row in enumerate(taxes):
                row[i] = _posted_tax(known, j)
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
    # A later shipment with nothing left to invoice (all it lists shipped before) has no part.
    keep = [i for i, lines in enumerate(parts_lines) if i == 0 or lines]
    shipped = [shipped[i] for i in keep]
    parts_lines = [parts_lines[i] for i in keep]
    nets = [_net(order, lines, i == 0) for i, lines in enumerate(parts_lines)]
    shares = order_discount_shares(order, nets, places)
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
        update["discounts"] = tuple(
            d if d.allocated else d.model_copy(
                update={"amount": Money(amount=shares[k][i], currency=order.currency)}
            )
            for k, d in enumerate(order.discounts)
        )  # fmt: skip
        part = order.model_copy(update=update)
        computed = reconcile_order(part).computed
        if part.rounding_adjustment is not None:
            computed += part.rounding_adjustment.amount
        total = Money(amount=computed, currency=order.currency)
        parts.append((fulfilment, part.model_copy(update={"totals": OrderTotals(total=total)})))
    return parts


def line_figures(line: OrderLine) -> dict[str, Any]:
    """What a posted part invoiced of a line (its snapshot): quantity, discount, taxes,
    and the unit price, title, SKU and taxes' titles and rates an edit's adjusting
    document needs (``engine/shipment_edits.py``) once the line has changed or gone."""
    return {
        "q": str(line.quantity),
        "discount": str(line.discount.amount if line.discount is not None else 0),
        "taxes": [str(t.amount.amount) for t in line.taxes],
        "price": str(line.unit_price.amount),
        "title": line.title,
        "sku": line.sku,
        "tax": [[t.title, str(t.rate) if t.rate is not None else None] for t in line.taxes],
    }


def _posted_tax(known: Mapping[str, Any], k: int) -> Decimal:
    taxes = known.get("taxes") or []
    return Decimal(str(taxes[k])) if k < len(taxes) else Decimal(0)


def _within(quantity: Decimal, taken: list[Decimal]) -> list[Decimal]:
    """Shipped quantities cut to what the line still had unshipped: units reported again
    (a replacement parcel, a shipment listed twice) were sold once and are invoiced once."""
    out, left = [], quantity
    for asked in taken:
        q = max(min(asked, left), Decimal(0))
        out.append(q)
        left -= q
    return out


def _net(order: Order, lines: list[OrderLine], first: bool) -> Decimal:
    """What a part is worth before order discounts: its lines after their discounts, and
    on the first part the order's shipping and fees."""
    net = sum((line.net.amount for line in lines), Decimal(0))
    if first:
        net += sum((s.net.amount for s in order.shipping_lines), Decimal(0))
        net += sum((f.amount.amount for f in order.fees), Decimal(0))
    return net


def order_discount_shares(order: Order, nets: list[Decimal], places: int) -> list[list[Decimal]]:
    """Per order discount (by index), each part's share of it (0 for allocated ones).

    Each unallocated discount in turn is shared by cumulative rounding over the parts'
    nets against the whole order's net (so a part's share depends only on the parts
    before it: stable as shipments arrive), capped at what the part still has left
    after the discounts before it -- the cap never loses money: the part that completes
    the order's net takes whatever the cumulative target still holds."""
    unit = Decimal(1).scaleb(-places)
    left = list(nets)
    whole = _net(order, list(order.lines), True)
    out: list[list[Decimal]] = []
    for discount in order.discounts:
        if discount.allocated:
            out.append([Decimal(0)] * len(nets))
            continue
        amount, taken, seen, row = discount.amount.amount, Decimal(0), Decimal(0), []
        for i, net in enumerate(list(left)):
            seen += net
            if whole <= 0 or seen >= whole:
                target = amount
            else:
                target = (amount * seen / whole).quantize(unit, rounding=ROUND_HALF_UP)
            share = target - taken if seen >= whole else min(left[i], target - taken)
            share = max(share, Decimal(0))
            row.append(share)
            left[i] -= share
            taken += share
        whole -= amount
        out.append(row)
    return out


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


__all__ = [
    "cumulative",
    "fully_shipped",
    "line_figures",
    "order_discount_shares",
    "shipped_quantities",
    "split_by_fulfilment",
]
