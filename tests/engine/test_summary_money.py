"""The pure arithmetic of the money under a daily summary (``engine/summary_money.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledgerbridge.engine.daily_money import _documents
from ledgerbridge.engine.summary_money import allocate, per_gateway, posted_per_gateway

D = Decimal


@dataclass
class Binding:
    target_kind: str
    target_id: str = "x"
    snapshot: dict[str, Any] = field(default_factory=dict)


def test_allocate_fills_documents_in_order_never_beyond_a_balance():
    balances = [("summary", D("100.00")), ("adjusting", D("20.00"))]
    assert allocate(D("30.00"), balances) == [("summary", D("30.00"))]
    # a fully paid summary invoice: the late money goes to the adjusting invoice
    assert allocate(D("15.00"), [("summary", D("0.00")), ("adjusting", D("20.00"))]) == [
        ("adjusting", D("15.00"))
    ]
    # more money than is owed: the rest is not allocated (the payment keeps it unapplied)
    spread = allocate(D("150.00"), balances)
    assert spread == [("summary", D("100.00")), ("adjusting", D("20.00"))]
    assert allocate(D("5"), [("paid", D("0"))]) == []


def test_posted_money_is_read_per_gateway_from_the_bindings_of_each_write():
    bindings = [
        Binding("summary_payment|stripe|1", snapshot={"amount": "40.00"}),
        Binding("summary_payment|stripe|2", snapshot={"amount": "2.50"}),
        Binding("summary_payment|bacs|1", snapshot={"amount": "10.00"}),
        Binding("summary_refund|stripe|1", snapshot={"amount": "5.00"}),
        Binding("summary_sales"),
    ]
    posted, last = posted_per_gateway(bindings, "summary_payment")
    assert posted == {"stripe": D("42.50"), "bacs": D("10.00")}
    assert last == {"stripe": 2, "bacs": 1}  # each gateway numbers its own writes
    assert posted_per_gateway(bindings, "summary_refund") == ({"stripe": D("5.00")}, {"stripe": 1})


def test_per_gateway_sums_the_orders_money():
    assert per_gateway([{"stripe": "10.10", "bacs": "1"}, {"stripe": "0.90"}]) == {
        "stripe": D("11.00"),
        "bacs": D("1"),
    }


def test_a_days_documents_are_the_summary_then_its_adjusting_ones_in_order():
    bindings = [
        Binding("summary_sales_adjustment_10_increase", "inv-10"),
        Binding("summary_sales", "inv"),
        Binding("summary_sales_adjustment_2_increase", "inv-2"),
        Binding("summary_sales_adjustment_3_decrease", "cn-3"),
        Binding("summary_refunds", "cn"),
    ]
    assert _documents(bindings, "sales", "increase") == ["inv", "inv-2", "inv-10"]
    assert _documents(bindings, "sales", "decrease") == ["cn-3"]
    assert _documents(bindings, "refunds", "increase") == ["cn"]


def test_a_yen_summary_estimates_tax_in_whole_yen_so_its_rounding_is_whole_yen_too():
    """JPY has no minor unit: the tax the books will compute on a summary line is whole
    yen, so the rounding against the orders' own total is whole yen (or none) -- never a
    fraction estimated in cents (10% of 9569 is 957 yen, not 956.90)."""
    from datetime import date as day

    from ledgerbridge.engine.summary import summary_draft
    from ledgerbridge.plan import DocumentKind, Link

    def draft(currency: str, stated: str) -> Any:
        return summary_draft(
            kind=DocumentKind.INVOICE, day="2026-03-01", currency=currency,
            amounts={"t10|": Decimal("9569"), "|": Decimal("7700")}, contact=Link(key="c"),
            tax_rates={"t10": Decimal("0.10")}, stated_total=Decimal(stated),
            taxes_included=False, label="Sales", key_suffix="sales",
        )  # fmt: skip

    assert draft("JPY", "18226").adjustment is None  # 9569 + 957 + 7700: nothing to settle
    assert draft("JPY", "18225").adjustment == Decimal("-1")  # the orders' taxes said 956
    assert draft("USD", "18225.90").adjustment is None  # cents where the currency has them
    assert draft("JPY", "18226").date == day(2026, 3, 1)
