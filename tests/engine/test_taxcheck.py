"""The planner parks an order before any write when the target's own tax arithmetic would
land on another total (``engine/taxcheck.py``; pure, no I/O)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.engine.planner import Operation, plan_order
from ledgerbridge.errors import TotalsMismatch
from ledgerbridge.mapping import load_mapping

from .conftest import m, order

# The shared order: 2 x 10.00 - 2.00 = 18.00 at 10 % (1.80), shipping 5.00 at 10 % (0.50).


def line(tax: str, **more: Any) -> list[dict[str, Any]]:
    return [
        {
            "line_id": "L1", "title": "Widget", "sku": "W-1", "quantity": 2,
            "unit_price": m(more.pop("unit", "10.00")), "discount": m(more.pop("off", "2.00")),
            "taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m(tax)}],
        }
    ]  # fmt: skip


def paid(total: str) -> list[dict[str, Any]]:
    return [
        {"external_id": "T1", "kind": "sale", "status": "success", "amount": m(total),
         "gateway": "shopify_payments"}
    ]  # fmt: skip


def test_a_consistent_order_and_a_cent_of_rounding_pass(runtime: Any) -> None:
    plan = plan_order(order(), runtime)
    assert plan.writes[0].operation is Operation.CREATE_DOCUMENT
    rounded = order(lines=line("1.81"), totals={"total": m("25.31")}, payments=paid("25.31"))
    assert plan_order(rounded, runtime).writes  # within a cent: the executor settles it


def test_a_line_tax_that_is_not_its_rate_times_its_amount_parks_before_any_write(
    runtime: Any,
) -> None:
    bad = order(lines=line("6.80"), totals={"total": m("30.30")}, payments=paid("30.30"))
    with pytest.raises(TotalsMismatch) as caught:
        plan_order(bad, runtime)
    message = str(caught.value)
    assert "line L1 (Widget): tax stated 6.80 but 10% of 18.00 is 1.80" in message
    assert "would be 25.30 instead of 30.30" in message and "before anything" in message
    assert caught.value.difference == caught.value.stated - caught.value.computed


def test_tax_inclusive_prices_are_checked_on_the_tax_inside_the_price(runtime: Any) -> None:
    inclusive = {
        "taxes_included": True,
        "shipping_lines": [
            {"title": "Standard", "price": m("5.50"),
             "taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m("0.50")}]}
        ],
        "totals": {"total": m("25.30")},
        "payments": paid("25.30"),
    }  # fmt: skip
    good = order(lines=line("1.80", unit="11.00", off="2.20"), **inclusive)
    assert plan_order(good, runtime).writes
    bad = order(lines=line("3.80", unit="11.00", off="2.20"), **inclusive)
    with pytest.raises(TotalsMismatch, match=r"tax stated 3\.80 but 10% of 19\.80 is 1\.80"):
        plan_order(bad, runtime)


def test_the_rate_of_the_mapped_target_tax_wins_over_the_source_rate(tmp_path: Path) -> None:
    """The source says 10 % and is consistent, but the mapping sends it to a 7 % tax."""
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "extends: shopify-to-zohobooks\n"
        "lookups:\n"
        "  taxes:\n"
        "    entries:\n"
        '      - {title: VAT 10%, tax_id: "T7"}\n'
        '      - {title: Reduced, rate: 0.07, tax_id: "T7"}\n'
        "  payment_methods:\n"
        "    entries:\n"
        '      shopify_payments: {payment_mode: creditcard, account_id: "4600000000003610001"}\n'
    )
    with pytest.raises(TotalsMismatch) as caught:
        plan_order(order(), load_mapping(path))
    assert "7% of 18.00 is 1.26" in str(caught.value)
    assert "shipping 1 (Standard): tax stated 0.50 but 7% of 5.00 is 0.35" in str(caught.value)


def test_an_order_discount_not_spread_over_lines_is_not_second_guessed(runtime: Any) -> None:
    unspread = order(
        lines=line("6.80"), totals={"total": m("30.30")}, payments=paid("30.30"),
        discounts=[{"amount": m("0.00"), "code": "X", "allocated": False}],
    )  # fmt: skip
    assert plan_order(unspread, runtime).writes
