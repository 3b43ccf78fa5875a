"""The payment synthesized from the financial status (``order.transaction.list`` is not read).

An order whose money came in full (paid, partially refunded, refunded) carries exactly one
payment of its total, id ``{order_id}:paid``; a partially paid or pending order carries none.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.canonical import FinancialStatus, Order, PaymentKind, PaymentStatus
from ledgerbridge_api2cart.emulator import create_state
from ledgerbridge_api2cart.mapper import StoreScope, map_order
from ledgerbridge_api2cart.statuses import StatusBook
from tests.conftest import refdata

ETSY_INFO = "etsyapiv3__order.info__order-id-4130825825.response.json"
ETSY_STATUSES = (("completed", "Completed"),)


def etsy_capture() -> dict[str, Any]:
    """API2Cart's own EtsyAPIv3 order: ``financial_status: paid``, ``total_paid: null``."""
    text = refdata("api2cart-examples", ETSY_INFO).read_text(encoding="utf-8")
    return json.loads(text, parse_float=Decimal)["result"]


def scope(cart: str | None, *statuses: tuple[str, str]) -> StoreScope:
    book = StatusBook.from_list([{"id": i, "name": n} for i, n in statuses], {})
    return StoreScope(store="shop-1", cart=cart, statuses=book)


def emulated(cart: str, currency: str) -> tuple[list[dict[str, Any]], StoreScope]:
    state = create_state(api_key="k", stores={"s": (cart, currency)}, orders=25)
    store = state.stores["s"]
    book = StatusBook.from_list(store.statuses, {"awaiting-pickup": "on_hold"})
    return list(store.orders.values()), StoreScope(store="s", cart=cart, statuses=book)


def the_payment(order: Order):
    (payment,) = order.payments
    assert payment.kind is PaymentKind.SALE and payment.status is PaymentStatus.SUCCESS
    assert payment.is_money_in
    return payment


def test_the_real_etsy_capture_paid_in_full_gets_one_payment_of_its_total():
    raw = etsy_capture()
    assert raw["total"]["total_paid"] is None  # the fallback is all there is
    order = map_order(raw, scope("EtsyAPIv3", *ETSY_STATUSES))
    assert order.financial_status is FinancialStatus.PAID
    payment = the_payment(order)
    assert payment.external_id == "4130825825:paid"
    assert payment.amount.amount == Decimal("195.49") and payment.amount.currency == "EUR"
    assert isinstance(payment.amount.amount, Decimal)
    assert payment.gateway == "cc"  # payment_method.name
    assert payment.processed_at is None  # no paid time in the order: the engine uses its own
    assert order.amount_received.amount == order.totals.total.amount
    assert order.extra["api2cart"]["payment_synthesized"] == {
        "from": "financial_status",
        "external_id": "4130825825:paid",
    }


def test_re_reading_or_editing_the_order_keeps_the_payment_id():
    raw = etsy_capture()
    first = the_payment(map_order(raw, scope("EtsyAPIv3", *ETSY_STATUSES)))
    again = the_payment(map_order(copy.deepcopy(raw), scope("EtsyAPIv3", *ETSY_STATUSES)))
    assert again == first
    edited = copy.deepcopy(raw)
    edited["modified_at"]["value"] = "2026-08-02T09:00:00-0500"
    edited["comment"] = "gift wrap please"
    later = map_order(edited, scope("EtsyAPIv3", *ETSY_STATUSES))
    assert later.source.version != "2026-07-31T08:05:28-0500"
    assert the_payment(later).external_id == first.external_id == "4130825825:paid"


def test_without_a_payment_method_the_payment_has_no_gateway():
    raw = etsy_capture()
    raw["payment_method"] = None
    assert the_payment(map_order(raw, scope("EtsyAPIv3", *ETSY_STATUSES))).gateway is None


