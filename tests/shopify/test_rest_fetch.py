"""``fetch_api: rest``: one order re-read in the REST shape of Shopify's webhook bodies --
the order (refunds included) and its transactions -- through the emulator over HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
import pytest

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.errors import AuthFailed, NotFound
from ledgerbridge_shopify.emulator import create_app

from .helpers import make_source


def _money(amount: str) -> dict[str, Any]:
    return {"shop_money": {"amount": amount, "currency_code": "USD"}}


ORDER: dict[str, Any] = {
    "id": 5001,
    "name": "#5001",
    "created_at": "2025-03-01T10:00:00-05:00",
    "updated_at": "2025-03-02T10:00:00-05:00",
    "currency": "USD",
    "financial_status": "partially_refunded",
    "taxes_included": False,
    "total_price": "32.00",
    "total_price_set": _money("32.00"),
    "subtotal_price": "30.00",
    "total_tax": "2.00",
    "total_discounts": "0.00",
    "line_items": [
        {
            "id": 11,
            "title": "Mug",
            "quantity": 2,
            "price": "10.00",
            "variant_id": 7,
            "product_id": 3,
            "sku": "MUG",
            "tax_lines": [{"title": "VAT", "rate": 0.1, "price": "2.00"}],
        },
        {"id": 12, "title": "Card", "quantity": 1, "price": "10.00", "variant_id": 8,
         "tax_lines": [], "taxable": False},
    ],
    "refunds": [
        {
            "id": 900,
            "created_at": "2025-03-02T09:00:00-05:00",
            "refund_line_items": [
                {"line_item_id": 11, "quantity": 1, "subtotal": 10.00, "total_tax": 1.00,
                 "line_item": {"id": 11, "tax_lines": [{"title": "VAT", "rate": 0.1}]}},
            ],
            "transactions": [
                {"id": 31, "kind": "refund", "status": "success", "amount": "11.00",
                 "gateway": "shopify_payments", "parent_id": 30}
            ],
        }
    ],
}  # fmt: skip
TRANSACTIONS = [
    {"id": 29, "kind": "authorization", "status": "success", "amount": "32.00",
     "gateway": "shopify_payments"},
    {"id": 30, "kind": "capture", "status": "success", "amount": "32.00",
     "gateway": "shopify_payments", "parent_id": 29},
]  # fmt: skip


def _read(app: Any, ident: str, **kw: Any) -> Order:
    source = make_source(app=app, fetch_api="rest", **kw)

    async def run() -> Any:
        try:
            return await source.fetch(EntityType.ORDER, ident)
        finally:
            await source.aclose()

    return anyio.run(run)


def test_order_and_its_transactions_are_read_through_rest() -> None:
    app = create_app(orders=0, customers=0, products=0)
    app.rest_orders["5001"] = ORDER
    app.rest_transactions["5001"] = TRANSACTIONS
    order = _read(app, "5001")
    assert order.source.external_id == "5001"
    assert order.source.version == "2025-03-02T15:00:00Z"  # the form a GraphQL poll reads
    assert order.totals.total.amount == Decimal("32.00")
    # payments come from the transactions endpoint: the capture is the money received
    assert [p.external_id for p in order.payments if p.is_money_in] == ["30"]
    [refund] = order.refunds
    assert refund.credit_total.amount == Decimal("11.00")
    assert refund.money_returned.amount == Decimal("11.00")


def test_a_missing_order_is_not_found_and_a_bad_token_fails_auth() -> None:
    app = create_app(orders=0, customers=0, products=0)
    with pytest.raises(NotFound):
        _read(app, "404")
    app.rest_orders["5001"] = ORDER
    with pytest.raises(AuthFailed):
        _read(app, "5001", token="shpat_wrong")
