"""The API2Cart source against the emulator over real sockets (the issue's "done when")."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import anyio
import httpx
import pytest

from ledgerbridge.canonical import EntityType, Order, OrderStatus
from ledgerbridge.engine.planner import plan_order
from ledgerbridge.errors import AuthFailed, NotFound, RateLimited, TotalsMismatch, ValidationFailed
from ledgerbridge.mapping import load_mapping
from ledgerbridge.retry import RetryPolicy
from ledgerbridge.sandbox import serve

from .conftest import AMAZON, ETSY, GENERIC, Harness


async def collect(source, entity=EntityType.ORDER, checkpoint=None, page_size=None):
    pages = []
    async for page in source.changes(entity, checkpoint, page_size=page_size):
        pages.append(page)
    await source.aclose()
    return pages


def walk(harness: Harness, store=GENERIC, **kw):
    with serve(harness.app) as server:
        source = harness.source(
            store, base_url=server.url + "/v1.1", inner=httpx.AsyncHTTPTransport(), **kw
        )
        pages = anyio.run(lambda: collect(source, page_size=10))
    walk.last_source = source  # type: ignore[attr-defined]
    return pages


def test_three_page_cursor_walk_returns_every_order_once(harness: Harness):
    pages = walk(harness)
    live = [c for p in pages for c in p.changes if not c.deleted]
    ids = Counter(c.external_id for c in live)
    store = harness.state.stores[GENERIC]
    assert set(ids) == set(store.orders) and set(ids.values()) == {1}
    assert len(live) == 25 and all(c.error is None for c in live)
    lists = harness.state.calls("order.list")
    # page 1 with filters, pages 2 and 3 with the cursor alone, copied verbatim
    assert [set(q) for q in lists[1:3]] == [{"page_cursor"}, {"page_cursor"}]
    assert lists[3].get("is_deleted") == "true" and len(lists) == 4
    first = lists[0]
    assert first["sort_by"] == "modified_at" and first["rounding_precision"] == "4"
    assert "currency" in first["response_fields"] and "refunds" in first["response_fields"]
    # the deleted orders come as deletions, not as records
    deleted = [c for p in pages for c in p.changes if c.deleted]
    assert {c.external_id for c in deleted} == set(store.deleted)
    assert all(c.record is None for c in deleted)


def test_orders_arrive_oldest_first_and_every_one_adds_up(harness: Harness):
    pages = walk(harness, ETSY)
    orders = [c.record for p in pages for c in p.changes if c.record is not None]
    stamps = [o.updated_at for o in orders]
    assert stamps == sorted(stamps)
    for order in orders:
        assert isinstance(order, Order)
        assert order.reconciliation().ok
        assert order.extra["api2cart"]["totals_semantics"] == "known"
        assert all(isinstance(line.unit_price.amount, Decimal) for line in order.lines)


def test_checkpoint_resumes_after_the_last_page_with_overlap(harness: Harness):
    source = harness.source(modified_overlap="PT0S")
    pages = anyio.run(lambda: collect(source, page_size=10))
    checkpoint = pages[-1].checkpoint
    store = harness.state.stores[GENERIC]
    # one order changes after the walk
    changed = next(iter(store.orders.values()))
    changed["modified_at"] = {"value": "2026-02-01T10:00:00+0000", "format": "Y-m-d\\TH:i:sO"}
    again = anyio.run(
        lambda: collect(harness.source(modified_overlap="PT0S"), checkpoint=checkpoint)
    )
    live = [c for p in again for c in p.changes if not c.deleted]
    newest = max(o["modified_at"]["value"] for o in store.orders.values() if o is not changed)
    # The filter is inclusive, so the walk re-reads what shares the previous watermark second;
    # the checkpoint remembers those (id, version) pairs, so only the changed order comes back.
    assert {c.external_id for c in live} == {changed["order_id"]}
    query = next(q for q in harness.state.calls("order.list") if "modified_from" in q)
    assert query["modified_from"] == newest[:10] + " " + newest[11:19]


def test_return_code_7_slows_the_connector_without_failing_the_run(harness: Harness):
    harness.state.inject(7, times=3, methods={"order.list"}, message="Store request limit")
    pages = walk(harness)
    assert sum(len(p.changes) for p in pages) == 27
    calls = harness.state.calls("order.list")
    # 3 refused + 3 live pages + 1 deleted page
    assert len(calls) == 7
    pacer = walk.last_source.client.pacer
    # each refusal doubled the spacing between requests; each success then halved it
    assert pacer.waits == [0.5, 1.0, 2.0, 1.0, 0.5] and pacer.interval == 0
    # plus one policy back-off per refusal: every wait went through the injected clock
    backoffs = [w for w in harness.clock.waits if w not in pacer.waits]
    assert len(backoffs) == 3 and len(harness.clock.waits) == 8


def test_return_code_10_waits_the_account_backoff(harness: Harness):
    harness.state.inject(10, times=1, methods={"order.status.list"})
    anyio.run(lambda: collect(harness.source(account_backoff=42)))
    assert 42.0 in harness.clock.waits


def test_return_code_10_pauses_every_store_of_the_account(harness: Harness):
    """Store A is told the account is over its limit; store B, same key, waits too."""
    harness.state.inject(10, times=1, methods={"order.status.list"})
    store_a = harness.source(GENERIC, account_backoff=42)
    store_a.client.kit.policy = RetryPolicy(attempts=1)  # hand the wait to the engine
    with pytest.raises(RateLimited):
        anyio.run(lambda: collect(store_a))
    assert harness.clock.waits == []
    store_b = harness.source(ETSY, account_backoff=42)
    anyio.run(lambda: collect(store_b))
    assert harness.clock.waits[0] == 42  # before its first request
    assert len(harness.state.calls("order.status.list")) == 2


def test_an_invalid_api_key_stops_with_an_operator_message(harness: Harness):
    with serve(harness.app) as server:
        source = harness.source(
            api_key="wrong-key", base_url=server.url + "/v1.1", inner=httpx.AsyncHTTPTransport()
        )
        with pytest.raises(AuthFailed) as caught:
            anyio.run(lambda: collect(source))
    error = caught.value
    assert error.needs_operator and error.code == "2"
    assert "secrets.api_key" in str(error) and "Incorrect API Key" in str(error)
    assert "wrong-key" not in str(error)
    assert len(harness.state.requests) == 1  # not retried


def test_an_unknown_store_key_names_the_store_key(harness: Harness):
    with pytest.raises(AuthFailed, match=r"secrets\.store_key"):
        anyio.run(lambda: collect(harness.source("no-such-store")))


def test_gateway_errors_are_retried(harness: Harness):
    harness.app.config.fail_next = 2
    pages = anyio.run(lambda: collect(harness.source(), page_size=10))
    assert sum(len(p.changes) for p in pages) == 27
    assert len(harness.clock.waits) == 2


def test_too_many_items_halves_count(harness: Harness):
    harness.state.inject(111, times=1, methods={"order.list"})
    pages = anyio.run(lambda: collect(harness.source(), page_size=20))
    assert sum(len(p.changes) for p in pages) == 27
    counts = [q.get("count") for q in harness.state.calls("order.list") if "count" in q]
    assert counts[:2] == ["20", "10"]


def test_a_record_that_does_not_add_up_is_parked_not_raised(harness: Harness):
    store = harness.state.stores[GENERIC]
    bad = sorted(store.orders.values(), key=lambda o: o["modified_at"]["value"])[4]
    bad["total"]["total"] += Decimal("10.00")
    pages = anyio.run(lambda: collect(harness.source(), page_size=10))
    changes = [c for p in pages for c in p.changes if not c.deleted]
    assert len(changes) == 25
    failed = [c for c in changes if c.error is not None]
    assert [c.external_id for c in failed] == [bad["order_id"]]
    assert isinstance(failed[0].error, TotalsMismatch)
    assert failed[0].error.difference == Decimal("10.00")


def test_unknown_and_user_defined_statuses(harness: Harness):
    store = harness.state.stores[GENERIC]
    first = next(iter(store.orders.values()))
    first["status"] = {
        "id": "awaiting-pickup",
        "name": "Awaiting Pickup",
        "history": [],
        "refund_info": None,
    }
    order = anyio.run(lambda: _fetch(harness, first["order_id"]))
    assert order.status is OrderStatus.UNKNOWN and order.extra["api2cart"]["status_unknown"]
    assert order.extra["api2cart"]["status"] == {"id": "awaiting-pickup", "name": "Awaiting Pickup"}
    assert order.source_status == "awaiting-pickup"
    # The advice names the key that maps it (it used to say "not reported": the planner read a
    # status field only WooCommerce's mapper filled).
    runtime = load_mapping("mappings/api2cart-to-zohobooks.yaml")
    with pytest.raises(ValidationFailed, match=r"status_map: \{awaiting-pickup: open\}"):
        plan_order(order, runtime)
    mapped = anyio.run(
        lambda: _fetch(harness, first["order_id"], status_map={"awaiting-pickup": "on_hold"})
    )
    assert mapped.status is OrderStatus.ON_HOLD


async def _fetch(harness, order_id, store=GENERIC, **settings):
    source = harness.source(store, **settings)
    try:
        return await source.fetch(EntityType.ORDER, order_id)
    finally:
        await source.aclose()


def test_fetch_reads_one_order_and_missing_ones_are_not_found(harness: Harness):
    order_id = next(iter(harness.state.stores[AMAZON].orders))
    order = anyio.run(lambda: _fetch(harness, order_id, AMAZON))
    assert order.number == order_id and order.customer is None
    assert order.extra["api2cart"]["legacy_totals"] is None
    with pytest.raises(NotFound):
        anyio.run(lambda: _fetch(harness, "404-404", AMAZON))
    info = harness.state.calls("order.info")[0]
    assert info["rounding_precision"] == "4" and "create_at" in info["response_fields"]


def test_customers_include_guests_and_products_carry_children(harness: Harness):
    customers = anyio.run(lambda: collect(harness.source(), EntityType.CUSTOMER, page_size=5))
    records = [c.record for p in customers for c in p.changes]
    assert len(records) == 12 and any(r.is_guest for r in records)
    assert harness.state.calls("customer.list")[0]["include_guests"] == "true"
    products = anyio.run(lambda: collect(harness.source(currency="USD"), EntityType.PRODUCT))
    items = {c.record.source.external_id: c.record for p in products for c in p.changes}
    assert len(items) == 8
    configurable = items["7002"]
    assert [v.sku for v in configurable.variants] == ["MUG-2-S", "MUG-2-M", "MUG-2-L"]
    assert configurable.variants[0].price is not None
    simple = items["7001"]
    assert len(simple.variants) == 1 and simple.variants[0].sku == "WID-1"
    assert harness.state.calls("product.child_item.list")
    assert not harness.state.calls("product.variant.list")


def test_fetch_customer_and_product_and_resume_customers(harness: Harness):
    async def run():
        source = harness.source(currency="USD")
        try:
            customer = await source.fetch(EntityType.CUSTOMER, "503")
            product = await source.fetch(EntityType.PRODUCT, "7004")
            with pytest.raises(NotFound):
                await source.fetch(EntityType.CUSTOMER, "999")
            with pytest.raises(NotFound):
                await source.fetch(EntityType.PRODUCT, "999")
            return customer, product
        finally:
            await source.aclose()

    customer, product = anyio.run(run)
    assert customer.source.external_id == "503" and customer.email
    assert customer.billing_address is not None and customer.billing_address.email
    assert len(product.variants) == 3 and product.variants[0].price.currency == "USD"
    first = anyio.run(lambda: collect(harness.source(), EntityType.CUSTOMER, page_size=5))
    checkpoint = first[-1].checkpoint
    later = anyio.run(
        lambda: collect(harness.source(modified_overlap="PT0S"), EntityType.CUSTOMER, checkpoint)
    )
    # what shares the newest second is read again, and not handed over a second time
    assert [c.external_id for p in later for c in p.changes] == []
    assert any(q.get("modified_from") for q in harness.state.calls("customer.list"))


def test_a_cart_without_a_status_list_posts_only_mapped_statuses(harness: Harness):
    harness.state.inject(109, times=1, methods={"order.status.list"})
    pages = anyio.run(
        lambda: collect(harness.source(ETSY, status_map={"completed": "completed"}), page_size=25)
    )
    orders = [c.record for p in pages for c in p.changes if c.record is not None]
    assert len(orders) == 25
    statuses = {o.extra["api2cart"]["status"]["id"]: o.status for o in orders}
    assert statuses["completed"] is OrderStatus.COMPLETED
    assert {s for k, s in statuses.items() if k != "completed"} == {OrderStatus.UNKNOWN}
