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


def test_an_order_discount_is_shared_so_no_shipment_is_invoiced_below_zero():
    """10.00 off a 2 x 8.00 order: the first shipment (one unit) must not carry it all
    (8.00 - 10.00 = -2.00); each shipment takes its share, the two adding up to 6.00."""
    data = order_data(
        lines=[{"line_id": "L1", "title": "L1", "quantity": 2, "unit_price": m("8.00")}],
        shipping_lines=[],
        discounts=[{"amount": m("10.00"), "allocated": False}],
        totals={"total": m("6.00")},
    )
    order = Order.model_validate(data)
    parts = split_by_fulfilment(_ship(order, [{"L1": 1}, {"L1": 1}]))
    totals = [p.totals.total.amount for _, p in parts]
    assert all(t >= 0 for t in totals), totals
    assert sum(totals) == Decimal("6.00")
    first_alone = split_by_fulfilment(_ship(order, [{"L1": 1}]))[0][1]
    assert first_alone.totals.total == parts[0][1].totals.total


def test_a_shipment_created_earlier_but_shipped_later_does_not_take_the_first_invoice_twice():
    """F0 is created first but still pending when F1 ships: F1's invoice is posted as the
    first part (with the shipping).  When F0 ships, the parts already posted keep their
    places -- F0 comes after them -- so the shipping is not invoiced a second time and the
    invoices add up to the order to the cent."""
    order = make_order()
    pending = _ship(order, [{"L1": 1, "L3": 1}, {"L1": 2, "L2": 2}])
    f0, f1 = pending.fulfilments
    early = pending.model_copy(
        update={"fulfilments": (f0.model_copy(update={"status": FulfilmentStatus.PENDING}), f1)}
    )
    [(first, posted)] = split_by_fulfilment(early)
    assert first.external_id == "F1" and posted.shipping_lines
    later = split_by_fulfilment(pending, posted=["F1"])
    assert [f.external_id for f, _ in later] == ["F1", "F0"]
    assert later[0][1].totals.total == posted.totals.total
    assert posted.totals.total.amount + later[1][1].totals.total.amount == order.totals.total.amount


def test_units_shipped_again_are_not_invoiced_again():
    """A source that reports more units shipped than were ordered (a replacement sent
    for a lost parcel, a shipment listed twice) must not invoice goods never sold: the
    parts never hold more of a line than the order does."""
    order = make_order()
    parts = split_by_fulfilment(_ship(order, [{"L1": 3, "L2": 2, "L3": 1}, {"L1": 1}]))
    assert [f.external_id for f, _ in parts] == ["F0"]  # nothing more to invoice
    assert sum(p.totals.total.amount for _, p in parts) == order.totals.total.amount


def test_a_line_edited_after_its_first_shipment_was_posted_keeps_the_posted_figures():
    """L1 ships one unit and is posted; then its quantity drops to 2 and its discount and
    tax change.  The posted part keeps what it was invoiced with (``figures``); the second
    takes what remains of the edited line, so the two add up to the edited line."""
    from ledgerbridge.canonical.shipped import line_figures

    order = make_order()
    [first] = [p for _, p in split_by_fulfilment(_ship(order, [{"L1": 1}]))]
    posted = {"F0": {x.line_id: line_figures(x) for x in first.lines}}
    edited = order.model_copy(
        update={
            "lines": tuple(
                x.model_copy(
                    update={
                        "quantity": Decimal(2),
                        "discount": x.discount.model_copy(update={"amount": Decimal("0.70")}),
                        "taxes": (
                            x.taxes[0].model_copy(
                                update={
                                    "amount": x.taxes[0].amount.model_copy(
                                        update={"amount": Decimal("1.93")}
                                    )
                                }
                            ),
                        ),
                    }
                )
                if x.line_id == "L1"
                else x
                for x in order.lines
            )
        }
    )
    parts = split_by_fulfilment(
        _ship(edited, [{"L1": 1}, {"L1": 1, "L2": 2, "L3": 1}]), ["F0"], posted
    )
    l1 = [next(x for x in p.lines if x.line_id == "L1") for _, p in parts]
    assert l1[0].discount == first.lines[0].discount  # the posted share did not move
    assert l1[0].taxes == first.lines[0].taxes
    assert sum(x.quantity for x in l1) == 2
    assert sum(x.discount.amount for x in l1 if x.discount) == Decimal("0.70")
    assert sum(x.taxes[0].amount.amount for x in l1) == Decimal("1.93")
