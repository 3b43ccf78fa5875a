"""Payments from ``order.transaction.list`` (``read_transactions``), mapped from the real
EtsyAPIv3 ``order.info`` example with transactions in the spec's ``Order_Transaction``
shape (refdata api2cart-openapi): kinds from the status text, voids tied to their
authorisation, refunds left to ``Order.refunds[]``, the fallback when none were read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.canonical import PaymentKind, PaymentStatus
from ledgerbridge.errors import ValidationFailed
from ledgerbridge_api2cart import transactions as tx
from ledgerbridge_api2cart.mapper import map_order
from tests.api2cart.test_payments import ETSY_STATUSES, etsy_capture, scope


def row(tid: str, status: str, amount: str, **more: Any) -> dict[str, Any]:
    return {"id": tid, "transaction_id": f"ch_{tid}", "order_id": "4130825825", "status": status,
            "gateway": "stripe", "currency": "EUR", "amount": Decimal(amount),
            "created_time": {"value": "2026-07-31T08:05:28-0500", "format": "Y-m-d\\TH:i:sO"},
            **more}  # fmt: skip


def mapped(rows: list[dict[str, Any]], kinds: dict[str, str] | None = None):
    raw = {**etsy_capture(), tx.READ: rows, tx.KINDS: kinds or {}}
    return map_order(raw, scope("EtsyAPIv3", *ETSY_STATUSES))


def test_transactions_replace_the_synthesized_payment():
    order = mapped([
        row("1", "Authorized", "195.49"),
        row("2", "captured", "95.49", parent_id="1"),
        row("3", "captured", "100.00", parent_id="1", gateway="gift_card"),
    ])  # fmt: skip
    kinds = [(p.external_id, p.kind, p.status, p.amount.amount, p.gateway) for p in order.payments]
    assert kinds == [
        ("1", PaymentKind.AUTHORIZATION, PaymentStatus.SUCCESS, Decimal("195.49"), "stripe"),
        ("2", PaymentKind.CAPTURE, PaymentStatus.SUCCESS, Decimal("95.49"), "stripe"),
        ("3", PaymentKind.CAPTURE, PaymentStatus.SUCCESS, Decimal("100.00"), "gift_card"),
    ]
    assert order.amount_received.amount == Decimal("195.49")
    assert "payment_synthesized" not in order.extra["api2cart"]
    assert order.extra["api2cart"]["payments_from"] == "order.transaction.list"


def test_a_void_names_its_authorisation_and_refunds_are_not_payments():
    order = mapped([
        row("1", "authorized", "195.49"),
        row("2", "voided", "195.49", parent_id="1"),
        row("3", "refunded", "10.00"),
    ])  # fmt: skip
    assert [(p.kind, p.parent_id) for p in order.payments] == [
        (PaymentKind.AUTHORIZATION, None),
        (PaymentKind.VOID, "1"),
    ]
    assert order.amount_received.amount == 0


def test_an_empty_answer_falls_back_to_the_financial_status():
    order = mapped([])
    assert [p.external_id for p in order.payments] == ["4130825825:paid"]


def test_an_unreadable_status_is_refused_until_the_setting_names_it():
    with pytest.raises(ValidationFailed, match="'success'.*transaction_kinds"):
        mapped([row("1", "success", "195.49")])
    order = mapped([row("1", "success", "195.49")], {"SUCCESS": "sale"})
    assert [(p.kind, p.status) for p in order.payments] == [
        (PaymentKind.SALE, PaymentStatus.SUCCESS)
    ]
    ignored = mapped([row("1", "success", "195.49")], {"success": "ignore"})
    assert ignored.payments == ()


def test_a_transaction_in_another_currency_or_without_an_amount_is_refused():
    with pytest.raises(ValidationFailed, match="currency USD is not the order's EUR"):
        mapped([row("1", "captured", "195.49", currency="USD")])
    with pytest.raises(ValidationFailed, match="amount"):
        mapped([{**row("1", "captured", "0"), "amount": None}])


def test_the_emulator_serves_order_transaction_list_as_the_spec_shapes_it():
    import httpx

    from ledgerbridge.sandbox import serve
    from ledgerbridge_api2cart.emulator import create_app, create_state
    from ledgerbridge_api2cart.emulator.transactions import transaction

    state = create_state(api_key="k", stores={"s": ("Shopify", "USD")}, orders=3)
    store = state.stores["s"]
    oid, order = next(iter(store.orders.items()))
    store.transactions[oid] = [
        transaction(order, "T1", "captured", Decimal("5.00"), "2026-01-01T00:00:00+0000")
    ]
    with serve(create_app(state)) as server:
        url = server.url + "/v1.1/order.transaction.list.json"
        headers = {"x-api-key": "k", "x-store-key": "s"}
        missing = httpx.get(url, headers=headers).json()
        assert missing["return_code"] == 114  # order_ids is required
        plain = httpx.get(url, headers=headers, params={"order_ids": oid}).json()
        [only] = plain["result"]["transactions"]
        assert set(only) == {"id", "order_id", "amount", "description"}  # the default params
        asked = httpx.get(url, headers=headers, params={"order_ids": f"{oid},nope",
                          "params": tx.PARAMS}).json()  # fmt: skip
        assert asked["result"]["transactions_count"] == 1
        [full] = asked["result"]["transactions"]
        assert (full["status"], full["parent_id"], full["currency"]) == ("captured", None, "USD")
        assert set(full) == set(tx.PARAMS.split(","))
