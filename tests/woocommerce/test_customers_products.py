"""Customers (no date filter: full pass, then through orders), guests, and products."""

from __future__ import annotations

import json
from decimal import Decimal

import anyio

from ledgerbridge.canonical import EntityType

from .conftest import make_source


async def read(source, entity, checkpoint=None, page_size=None):
    try:
        return [p async for p in source.changes(entity, checkpoint, page_size=page_size)]
    finally:
        await source.aclose()


def test_customers_full_pass_then_only_those_referenced_by_changed_orders(app):
    emulator = app.emulator
    store = emulator.store
    first = anyio.run(read, make_source(app), EntityType.CUSTOMER, None, 4)
    got = [c.external_id for p in first for c in p.changes]
    assert got == [str(i) for i in sorted(store.customers)]  # the full pass, by id
    assert json.loads(first[0].checkpoint)["mode"] == "full"
    checkpoint = first[-1].checkpoint
    assert json.loads(checkpoint)["mode"] == "orders"
    assert [
        c
        for p in anyio.run(read, make_source(app), EntityType.CUSTOMER, checkpoint)
        for c in p.changes
    ] == []

    registered = next(
        o for o in store.orders.values() if o["customer_id"] and o["status"] == "processing"
    )
    guest = next(
        o for o in store.orders.values() if o["customer_id"] == 0 and o["status"] == "processing"
    )

    async def touch():
        await emulator.touch_order(registered["id"])
        await emulator.touch_order(guest["id"])

    anyio.run(touch)
    second = anyio.run(read, make_source(app), EntityType.CUSTOMER, checkpoint)
    changes = [c for p in second for c in p.changes]
    assert [c.external_id for c in changes] == [str(registered["customer_id"])]
    assert changes[0].record.email == store.customers[registered["customer_id"]]["email"]
    assert any("/customers?" in r and "include=" in r for r in emulator.config.requests)


def test_a_customer_deleted_since_its_order_is_reported_deleted(app):
    store = app.emulator.store
    first = anyio.run(read, make_source(app), EntityType.CUSTOMER)
    order = next(
        o for o in store.orders.values() if o["customer_id"] and o["status"] == "processing"
    )
    del store.customers[order["customer_id"]]
    anyio.run(app.emulator.touch_order, order["id"])
    changes = [
        c
        for p in anyio.run(read, make_source(app), EntityType.CUSTOMER, first[-1].checkpoint)
        for c in p.changes
    ]
    assert [(c.external_id, c.deleted, c.record) for c in changes] == [
        (str(order["customer_id"]), True, None)
    ]


def test_guest_orders_carry_their_customer(app):
    store = app.emulator.store
    guest = next(o for o in store.orders.values() if o["customer_id"] == 0)
    order = anyio.run(_fetch, make_source(app), EntityType.ORDER, str(guest["id"]))
    assert order.customer.is_guest and order.customer.email == guest["billing"]["email"]
    assert order.customer.source.external_id == f"guest:{guest['billing']['email']}"


async def _fetch(source, entity, external_id):
    try:
        return await source.fetch(entity, external_id)
    finally:
        await source.aclose()


def test_products_with_variations_and_store_currency(app):
    store = app.emulator.store
    pages = anyio.run(read, make_source(app, currency="USD"), EntityType.PRODUCT)
    products = {c.external_id: c.record for p in pages for c in p.changes}
    assert set(products) == {str(i) for i in store.products}
    variable = products["22"]
    assert sorted((v.external_id, v.sku, v.price.amount) for v in variable.variants) == [
        ("23", "Bar3", Decimal("12.00")),
        ("24", "Bar4", Decimal("14.50")),
    ]
    simple = products["40"]
    assert [(v.sku, v.price.amount, v.price.currency) for v in simple.variants] == [
        ("PQ-40", Decimal("21.99"), "USD")
    ]
    again = anyio.run(read, make_source(app), EntityType.PRODUCT, pages[-1].checkpoint)
    assert [c for p in again for c in p.changes] == []
    fetched = anyio.run(_fetch, make_source(app), EntityType.PRODUCT, "22")
    assert len(fetched.variants) == 2 and fetched.variants[0].price is None  # no currency set
