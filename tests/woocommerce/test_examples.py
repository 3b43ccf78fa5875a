"""WooCommerce's own documentation examples, mapped field by field to canonical objects,
and the emulator's responses compared with them structurally (the examples are the contract)."""

from __future__ import annotations

import json
from decimal import Decimal

import anyio
import httpx

from ledgerbridge.canonical import (
    EntityType,
    FinancialStatus,
    OrderStatus,
    PaymentKind,
)
from ledgerbridge_woocommerce.catalog import map_customer, map_product
from ledgerbridge_woocommerce.emulator import DEFAULT_KEY, DEFAULT_SECRET
from ledgerbridge_woocommerce.mapper import map_order

from .conftest import example, live_source
from .contract import differences

D = Decimal


def test_order_727_maps_field_by_field_to_the_cent():
    data = example("order_retrieve.json")
    order = map_order(data, "example.com")
    assert order.source.external_id == "727" and order.number == "727"
    # the modification instant, then a digest of the state that moves money (status, total,
    # paid and completed instants: a change within that second is a new version)
    assert order.source.version.startswith("2017-03-22T19:28:08;s=")
    assert order.source.version != map_order({**data, "status": "completed"}, "x").source.version
    assert order.currency == "USD" and order.taxes_included is False
    assert order.status is OrderStatus.OPEN and order.financial_status is FinancialStatus.PAID
    assert order.created_at.isoformat() == "2017-03-22T19:28:02+00:00"  # the _gmt twin, not local
    first, second = order.lines
    assert (first.line_id, first.quantity, first.unit_price.amount) == ("315", D(2), D("3.00"))
    assert first.discount is None and first.sku is None and first.product_id == "93"
    assert [(t.title, t.code, t.amount.amount) for t in first.taxes] == [
        ("State Tax", "US-CA-STATE TAX", D("0.45"))
    ]
    assert (second.variant_id, second.sku, second.unit_price.amount) == ("23", "Bar3", D("12.00"))
    assert second.taxes[0].amount.amount == D("0.9")  # "0.9", not a 2-decimal string
    assert second.extra["meta_data"] == {"pa_color": "black", "size": "M Test"}
    (shipping,) = order.shipping_lines
    assert (shipping.title, shipping.code, shipping.price.amount) == (
        "Flat Rate",
        "flat_rate",
        D("10.00"),
    )
    assert order.tax_lines == ()  # every tax_lines cent is attached to a line
    assert sum(t.amount.amount for t in order.all_tax_lines()) == D(data["total_tax"])
    assert order.totals.total.amount == D(data["total"]) == D("29.35")
    assert order.totals.shipping.amount == D(data["shipping_total"])
    rec = order.reconciliation()
    assert (rec.lines, rec.shipping, rec.taxes, rec.computed) == (
        D("18.00"),
        D("10.00"),
        D("1.35"),
        D("29.35"),
    )
    assert order.rounding_adjustment is None and order.discrepancies() == []
    (payment,) = order.payments
    assert payment.kind is PaymentKind.SALE and payment.amount.amount == D("29.35")
    assert payment.gateway == "bacs" and payment.reference is None  # transaction_id ""
    assert payment.processed_at.isoformat() == "2017-03-22T19:28:08+00:00"
    guest = order.customer
    assert guest.is_guest and guest.source.external_id == "guest:john.doe@example.com"
    assert (guest.first_name, guest.billing_address.city) == ("John", "San Francisco")
    assert order.extra["meta_data"] == {"_download_permissions_granted": "yes"}


