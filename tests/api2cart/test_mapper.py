"""API2Cart's own example orders, field by field, to canonical orders (per-cart totals)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.canonical import FinancialStatus, Order, OrderStatus
from ledgerbridge.errors import TotalsMismatch, ValidationFailed
from ledgerbridge_api2cart.mapper import CART_TOTALS, StoreScope, map_order, order_data
from ledgerbridge_api2cart.statuses import StatusBook
from tests.conftest import refdata

AMAZON_INFO = "amazonsp__order.info__order-id-111-2392565-0194613.response.json"
AMAZON_LIST = "amazonsp__order.list__count-2__page1.response.json"
ETSY_INFO = "etsyapiv3__order.info__order-id-4130825825.response.json"


def example(name: str) -> dict[str, Any]:
    text = refdata("api2cart-examples", name).read_text(encoding="utf-8")
    return json.loads(text, parse_float=Decimal)


def scope(cart: str | None, *statuses: tuple[str, str]) -> StoreScope:
    book = StatusBook.from_list([{"id": i, "name": n} for i, n in statuses], {})
    return StoreScope(store="shop-1", cart=cart, statuses=book)


def test_amazonsp_order_info_field_by_field():
    raw = example(AMAZON_INFO)["result"]
    order = map_order(raw, scope("AmazonSP", ("Shipped", "Shipped")))
    assert order.source.external_id == order.number == "111-2392565-0194613"
    assert order.source.version == "2024-08-01T14:19:54+0000"
    assert order.created_at == datetime(2024, 8, 1, 2, 18, 42, tzinfo=UTC)
    assert order.currency == "USD" and order.status is OrderStatus.COMPLETED
    (line,) = order.lines
    assert line.sku == "HUUUGE" and line.line_id == "106151335804001"
    assert line.quantity == 1 and line.unit_price.amount == Decimal("39.9")
    assert [t.amount.amount for t in line.taxes] == [Decimal("3.09")]
    assert line.discount is None and line.extra["additional_fields"]["asin"] == "B08714W67B"
    assert order.shipping_lines == () and order.discounts == () and order.tax_lines == ()
    assert order.totals.total.amount == Decimal("42.99")
    assert order.totals.tax.amount == Decimal("3.09")
    assert order.rounding_adjustment is None and order.discrepancies() == []
    # what AmazonSP does not say stays unsaid
    assert order.customer is None and order.email is None and order.billing_address is None
    assert order.financial_status is FinancialStatus.UNKNOWN
    assert order.extra["api2cart"]["legacy_totals"] is None
    assert order.extra["api2cart"]["totals_origin"] == "total"
    assert order.shipping_address.city == "Springfield"
    assert order.shipping_address.region_code == "NY"
    assert order.shipping_address.country_code == "US" and order.shipping_address.line1 is None
    assert order.payment_gateways == ("Other",)
    assert order.extra["additional_fields"]["fulfillment_channel"] == "AFN"


def test_etsy_subtotal_is_already_net_of_discount():
    raw = example(ETSY_INFO)["result"]
    order = map_order(raw, scope("EtsyAPIv3", ("completed", "Completed")))
    assert order.currency == "EUR" and order.status is OrderStatus.COMPLETED
    assert order.financial_status is FinancialStatus.PAID  # additional_fields.financial_status
    (line,) = order.lines
    assert line.unit_price.amount == Decimal(195) and line.sku is None  # model ""
    (discount,) = order.discounts
    assert discount.amount.amount == Decimal("19.5") and discount.allocated is False
    (shipping,) = order.shipping_lines
    assert shipping.price.amount == Decimal("19.99")
    assert order.totals.total.amount == Decimal("195.49")
    # canonical subtotal is before discounts: 175.50 + 19.50; Etsy's own is kept as a note
    assert order.totals.subtotal.amount == Decimal("195.0")
    assert order.extra["api2cart"]["subtotal_net_of_discount"] == "175.5"
    assert order.reconciliation().computed == Decimal("195.49")
    assert order.customer.source.external_id == "1009738198"
    assert order.customer.first_name == "Robin" and order.email is None


def test_etsy_read_without_its_row_is_flagged_as_assumed():
    """Without its table row the same order is read generically and says so."""
    raw = example(ETSY_INFO)["result"]
    data = order_data(raw, scope("EtsyAPIv3"))
    assert CART_TOTALS["EtsyAPIv3"]  # subtotal net of discount
    generic = order_data(raw, scope(None))
    assert generic["extra"]["api2cart"]["totals_semantics"] == "assumed"
    assert data["extra"]["api2cart"]["totals_semantics"] == "known"
    # Both readings still add up for this order (lines 195 − 19.50 + 19.99); the subtotal differs
    assert generic["totals"].subtotal.amount == Decimal("175.5")
    assert data["totals"].subtotal.amount == Decimal("195.0")


def test_the_default_params_trap_is_reported_not_guessed():
    """The list example used default params: no currency, no dates -- the order is refused."""
    raw = example(AMAZON_LIST)["result"]["order"][0]
    with pytest.raises(ValidationFailed, match="no currency"):
        map_order(raw, scope("AmazonSP", ("Shipped", "Shipped")))


def test_an_order_that_does_not_add_up_is_a_totals_mismatch():
    raw = example(AMAZON_INFO)["result"]
    raw["total"]["total"] = Decimal("45.99")
    with pytest.raises(TotalsMismatch) as caught:
        map_order(raw, scope("AmazonSP", ("Shipped", "Shipped")))
    assert caught.value.difference == Decimal("3.00") and caught.value.currency == "USD"
    held = Order.model_validate(order_data(raw, scope("AmazonSP")), context={"reconcile": False})
    (found,) = held.discrepancies()
    assert found.difference == Decimal("3.00")


def test_unit_rounding_within_tolerance_becomes_an_explicit_adjustment():
    raw = example(AMAZON_INFO)["result"]
    raw["total"]["total"] = Decimal("43.00")
    order = map_order(raw, scope("AmazonSP", ("Shipped", "Shipped")))
    assert order.rounding_adjustment.amount == Decimal("0.01")


def test_statuses_not_listed_by_the_store_are_unknown():
    raw = example(AMAZON_INFO)["result"]
    order = map_order(raw, scope("AmazonSP", ("Pending", "Pending")))
    assert order.status is OrderStatus.UNKNOWN
    assert order.extra["api2cart"]["status_unknown"] is True


def test_falls_back_to_legacy_totals():
    raw = example(ETSY_INFO)["result"]
    raw["total"] = None
    order = map_order(raw, scope("EtsyAPIv3", ("completed", "Completed")))
    assert order.extra["api2cart"]["totals_origin"] == "totals"
    assert order.totals.total.amount == Decimal("195.49")


def test_no_totals_at_all_is_a_clear_error():
    raw = example(ETSY_INFO)["result"]
    raw["total"] = raw["totals"] = None
    with pytest.raises(ValidationFailed, match=r"order 4130825825: neither `total` nor `totals`"):
        map_order(raw, scope("EtsyAPIv3"))


@pytest.mark.parametrize("origin", ["total", "totals"])
def test_a_blank_stated_total_parks_the_order_naming_the_field(origin):
    """A blank ``total`` ("") is not "no total": it parks naming the field, not as AssertionError."""
    from ledgerbridge_api2cart.source import order_change

    raw = example(ETSY_INFO)["result"]
    if origin == "totals":
        raw["total"] = None
    raw[origin]["total"] = ""
    change = order_change(raw, scope("EtsyAPIv3", ("completed", "Completed")))
    assert isinstance(change.error, ValidationFailed)
    assert f"order 4130825825: {origin}.total" in str(change.error)
    assert change.error.details["field"] == f"API2Cart order 4130825825: {origin}.total"


@pytest.mark.parametrize(
    ("path", "mutate"),
    [
        ("total.additional_fields", lambda raw: raw["total"].update(additional_fields="x")),
        ("status", lambda raw: raw.update(status="Completed")),
        ("additional_fields", lambda raw: raw.update(additional_fields=["paid"])),
    ],
)
def test_an_object_field_holding_something_else_parks_naming_it(path, mutate):
    """Not an ``AttributeError`` naming no field."""
    from ledgerbridge_api2cart.source import order_change

    raw = example(ETSY_INFO)["result"]
    mutate(raw)
    change = order_change(raw, scope("EtsyAPIv3", ("completed", "Completed")))
    assert isinstance(change.error, ValidationFailed)
    assert change.error.details["field"] == f"API2Cart order 4130825825: {path}"
    assert "is not an object" in str(change.error)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("discounts", 7, "discounts is not an array (got int)"),
        ("discounts", Decimal("1.5"), "discounts is not an array (got Decimal)"),
        ("__shipments", 3, "shipments is not an array of objects (got int)"),
        ("__shipments", ["x"], "shipments[0] is not an object (got str)"),
        (
            "__shipments",
            [{"id": "1", "items": 2}],
            "shipments[0].items is not an array of objects (got int)",
        ),
        (
            "__shipments",
            [{"id": "1", "items": [[]]}],
            "shipments[0].items[0] is not an object (got list)",
        ),
        ("__transactions", "settled", "transactions is not an array of objects (got str)"),
        ("__transactions", [5], "transactions[0] is not an object (got int)"),
    ],
)
def test_a_list_field_of_the_wrong_shape_parks_naming_it(field, value, says):
    """Was a bare ``TypeError``/``AttributeError`` (``'int' object is not iterable``)."""
    from ledgerbridge_api2cart.source import order_change

    raw = {**example(ETSY_INFO)["result"], field: value}
    change = order_change(raw, scope("EtsyAPIv3", ("completed", "Completed")))
    assert isinstance(change.error, ValidationFailed)
    assert str(change.error) == f"API2Cart order 4130825825: {says}"
    assert change.error.details["field"].startswith("API2Cart order 4130825825: ")


@pytest.mark.parametrize(
    ("kinds", "says"),
    [
        ("capture", "transaction_kinds is not an object (got str)"),
        ({"settled": -1}, "transactions[0].status 'settled': transaction_kinds names it -1"),
    ],
)
def test_transaction_kinds_of_the_wrong_shape_park_naming_them(kinds, says):
    from ledgerbridge_api2cart.source import order_change

    row = {"id": "1", "status": "settled", "amount": Decimal("1"), "currency": "EUR"}
    raw = {**example(ETSY_INFO)["result"], "__transactions": [row], "__transaction_kinds": kinds}
    change = order_change(raw, scope("EtsyAPIv3", ("completed", "Completed")))
    assert isinstance(change.error, ValidationFailed)
    assert str(change.error).startswith(f"API2Cart order 4130825825: {says}")


def test_a_string_or_object_where_discounts_belong_still_lists_none():
    """Read so since the first release: the order maps as without ``discounts``."""
    plain = example(ETSY_INFO)["result"]
    expected = map_order(plain, scope("EtsyAPIv3"))
    for value in ("x", {"code": "A"}, 0, None):
        assert map_order({**plain, "discounts": value}, scope("EtsyAPIv3")) == expected


def test_refunds_map_to_lines_by_order_product_id():
    raw = example(ETSY_INFO)["result"]
    raw["refunds"] = [
        {
            "id": "rf-1",
            "shipping": Decimal("0"),
            "fee": Decimal("0"),
            "tax": Decimal("0"),
            "total": Decimal("50"),
            "modified_time": {"value": "2026-08-01T10:00:00+0000", "format": "Y-m-d\\TH:i:sO"},
            "comment": "partial",
            "items": [{"order_product_id": "5159309518", "qty": 1, "refund": Decimal("50")}],
        }
    ]
    order = map_order(raw, scope("EtsyAPIv3", ("completed", "Completed")))
    (refund,) = order.refunds
    assert refund.source.external_id == "rf-1" and refund.note == "partial"
    assert refund.lines[0].line_id == "5159309518" and refund.credit_total.amount == 50
    assert refund.discrepancies() == []
    assert order.financial_status is FinancialStatus.PARTIALLY_REFUNDED


@pytest.mark.parametrize("refunds", [[{}], [{"id": "rf-9"}], [{"id": "a", "total": 1}, {}]])
def test_a_paid_orders_refund_stating_no_amount_parks_naming_the_refund(refunds):
    """Its money back was synthesized in no currency ("XXX"), and the order parked as not in
    the shop currency, naming no field."""
    raw = {**example(ETSY_INFO)["result"], "refunds": refunds}
    at = f"API2Cart order 4130825825: refunds[{len(refunds) - 1}]"
    with pytest.raises(ValidationFailed) as caught:
        map_order(raw, scope("EtsyAPIv3", ("completed", "Completed")))
    assert str(caught.value) == (
        f"{at} states no amount (no line, shipping, adjustment or total): "
        "the money paid back for it has no currency"
    )
    assert caught.value.details == {"field": at} and caught.value.platform == "api2cart"


def test_refund_info_is_used_when_refunds_are_absent_and_disagreement_is_reported():
    raw = example(AMAZON_INFO)["result"]
    raw["status"]["refund_info"] = {
        "shipping": None,
        "fee": None,
        "tax": Decimal("3.09"),
        "total_refunded": Decimal("42.99"),
        "time": {"value": "2024-08-03T10:00:00+0000", "format": "Y-m-d\\TH:i:sO"},
        "comment": None,
        "refunded_items": [{"order_product_id": "106151335804001", "qty": 1, "refund": 30}],
    }
    order = map_order(raw, scope("AmazonSP", ("Shipped", "Shipped")))
    (refund,) = order.refunds
    assert refund.extra["origin"] == "status.refund_info"
    assert order.financial_status is FinancialStatus.REFUNDED
    (problem,) = refund.discrepancies()  # 30 + 3.09 tax is not the stated 42.99
    assert problem.difference == Decimal("9.90")


def test_floats_are_refused_with_the_place_named():
    raw = json.loads(refdata("api2cart-examples", AMAZON_INFO).read_text())["result"]
    with pytest.raises(ValidationFailed, match=r"total\.total.*float"):
        map_order(raw, scope("AmazonSP", ("Shipped", "Shipped")))


def test_refund_tax_is_spread_over_refunded_lines_like_the_order_taxed_them():
    raw = example(AMAZON_INFO)["result"]
    second = dict(
        raw["order_products"][0],
        order_product_id="2",
        price=Decimal("20"),
        tax_value=Decimal("2.00"),
        tax_percent=Decimal("10"),
    )
    raw["order_products"][0]["tax_percent"] = Decimal("7.74436")
    raw["order_products"].append(second)
    raw["total"].update(
        subtotal_ex_tax=Decimal("59.9"), total_tax=Decimal("5.09"), total=Decimal("64.99")
    )
    raw["refunds"] = [
        {
            "id": "rf-9",
            "tax": Decimal("1.01"),
            "total": Decimal("31.01"),
            "items": [
                {"order_product_id": "106151335804001", "qty": 1, "refund": Decimal("20")},
                {"order_product_id": "2", "qty": 1, "refund": Decimal("10")},
            ],
        }
    ]
    order = map_order(raw, scope("AmazonSP", ("Shipped", "Shipped")))
    (refund,) = order.refunds
    parts = [line.taxes[0].amount.amount for line in refund.lines]
    assert parts == [Decimal("0.67"), Decimal("0.34")] and sum(parts) == Decimal("1.01")
    assert refund.lines[1].taxes[0].rate == Decimal("0.1")  # the order line's own rate
    assert refund.shipping_taxes == () and refund.discrepancies() == []
    assert refund.extra["tax_allocated"] is True


def test_total_and_legacy_totals_disagreeing_is_reported():
    raw = example(ETSY_INFO)["result"]
    raw["totals"]["total"] = Decimal("190.00")
    order = map_order(raw, scope("EtsyAPIv3", ("completed", "Completed")))
    assert order.totals.total.amount == Decimal("195.49")  # `total` is read first
    assert order.extra["api2cart"]["totals_disagree"] == {"total": "195.49", "totals": "190.00"}
    clean = map_order(example(ETSY_INFO)["result"], scope("EtsyAPIv3"))
    assert "totals_disagree" not in clean.extra["api2cart"]
