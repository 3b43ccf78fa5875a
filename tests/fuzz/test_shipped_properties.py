"""Properties of cutting an order into its shipments (``canonical/shipped.py``).

For random orders (several lines, unit prices with two decimals, line discounts, an
order discount, one or two taxes, taxes included or excluded, taxed shipping) shipped
in random partitions of 1-4 shipments: every shipment's invoice is non-negative, the
invoices of a fully shipped order add up to it to the cent (subtotal, each tax,
discounts, shipping, total), a posted shipment's share never changes when later
shipments arrive, and a cancelled remainder never leaves a negative invoice.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledgerbridge.canonical import Fulfilment, FulfilmentLine, FulfilmentStatus, Order
from ledgerbridge.canonical.shipped import fully_shipped, split_by_fulfilment

from ..canonical_factory import m, order_data
from .support import bounded

CENT = Decimal("0.01")
RATES = [Decimal("0.10"), Decimal("0.20"), Decimal("0.075"), Decimal("0.05")]


def _cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


@st.composite
def orders(draw: Any) -> tuple[Order, list[dict[str, int]]]:
    """A reconciling order and a random partition of its units into 1-4 shipments."""
    included = draw(st.booleans(), label="taxes_included")
    rates = draw(st.lists(st.sampled_from(RATES), min_size=1, max_size=2, unique=True))
    n_lines = draw(st.integers(1, 4), label="lines")
    lines, goods, taxes = [], Decimal(0), Decimal(0)
    for i in range(n_lines):
        qty = draw(st.integers(1, 6))
        price = Decimal(draw(st.integers(1, 20000))) * CENT
        gross = price * qty
        disc = Decimal(draw(st.integers(0, int(gross / CENT)))) * CENT
        disc = disc if draw(st.booleans()) else Decimal(0)
        net = gross - disc
        line_taxes = []
        for rate in rates:
            base = net / (1 + sum(rates)) if included else net
            amount = _cents(base * rate)
            line_taxes.append({"title": f"T{rate}", "rate": str(rate), "amount": m(str(amount))})
            taxes += amount
        lines.append({
            "line_id": f"L{i}", "title": f"L{i}", "quantity": qty, "unit_price": m(str(price)),
            "discount": m(str(disc)) if disc else None, "taxes": line_taxes,
        })  # fmt: skip
        goods += net
    ship = Decimal(draw(st.integers(0, 2000))) * CENT
    ship_tax = _cents((ship / (1 + rates[0]) if included else ship) * rates[0])
    order_disc = Decimal(draw(st.integers(0, int(goods / CENT)))) * CENT
    order_disc = order_disc if draw(st.booleans()) else Decimal(0)
    total = goods - order_disc + ship + (Decimal(0) if included else taxes + ship_tax)
    data = order_data(
        lines=lines,
        taxes_included=included,
        shipping_lines=[
            {
                "title": "Standard",
                "price": m(str(ship)),
                "taxes": [
                    {"title": f"T{rates[0]}", "rate": str(rates[0]), "amount": m(str(ship_tax))}
                ],
            }
        ],
        discounts=[{"amount": m(str(d)), "allocated": False} for d in _split(draw, order_disc)],
        totals={"total": m(str(total))},
    )
    order = Order.model_validate(data)
    units = [(f"L{i}", lines[i]["quantity"]) for i in range(n_lines)]
    k = draw(st.integers(1, 4), label="shipments")
    plan: list[dict[str, int]] = [{} for _ in range(k)]
    for line_id, qty in units:
        for _ in range(qty):
            j = draw(st.integers(0, k - 1))
            plan[j][line_id] = plan[j].get(line_id, 0) + 1
    plan = [p for p in plan if p]
    return order, draw(st.permutations(plan), label="plan")


def _split(draw: Any, amount: Decimal) -> list[Decimal]:
    """An order discount as one or two unallocated discounts (a code and an automatic)."""
    if amount <= 0:
        return []
    if not draw(st.booleans(), label="two order discounts"):
        return [amount]
    first = Decimal(draw(st.integers(0, int(amount / CENT)))) * CENT
    return [first, amount - first]


def shipped(order: Order, plan: list[dict[str, int]]) -> Order:
    fulfilments = tuple(
        Fulfilment(
            external_id=f"F{i}",
            status=FulfilmentStatus.SHIPPED,
            lines=tuple(FulfilmentLine(line_id=k, quantity=Decimal(v)) for k, v in p.items()),
        )
        for i, p in enumerate(plan)
    )
    return order.model_copy(update={"fulfilments": fulfilments})


def figures(order: Order) -> dict[str, Decimal]:
    """An invoice's figures: subtotal, each tax by title, discounts, shipping, total."""
    r = order.reconciliation()
    out = {
        "subtotal": r.lines,
        "line_discounts": r.line_discounts,
        "order_discounts": r.order_discounts,
        "shipping": r.shipping,
        "total": order.totals.total.amount,
    }
    for tax in order.all_tax_lines():
        out[f"tax:{tax.title}"] = out.get(f"tax:{tax.title}", Decimal(0)) + tax.amount.amount
    return out