def test_order_723_and_its_refunds_map_to_the_cent():
    order_data = example("orders_list.json")[1]
    refunds = example("order_refunds_list.json")
    order = map_order(order_data, "example.com", refunds)
    assert order.source.external_id == "723"
    assert order.status is OrderStatus.COMPLETED
    # no date_paid in the sample, but refunds prove money was taken; 19.00 of 39.00 refunded
    assert order.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert order.payments == ()
    assert order.source.version.startswith(f"{order_data['date_modified_gmt']};s=")
    assert order.source.version.endswith(";refunds=724,726")
    amount_only, with_line = order.refunds
    assert amount_only.source.external_id == "726"
    assert amount_only.lines == () and amount_only.adjustment.amount == D("10.00")
    assert amount_only.stated_amount.amount == D("10.00") == amount_only.credit_total.amount
    assert with_line.source.external_id == "724"
    (line,) = with_line.lines
    assert (line.line_id, line.quantity, line.subtotal.amount) == ("311", D(1), D("9.00"))
    assert with_line.adjustment is None and with_line.credit_total.amount == D("9.00")
    # refunded_payment false in both: recorded by hand, no money moved
    assert amount_only.transactions == () and with_line.transactions == ()
    assert order.amount_refunded.amount == 0
    summary = sum(-D(r["total"]) for r in order_data["refunds"])
    assert sum(r.stated_amount.amount for r in order.refunds) == summary == D("19.00")
    assert order.discrepancies() == []


def test_single_refund_example_with_money_moved_becomes_a_refund_payment():
    refund = dict(example("order_refund_retrieve.json"), refunded_payment=True)
    order_data = dict(example("orders_list.json")[1], refunds=[{"id": 726, "total": "-10.00"}])
    order = map_order(order_data, "example.com", [refund])
    (mapped,) = order.refunds
    (payment,) = mapped.transactions
    assert payment.kind is PaymentKind.REFUND and payment.amount.amount == D("10.00")
    assert payment.parent_id == "723" and order.amount_refunded.amount == D("10.00")


def test_a_sample_that_does_not_add_up_reports_the_discrepancy():
    # orders_list.json's order 723 with its shipping line removed: total still says 39.00
    data = example("orders_list.json")[1]
    data["shipping_lines"] = []
    order = map_order(data, "example.com", context={"reconcile": False})
    (found,) = order.discrepancies()
    assert found.what == "order_total_vs_parts"
    assert (found.expected.amount, found.actual.amount, found.difference) == (
        D("29.00"),
        D("39.00"),
        D("10.00"),
    )


def test_customer_and_product_examples():
    customer = map_customer(example("customer_retrieve.json"), "example.com")
    assert (customer.source.external_id, customer.email, customer.is_guest) == (
        "25",
        "john.doe@example.com",
        False,
    )
    assert (
        customer.extra["username"] == "john.doe" and customer.billing_address.postal_code == "94103"
    )
    product = map_product(example("product_retrieve.json"), "example.com", currency="USD")
    (variant,) = product.variants
    assert (product.title, product.product_type, variant.external_id) == (
        "Premium Quality",
        "simple",
        "794",
    )
    assert variant.sku is None and variant.price.amount == D("21.99")
    variation = example("product_variation_retrieve.json")
    variable = map_product(
        dict(example("product_retrieve.json"), id=22, type="variable"), "e", [variation]
    )
    (v,) = variable.variants
    assert (v.external_id, v.title, v.price) == ("732", "Black", None)  # no currency configured


def test_emulator_responses_have_the_documented_fields_and_types(app):
    async def main():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app),
            base_url="https://shop.test/wp-json/wc/v3",
            auth=(DEFAULT_KEY, DEFAULT_SECRET),
        ) as client:

            async def get(path):
                return json.loads((await client.get(path)).content, parse_float=Decimal)

            orders = await get("/orders?per_page=100&status=any")
            refunded = next(o for o in orders if o["refunds"] and o["status"] != "refunded")
            await client.post(
                "/webhooks",
                json={"topic": "order.updated", "delivery_url": "https://127.0.0.1:9/x"},
            )
            return {
                "order_retrieve.json": await get(f"/orders/{orders[0]['id']}"),
                "orders_list.json": orders,
                "order_refunds_list.json": await get(f"/orders/{refunded['id']}/refunds"),
                "order_refund_retrieve.json": (await get(f"/orders/{refunded['id']}/refunds"))[0],
                "customer_retrieve.json": await get("/customers/25"),
                "product_retrieve.json": await get("/products/40"),
                "product_variation_retrieve.json": (await get("/products/22/variations"))[0],
                "webhook_retrieve.json": (await get("/webhooks"))[0],
                "error_rest_no_route.json": await get("/no/such/route"),
                "error_woocommerce_rest_term_invalid.json": await get("/orders/999999"),
            }

    responses = anyio.run(main)
    problems = {name: differences(example(name), body) for name, body in responses.items()}
    assert problems == {name: [] for name in responses}
    # the helper does find a change of type or a missing field
    broken = dict(responses["order_retrieve.json"], total=29.35)
    del broken["line_items"][0]["taxes"]
    assert sorted(differences(example("order_retrieve.json"), broken)) == [
        "$.line_items[0].taxes: missing",
        "$.total: expected string, got number (29.35)",
    ]


