from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from ledgerbridge.canonical import Order, Payment, PaymentKind, PaymentStatus, Refund
from ledgerbridge.errors import TotalsMismatch, ValidationFailed

from .canonical_factory import m, order_data, source_ref, usd


def test_an_order_that_adds_up_has_no_rounding_adjustment():
    order = Order.model_validate(order_data())
    rec = order.reconciliation()
    assert rec.ok and rec.computed == Decimal("25.30")
    assert (rec.lines, rec.line_discounts, rec.shipping, rec.taxes) == (
        Decimal("20.00"),
        Decimal("2.00"),
        Decimal("5.00"),
        Decimal("2.30"),
    )
    assert order.rounding_adjustment is None


def test_a_difference_within_tolerance_becomes_an_explicit_rounding_adjustment():
    order = Order.model_validate(order_data(totals={"total": m("25.31")}))
    assert order.rounding_adjustment == usd("0.01")


def test_an_order_that_does_not_reconcile_is_rejected_saying_by_how_much():
    with pytest.raises(TotalsMismatch) as err:
        Order.model_validate(order_data(totals={"total": m("26.30")}))
    exc = err.value
    assert exc.difference == Decimal("1.00") and exc.computed == Decimal("25.30")
    assert "difference 1.00" in str(exc) and "#1001" in str(exc) and "test:s1:1001" in str(exc)
    assert isinstance(exc, ValidationFailed) and not exc.retryable
    assert exc.details["taxes"] == "2.30"


def test_tolerance_comes_from_the_validation_context():
    data = order_data(totals={"total": m("25.35")})
    with pytest.raises(TotalsMismatch):
        Order.model_validate(data)
    order = Order.model_validate(data, context={"rounding_tolerance": Decimal("0.05")})
    assert order.rounding_adjustment == usd("0.05")


def test_reconcile_false_holds_a_bad_order_for_diagnostics_and_reports_it():
    order = Order.model_validate(
        order_data(totals={"total": m("30.00")}), context={"reconcile": False}
    )
    [found] = order.discrepancies()
    assert found.what == "order_total_vs_parts" and found.difference == Decimal("4.70")


def test_tax_inclusive_orders_do_not_add_taxes_again():
    data = order_data(taxes_included=True, totals={"total": m("23.00")})
    order = Order.model_validate(data)
    assert order.reconciliation().computed == Decimal("23.00")


def test_unallocated_order_discounts_and_negative_fees_count():
    data = order_data(
        discounts=[{"amount": m("3.00"), "code": "SAVE3", "allocated": False}],
        fees=[
            {"name": "Manual discount", "amount": m("-1.00")},
            {"name": "Gift wrap", "amount": m("2.00"), "kind": "gift_wrap"},
        ],
        totals={"total": m("23.30")},
    )
    assert Order.model_validate(data).reconciliation().computed == Decimal("23.30")


def test_amounts_in_another_currency_are_rejected():
    data = order_data()
    data["shipping_lines"][0]["price"] = m("5.00", "EUR")
    with pytest.raises(ValidationError, match="shop currency USD; found EUR"):
        Order.model_validate(data)


def test_model_is_immutable():
    order = Order.model_validate(order_data())
    with pytest.raises(ValidationError):
        order.number = "x"  # type: ignore[misc]


def test_money_received_and_refunded_come_from_successful_transactions():
    when = datetime(2026, 1, 5, tzinfo=UTC)
    pay = [
        Payment(
            external_id="t1",
            kind=PaymentKind.AUTHORIZATION,
            status=PaymentStatus.SUCCESS,
            amount=usd("25.30"),
        ),
        Payment(
            external_id="t2",
            kind=PaymentKind.CAPTURE,
            status=PaymentStatus.SUCCESS,
            amount=usd("25.30"),
        ),
        Payment(
            external_id="t3",
            kind=PaymentKind.SALE,
            status=PaymentStatus.FAILURE,
            amount=usd("9.00"),
        ),
    ]
    refund = Refund(
        source=source_ref("r1"),
        created_at=when,
        lines=[
            {
                "line_id": "L1",
                "quantity": 1,
                "subtotal": usd("9.00"),
                "taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": usd("0.90")}],
            }
        ],
        transactions=[
            Payment(
                external_id="t4",
                kind=PaymentKind.REFUND,
                status=PaymentStatus.SUCCESS,
                amount=usd("9.90"),
            )
        ],
    )
    order = Order.model_validate(order_data(payments=pay, refunds=[refund]))
    assert order.amount_received == usd("25.30")
    assert order.amount_refunded == usd("9.90")
    assert refund.credit_total == usd("9.90") and refund.discrepancies() == []


def test_refund_whose_transactions_disagree_with_its_lines_is_reported():
    refund = Refund(
        source=source_ref("r2"),
        lines=[
            {
                "line_id": "L1",
                "quantity": 2,
                "subtotal": usd("195.67"),
                "taxes": [{"title": "Tax", "amount": usd("3.98")}],
            }
        ],
        transactions=[
            Payment(
                external_id="t9",
                kind=PaymentKind.REFUND,
                status=PaymentStatus.SUCCESS,
                amount=usd("209.00"),
            )
        ],
    )
    [d] = refund.discrepancies()
    assert d.what == "refund_transactions_vs_parts"
    assert (
        d.expected == usd("199.65")
        and d.actual == usd("209.00")
        and d.difference == Decimal("9.35")
    )
