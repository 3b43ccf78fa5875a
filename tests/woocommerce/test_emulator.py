"""The emulator itself: seeded variety that always adds up, WooCommerce's paging and errors,
and the connector registered with it (``ledgerbridge sandbox woocommerce``)."""

from __future__ import annotations

import json
from decimal import Decimal

import anyio
import httpx

from ledgerbridge.canonical import EntityType, FinancialStatus, OrderStatus
from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.plugins import get_registry
from ledgerbridge.sandbox import serve
from ledgerbridge_woocommerce.emulator import DEFAULT_KEY, DEFAULT_SECRET, seed
from ledgerbridge_woocommerce.mapper import map_order
from ledgerbridge_woocommerce.settings import WooCommerceSecrets, WooCommerceSettings
from ledgerbridge_woocommerce.source import WooCommerceSource

D = Decimal


def test_seeded_orders_are_varied_and_always_add_up_exactly():
    store = seed(orders=54)
    orders = []
    for oid, data in store.orders.items():
        raw = json.loads(json.dumps(data, default=str), parse_float=Decimal)
        orders.append(
            (
                raw,
                map_order(raw, "s", store.refunds.get(oid, []), context={"rounding_tolerance": 0}),
            )
        )
    assert all(o.rounding_adjustment is None and o.discrepancies() == [] for _, o in orders)
    raws = [r for r, _ in orders]
    assert any(r["coupon_lines"] for r in raws)
    assert any(D(f["total"]) < 0 for r in raws for f in r["fee_lines"])
    assert any(D(f["total"]) > 0 for r in raws for f in r["fee_lines"])
    assert {r["prices_include_tax"] for r in raws} == {True, False}
    assert any(r["customer_id"] == 0 for r in raws)
    statuses = {o.status for _, o in orders}
    assert {
        OrderStatus.CANCELLED,
        OrderStatus.FAILED,
        OrderStatus.UNKNOWN,
        OrderStatus.DELETED,
    } <= statuses
    financial = {o.financial_status for _, o in orders}
    assert {FinancialStatus.PARTIALLY_REFUNDED, FinancialStatus.REFUNDED} <= financial
    refunds = [r for _, o in orders for r in o.refunds]
    assert any(r.lines for r in refunds) and any(not r.lines for r in refunds)
    assert any(r.transactions for r in refunds) and any(not r.transactions for r in refunds)


def test_tax_inclusive_order_maps_gross_amounts():
    store = seed(orders=18)
    raw = next(
        o for o in store.orders.values() if o["prices_include_tax"] and not o["coupon_lines"]
    )
    raw = json.loads(json.dumps(raw, default=str), parse_float=Decimal)
    order = map_order(raw, "s", context={"rounding_tolerance": 0})
    assert order.taxes_included
    item = raw["line_items"][0]
    line = order.lines[0]
    assert line.gross.amount == D(item["subtotal"]) + D(item["subtotal_tax"])
    rec = order.reconciliation()
    assert rec.computed == D(raw["total"]) and rec.taxes == D(raw["total_tax"])


def test_paging_headers_links_and_the_per_page_limit(app):
    async def main():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app),
            base_url="https://shop.test/wp-json/wc/v3",
            auth=(DEFAULT_KEY, DEFAULT_SECRET),
        ) as client:
            page2 = await client.get("/orders", params={"per_page": 5, "page": 2})
            too_big = await client.get("/orders", params={"per_page": 101})
            return page2, too_big

    page2, too_big = anyio.run(main)
    listed = [
        o
        for o in app.emulator.store.orders.values()
        if o["status"] not in ("trash", "checkout-draft")
    ]
    assert page2.headers["X-WP-Total"] == str(len(listed))
    assert page2.headers["X-WP-TotalPages"] == str(-(-len(listed) // 5))
    assert set(page2.links) == {"prev", "next"} and "page=3" in page2.links["next"]["url"]
    assert too_big.status_code == 400 and too_big.json()["code"] == "rest_invalid_param"


def test_registered_spec_builds_the_source_and_serves_the_sandbox():
    spec = get_registry().get("woocommerce")
    assert spec.status == "ready" and spec.emulator is not None
    with serve(spec.emulator()) as server:
        context = ConnectorContext(
            connection_id="c",
            tenant_id="t",
            settings=WooCommerceSettings(store_url=server.url, allow_http=True),
            secrets=WooCommerceSecrets(consumer_key=DEFAULT_KEY, consumer_secret=DEFAULT_SECRET),
        )
        source = spec.build(context)
        assert isinstance(source, WooCommerceSource)

        async def main():
            try:
                return await source.fetch(EntityType.CUSTOMER, "25")
            finally:
                await source.aclose()

        customer = anyio.run(main)
    assert customer.email == "john.doe@example.com"


def test_refunds_of_a_tax_inclusive_order_credit_gross_amounts(app):
    from .conftest import make_source

    store = app.emulator.store
    oid = next(i for i, o in store.orders.items() if o["prices_include_tax"] and not o["refunds"])
    refund = anyio.run(app.emulator.refund_order, oid, "partial")

    async def main():
        source = make_source(app)
        try:
            return await source.fetch(EntityType.ORDER, str(oid))
        finally:
            await source.aclose()

    order = anyio.run(main)
    (mapped,) = order.refunds
    assert mapped.taxes_included and order.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    (line,) = mapped.lines
    item = refund["line_items"][0]
    assert line.subtotal.amount == -(D(item["total"]) + D(item["total_tax"]))
    assert mapped.credit_total.amount == D(refund["amount"]) and mapped.adjustment is None
    assert mapped.tax.amount == -D(item["total_tax"]) and mapped.discrepancies() == []