def test_doc_examples_served_over_real_http_map_to_the_cent(app, live):
    """The examples loaded into the emulator and read by the connector over a real socket."""
    store = app.emulator.store
    order_727 = example("order_retrieve.json")
    order_723 = example("orders_list.json")[1]
    store.orders[727] = order_727
    store.orders[723] = order_723
    store.refunds[723] = example("order_refunds_list.json")

    async def main():
        source = live_source(live)
        try:
            return await source.fetch(EntityType.ORDER, "727"), await source.fetch(
                EntityType.ORDER, "723"
            )
        finally:
            await source.aclose()

    first, second = anyio.run(main)
    assert first.totals.total.amount == D(order_727["total"]) == first.reconciliation().computed
    assert [line.unit_price.amount * line.quantity for line in first.lines] == [
        D(item["subtotal"]) for item in order_727["line_items"]
    ]
    assert [t.amount.amount for line in first.lines for t in line.taxes] == [
        D(item["total_tax"]) for item in order_727["line_items"]
    ]
    assert first.shipping_lines[0].price.amount == D(order_727["shipping_total"])
    assert [r.stated_amount.amount for r in second.refunds] == [D("10.00"), D("9.00")]
    assert [r.credit_total.amount for r in second.refunds] == [D("10.00"), D("9.00")]
    assert second.refunds[1].lines[0].line_id == "311"
    assert second.discrepancies() == [] and first.discrepancies() == []


def test_a_subtotal_the_quantity_does_not_divide_keeps_the_cents_explicit():
    data = example("order_retrieve.json")
    line = data["line_items"][0]
    line.update(quantity=3, subtotal="10.00", total="9.00")  # a 1.00 coupon share
    data["total"] = "32.35"  # 9.00 + 12.00 + 10.00 shipping + 1.35 tax
    order = map_order(data, "example.com")
    first = order.lines[0]
    assert first.unit_price.amount == D("3.33333333") and first.discount.amount == D("1.00")
    assert order.rounding_adjustment.amount == D("0.00000001")  # 10.00 - 3 x 3.33333333
    assert first.net.amount + order.rounding_adjustment.amount == D("9.00")


def test_the_version_fits_the_store_column_whatever_the_refunds():
    """``sync_records.source_version`` holds 100 characters (PostgreSQL refuses more)."""
    from ledgerbridge_woocommerce.fields import version_of

    data = example("order_retrieve.json")
    many = {**data, "refunds": [{"id": 100000 + i} for i in range(40)]}
    assert len(version_of(many)) <= 100 and version_of(many) != version_of(data)


def test_the_version_of_a_malformed_order_is_made_not_raised():
    """An integer too long for ``str`` (the fuzz run's hostile value) in a money field: the
    version is still made, and the order is parked by the mapping guard, not crashed on."""
    from ledgerbridge_woocommerce.fields import version_of
    from ledgerbridge_woocommerce.source import order_change

    data = {**example("order_retrieve.json"), "total": 10**5000}
    assert version_of(data).startswith("2017-03-22T19:28:08;s=")
    change = order_change(data, [], "example.com")
    assert change.error is not None and change.record is None
