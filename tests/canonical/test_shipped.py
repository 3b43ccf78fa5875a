"""Cutting an order into its shipments (canonical/shipped.py): exact parts, stable shares."""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge.canonical import Fulfilment, FulfilmentLine, FulfilmentStatus, Order
from ledgerbridge.canonical.shipped import cumulative, fully_shipped, split_by_fulfilment

from ..canonical_factory import m, order_data


def make_order() -> Order:
    """Three lines whose discounts and taxes do not divide evenly by their quantities."""
    specs = [("L1", 3, "9.99", "1.00", "2.90"), ("L2", 2, "15.01", "0.33", "2.97"),
             ("L3", 1, "7.77", None, "0.78")]  # fmt: skip
    lines, total = [], Decimal("5.50")
    for line_id, qty, price, disc, tax in specs:
        lines.append({
            "line_id": line_id, "title": line_id, "quantity": qty, "unit_price": m(price),
            "discount": m(disc) if disc else None,
            "taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m(tax)}],
        })  # fmt: skip
        total += Decimal(price) * qty - Decimal(disc or 0) + Decimal(tax)
    data = order_data(lines=lines, totals={"total": m(str(total))})
    data["shipping_lines"][0]["price"] = m("5.00")
    return Order.model_validate(data)


def _ship(order: Order, plan: list[dict[str, int]]) -> Order:
    fulfilments = tuple(
        Fulfilment(
            external_id=f"F{i}",
            status=FulfilmentStatus.SHIPPED,
            lines=tuple(FulfilmentLine(line_id=k, quantity=Decimal(v)) for k, v in p.items()),
        )
        for i, p in enumerate(plan)
    )
    return order.model_copy(update={"fulfilments": fulfilments})


def test_cumulative_shares_add_up_and_never_change_when_later_shipments_arrive():
    amount, qty = Decimal("10.00"), Decimal(3)
    assert cumulative(amount, [Decimal(1)] * 3, qty, 2) == [
        Decimal("3.33"), Decimal("3.34"), Decimal("3.33"),
    ]  # fmt: skip
    assert cumulative(amount, [Decimal(1)], qty, 2) == [Decimal("3.33")]
    assert sum(cumulative(Decimal("0.05"), [Decimal(1)] * 7, Decimal(7), 2)) == Decimal("0.05")


def test_three_shipments_of_an_order_add_up_to_it_to_the_cent():
    order = make_order()
    units = [(line.line_id, int(line.quantity)) for line in order.lines]
    assert sum(q for _, q in units) >= 2, units
    plan: list[dict[str, int]] = [{}, {}, {}]
    k = 0
    for line_id, q in units:
        for _ in range(q):
            plan[k % 3][line_id] = plan[k % 3].get(line_id, 0) + 1
            k += 1
    plan = [p for p in plan if p]
    shipped = _ship(order, plan)
    assert fully_shipped(shipped)
    parts = split_by_fulfilment(shipped)
    assert sum(p.totals.total.amount for _, p in parts) == order.totals.total.amount
    first_alone = split_by_fulfilment(_ship(order, plan[:1]))[0][1]
    assert first_alone.totals.total == parts[0][1].totals.total  # stable as shipments arrive
    assert not fully_shipped(_ship(order, plan[:1])) or len(plan) == 1