def _assert_non_negative(parts: list[tuple[Fulfilment, Order]]) -> None:
    for f, part in parts:
        for name, value in figures(part).items():
            assert value >= 0, f"shipment {f.external_id}: {name} {value} < 0"
        for line in part.lines:
            assert line.net.amount >= 0, f"shipment {f.external_id}: line {line.line_id}"
            assert all(t.amount.amount >= 0 for t in line.taxes), f.external_id


@bounded(150)
@given(case=orders())
def test_shipments_of_a_fully_shipped_order_add_up_to_it_to_the_cent(case: Any) -> None:
    order, plan = case
    whole = shipped(order, plan)
    assert fully_shipped(whole)
    parts = split_by_fulfilment(whole)
    assert len(parts) == len(plan)
    _assert_non_negative(parts)
    expected = figures(order)
    got: dict[str, Decimal] = {}
    for _, part in parts:
        for name, value in figures(part).items():
            got[name] = got.get(name, Decimal(0)) + value
    for name in expected.keys() | got.keys():
        assert got.get(name, Decimal(0)) == expected.get(name, Decimal(0)), name


@bounded(150)
@given(case=orders())
def test_a_posted_shipment_never_changes_when_later_ones_arrive(case: Any) -> None:
    order, plan = case
    final = split_by_fulfilment(shipped(order, plan))
    whole = shipped(order, plan)
    for k in range(1, len(plan)):
        early = split_by_fulfilment(shipped(order, plan[:k]))
        _assert_non_negative(early)
        # The source lists its shipments newest first: the posted ones keep their places.
        listed = whole.model_copy(update={"fulfilments": whole.fulfilments[::-1]})
        ids = [f.external_id for f, _ in early]
        relisted = split_by_fulfilment(listed, posted=ids)
        assert [f.external_id for f, _ in relisted[:k]] == ids
        assert [figures(p) for _, p in relisted[:k]] == [figures(p) for _, p in early]
        assert sum(p.totals.total.amount for _, p in relisted) == order.totals.total.amount
        _assert_non_negative(relisted)
        for (f, before), (g, after) in zip(early, final[:k], strict=True):
            assert f.external_id == g.external_id
            assert figures(before) == figures(after), f.external_id
            assert before.lines == after.lines, f.external_id


@bounded(150)
@given(case=orders(), data=st.data())
def test_a_cancelled_remainder_never_makes_a_negative_invoice(case: Any, data: Any) -> None:
    """Part shipped, the rest cancelled (the order then ships nothing more): the
    invoices of what shipped are each non-negative and never exceed the order."""
    order, plan = case
    k = data.draw(st.integers(1, len(plan)), label="shipped before the cancel")
    part = shipped(order, plan[:k]).model_copy(update={"status": "cancelled"})
    parts = split_by_fulfilment(part)
    _assert_non_negative(parts)
    assert sum(p.totals.total.amount for _, p in parts) <= order.totals.total.amount