@pytest.mark.parametrize("named", ["partially_paid", "pending", "unpaid", "authorized", "voided"])
def test_money_not_received_in_full_gets_no_payment(named: str):
    raw = etsy_capture()
    raw["additional_fields"]["financial_status"] = named
    order = map_order(raw, scope("EtsyAPIv3", *ETSY_STATUSES))
    assert order.financial_status is not FinancialStatus.PAID
    assert order.payments == () and order.amount_received.amount == 0
    assert "payment_synthesized" not in order.extra["api2cart"]


def test_total_paid_decides_when_no_status_is_named():
    raw = etsy_capture()
    del raw["additional_fields"]["financial_status"]
    raw["total"]["total_paid"] = Decimal("100.00")  # part of 195.49
    partial = map_order(raw, scope("EtsyAPIv3", *ETSY_STATUSES))
    assert partial.financial_status is FinancialStatus.PARTIALLY_PAID and partial.payments == ()
    raw["total"]["total_paid"] = Decimal("195.49")
    paid = map_order(raw, scope("EtsyAPIv3", *ETSY_STATUSES))
    assert the_payment(paid).amount.amount == Decimal("195.49")
    raw["total"]["total_paid"] = None
    unknown = map_order(raw, scope("EtsyAPIv3", *ETSY_STATUSES))
    assert unknown.financial_status is FinancialStatus.UNKNOWN and unknown.payments == ()


@pytest.mark.parametrize(
    ("refunded", "status"),
    [
        (Decimal("50"), FinancialStatus.PARTIALLY_REFUNDED),
        (Decimal("195.49"), FinancialStatus.REFUNDED),
    ],
)
def test_a_refunded_order_keeps_its_full_payment_beside_its_refunds(
    refunded: Decimal, status: FinancialStatus
):
    raw = etsy_capture()
    raw["refunds"] = [
        {
            "id": "rf-1",
            "shipping": Decimal("0"),
            "fee": Decimal("0"),
            "tax": Decimal("0"),
            "total": refunded,
            "modified_time": {"value": "2026-08-01T10:00:00+0000", "format": "Y-m-d\\TH:i:sO"},
            "comment": None,
            "items": [{"order_product_id": "5159309518", "qty": 1, "refund": refunded}],
        }
    ]
    order = map_order(raw, scope("EtsyAPIv3", *ETSY_STATUSES), {"reconcile": False})
    assert order.financial_status is status
    payment = the_payment(order)
    assert payment.external_id == "4130825825:paid"
    assert payment.amount.amount == Decimal("195.49")  # the money that came in
    (refund,) = order.refunds
    assert refund.source.external_id == "rf-1" and refund.stated_amount.amount == refunded
    # The money that came in went back: the credit note is refunded, not left as credit.
    (returned,) = refund.transactions
    assert returned.external_id == "rf-1:returned" and returned.is_money_out
    assert returned.amount.amount == refunded == refund.money_returned.amount
    assert returned.gateway == "cc" and refund.discrepancies() == []


def test_emulated_orders_paid_in_full_get_one_payment_and_the_others_none():
    seen: set[FinancialStatus] = set()
    for cart, currency in (("Shopify", "USD"), ("EtsyAPIv3", "EUR"), ("AmazonSP", "USD")):
        raws, where = emulated(cart, currency)
        for raw in raws:
            order = map_order(raw, where)
            seen.add(order.financial_status)
            if order.financial_status in (
                FinancialStatus.PAID,
                FinancialStatus.PARTIALLY_REFUNDED,
                FinancialStatus.REFUNDED,
            ):
                payment = the_payment(order)
                assert payment.external_id == f"{raw['order_id']}:paid"
                assert payment.amount.amount == raw["total"]["total"]
                assert payment.amount.currency == currency
                assert payment.gateway == raw["payment_method"]["name"]
            else:
                assert order.payments == (), (raw["order_id"], order.financial_status)
    assert FinancialStatus.PAID in seen and FinancialStatus.PENDING in seen
    assert FinancialStatus.PARTIALLY_REFUNDED in seen
