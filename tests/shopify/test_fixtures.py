"""The vendor's REST-shaped samples (webhook bodies) map field by field to canonical objects.

The samples are documentation data and do not add up (facts doc §10.8): these
tests assert that exactly those inconsistencies are reported -- not hidden,
not more.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.canonical import FinancialStatus, Money, OrderStatus, PaymentKind, PaymentStatus
from ledgerbridge.errors import TotalsMismatch, ValidationFailed
from ledgerbridge_shopify import checks, mapping_rest
from ledgerbridge_shopify.mapping_common import build, loads
from tests.conftest import refdata


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def fixture(name: str) -> Any:
    return loads(refdata("shopify-examples", name).read_bytes())


@pytest.fixture
def refunded() -> dict[str, Any]:
    return fixture("rest_fixture_orders_partially_refunded_full.json")["orders"][0]


def test_partially_refunded_order_maps_field_by_field(refunded: dict[str, Any]) -> None:
    order = mapping_rest.order(refunded, "apple", {"reconcile": False})
    assert order.source.external_id == "450789469"
    assert order.source.version == "2008-01-10T16:00:00Z"  # updated_at in UTC, as GraphQL has it
    assert order.number == "#1001"
    assert order.currency == "USD" and order.presentment_currency == "USD"
    assert order.presentment_total == usd("598.94")
    assert order.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert order.status is OrderStatus.OPEN
    assert order.taxes_included is False and order.test is False
    assert order.email == "bob.norman@hostmail.com"
    assert order.customer is not None and order.customer.source.external_id == "207119551"
    assert order.billing_address is not None and order.billing_address.region_code == "KY"
    assert order.payment_gateways == ("bogus",)
    assert order.extra["gateway"] == "authorize_net"
    assert order.extra["note_attributes"] == {
        "custom engraving": "Happy Birthday",
        "colour": "green",
    }

    by_sku = {line.sku: line for line in order.lines}
    assert list(by_sku) == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    for sku, discount in (
        ("IPOD2008GREEN", "3.34"),
        ("IPOD2008RED", "3.33"),
        ("IPOD2008BLACK", "3.33"),
    ):
        line = by_sku[sku]
        assert line.unit_price == usd("199.00")
        assert line.quantity == 1
        assert line.discount == usd(discount)
        assert [(t.title, t.rate, t.amount) for t in line.taxes] == [
            ("State Tax", Decimal("0.06"), usd("3.98"))
        ]
        assert line.product_id == "632910392" and line.product_exists and not line.is_gift_card
    assert by_sku["IPOD2008GREEN"].extra["properties"]["Custom Engraving Front"] == "Happy Birthday"

    (discount,) = order.discounts
    assert (discount.code, discount.kind, discount.amount, discount.allocated) == (
        "TENOFF",
        "code",
        usd("10.00"),
        True,
    )
    assert order.tax_lines == ()  # the order's 11.94 State Tax is the sum of the three line taxes
    assert [(s.title, s.price) for s in order.shipping_lines] == [("Free Shipping", usd("0.00"))]
    assert order.totals.total == usd("598.94")
    assert order.totals.subtotal == usd("597.00")
    assert order.totals.tax == usd("11.94")
    assert order.totals.discounts == usd("10.00")


def test_partially_refunded_refund_maps_field_by_field(refunded: dict[str, Any]) -> None:
    order = mapping_rest.order(refunded, "apple", {"reconcile": False})
    (refund,) = order.refunds
    assert refund.source.external_id == "509562969"
    assert refund.note == "it broke during shipping"
    assert [(r.line_id, r.sku, r.quantity, r.subtotal, r.restock) for r in refund.lines] == [
        ("703073504", "IPOD2008BLACK", 1, usd("195.67"), True),
        ("466157049", "IPOD2008GREEN", 1, usd("195.66"), True),
    ]
    # refund line amounts are JSON numbers in the sample; read exactly, never through float
    assert all(isinstance(r.subtotal.amount, Decimal) for r in refund.lines)
    assert [t.amount for r in refund.lines for t in r.taxes] == [usd("3.98"), usd("3.98")]
    assert refund.tax == usd("7.96")
    assert refund.credit_total == usd("399.29")
    (txn,) = refund.transactions
    assert (txn.external_id, txn.kind, txn.status, txn.amount, txn.gateway, txn.parent_id) == (
        "179259969",
        PaymentKind.REFUND,
        PaymentStatus.SUCCESS,
        usd("209.00"),
        "bogus",
        "801038806",
    )
    assert order.amount_refunded == usd("209.00")


def test_partially_refunded_reports_exactly_the_known_inconsistencies(
    refunded: dict[str, Any],
) -> None:
    order = mapping_rest.order(refunded, "apple", {"reconcile": False})
    rec = order.reconciliation()
    assert (rec.lines, rec.line_discounts, rec.shipping, rec.taxes) == (
        Decimal("597.00"),
        Decimal("10.00"),
        Decimal("0.00"),
        Decimal("11.94"),
    )
    assert rec.computed == rec.stated == Decimal("598.94") and rec.ok

    # 1. the refund's transaction (209.00) is not its lines (195.67 + 3.98 + 195.66 + 3.98)
    (discrepancy,) = order.discrepancies()
    assert discrepancy.what == "refund_transactions_vs_parts"
    assert discrepancy.subject == "509562969"
    assert (discrepancy.expected, discrepancy.actual) == (usd("399.29"), usd("209.00"))
    assert order.refunds[0].discrepancies() == [discrepancy]

    # 2. subtotal_price equals total_line_items_price despite the 10.00 discount
    # 3. the refund is dated 2021 while its transaction is dated 2005
    found = {(i.what, i.subject): i for i in checks.inconsistencies(order)}
    assert set(found) == {
        ("order_subtotal_vs_lines_less_discounts", "450789469"),
        ("refund_transaction_before_refund", "509562969/179259969"),
    }
    sub = found["order_subtotal_vs_lines_less_discounts", "450789469"]
    assert (sub.expected, sub.actual) == ("587.00 USD", "597.00 USD")
    assert found["refund_transaction_before_refund", "509562969/179259969"].actual.startswith(
        "2005-08-05"
    )


def test_order_that_does_not_add_up_is_a_totals_mismatch_naming_it() -> None:
    data = fixture("rest_fixture_order.json")["order"]
    with pytest.raises(TotalsMismatch) as err:
        mapping_rest.order(data, "apple")
    assert "#1001" in str(err.value) and err.value.difference == Decimal("-199.00")


def test_bad_amount_is_a_validation_error_naming_field(refunded: dict[str, Any]) -> None:
    refunded["line_items"][1]["price_set"]["shop_money"]["amount"] = "12,00"
    with pytest.raises(ValidationFailed, match=r"#1001.*line_items\[1\]\.price_set"):
        mapping_rest.order(refunded, "apple")


def test_customer_fixture() -> None:
    data = fixture("rest_fixture_customer.json")["customer"]
    customer = mapping_rest.customer(data, "apple")
    assert customer.source.external_id == str(data["id"])
    assert customer.email == data["email"]
    assert customer.first_name == data["first_name"]
    assert customer.source.updated_at == datetime.fromisoformat(data["updated_at"]).astimezone(UTC)


def test_standalone_refund_and_transaction_fixtures() -> None:
    # the 2016 refund sample has no amounts on its lines: the credit cannot be known, so it is
    # refused with the field named -- never guessed from the line item's price
    data = fixture("rest_fixture_refund.json")["refund"]
    with pytest.raises(ValidationFailed, match=r"refund_line_items\[0\]\.total_tax is missing"):
        build(
            "refund",
            "509562969",
            lambda: mapping_rest.refund(data, "apple", "USD", taxes_included=False),
        )
    (auth,) = [
        mapping_rest.payment(t, "USD", "t") for t in fixture("rest_fixture_transactions.json")
    ]
    assert (auth.kind, auth.status, auth.amount, auth.gateway) == (
        PaymentKind.AUTHORIZATION,
        PaymentStatus.SUCCESS,
        usd("409.94"),
        "bogus",
    )
    assert not auth.is_money_in  # an authorisation is not money received
