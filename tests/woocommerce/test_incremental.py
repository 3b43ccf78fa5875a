"""Incremental reads against the emulator over real sockets (OAuth 1.0a over loopback http)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import anyio
import pytest

from ledgerbridge.canonical import EntityType, OrderStatus
from ledgerbridge_woocommerce.emulator import EmulatorConfig, create_app, seed
from ledgerbridge_woocommerce.emulator.data import dates
from ledgerbridge_woocommerce.responses import StoreTooOld

from .conftest import live_source, make_source


async def read_all(source, entity=EntityType.ORDER, checkpoint=None, page_size=None):
    pages = []
    try:
        async for page in source.changes(entity, checkpoint, page_size=page_size):
            pages.append(page)
    finally:
        await source.aclose()
    return pages


def ids(pages):
    return [c.external_id for p in pages for c in p.changes]


def test_incremental_read_picks_up_a_modified_order_and_nothing_older(app, live):
    emulator = app.emulator
    first = anyio.run(read_all, live_source(live), EntityType.ORDER, None, 7)
    listed = [o for o in emulator.store.orders.values() if o["status"] != "checkout-draft"]
    assert sorted(ids(first), key=int) == sorted(str(o["id"]) for o in listed)
    assert all(c.error is None for p in first for c in p.changes)
    modified = [c.record.updated_at for p in first for c in p.changes if not c.deleted]
    assert modified == sorted(modified)  # oldest first
    checkpoint = first[-1].checkpoint

    assert ids(anyio.run(read_all, live_source(live), EntityType.ORDER, checkpoint)) == []

    target = sorted(emulator.store.orders)[3]  # an old order, modified now
    anyio.run(lambda: emulator.touch_order(target, status="completed", customer_note="gift"))
    second = anyio.run(read_all, live_source(live), EntityType.ORDER, checkpoint)
    assert ids(second) == [str(target)]
    (change,) = second[0].changes
    assert change.record.status is OrderStatus.COMPLETED and change.record.note == "gift"
    assert change.version.startswith(emulator.store.orders[target]["date_modified_gmt"] + ";")
    # and the query really asked the store for changes only
    queries = [r for r in emulator.config.requests if r.startswith("GET /wp-json/wc/v3/orders?")]
    assert "modified_after=" in queries[-1] and "dates_are_gmt=true" in queries[-1]
    assert (
        ids(anyio.run(read_all, live_source(live), EntityType.ORDER, second[-1].checkpoint)) == []
    )


def test_ties_at_one_instant_beyond_a_page_are_each_read_exactly_once(app):
    store = app.emulator.store
    same = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    for order in list(store.orders.values())[:12]:
        order.update(dates("date_modified", same))
    pages = anyio.run(read_all, make_source(app), EntityType.ORDER, None, 5)
    read = ids(pages)
    assert (
        len(read)
        == len(set(read))
        == len([o for o in store.orders.values() if o["status"] != "checkout-draft"])
    )
    # a mid-read checkpoint resumes without repeats or gaps
    resumed = anyio.run(read_all, make_source(app), EntityType.ORDER, pages[1].checkpoint, 5)
    assert ids(pages[:2]) + ids(resumed) == read


def test_trashed_orders_arrive_as_deletions(app):
    store = app.emulator.store
    pages = anyio.run(read_all, make_source(app))
    trashed = [c for p in pages for c in p.changes if c.deleted]
    assert {c.external_id for c in trashed} == {
        str(i) for i, o in store.orders.items() if o["status"] == "trash"
    }
    assert all(c.record.status is OrderStatus.DELETED for c in trashed)


def test_a_site_that_ignores_modified_after_is_flagged_not_reread():
    app = create_app(seed(orders=8), EmulatorConfig(ignore_modified_after=True))
    first = anyio.run(read_all, make_source(app))
    with pytest.raises(StoreTooOld, match="ignores modified_after") as caught:
        anyio.run(read_all, make_source(app), EntityType.ORDER, first[-1].checkpoint)
    assert caught.value.needs_operator


def test_backfill_since_a_date_and_a_bad_checkpoint(app):
    store = app.emulator.store
    cut = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    source = make_source(app)

    async def backfill():
        return [p async for p in source.backfill(EntityType.ORDER, since=cut)]

    got = ids(anyio.run(backfill))
    expected = {
        str(i)
        for i, o in store.orders.items()
        if o["status"] != "checkout-draft"
        and datetime.fromisoformat(o["date_modified_gmt"]).replace(tzinfo=UTC) >= cut
    }
    assert set(got) == expected and 0 < len(expected) < len(store.orders)
    from ledgerbridge.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="not readable"):
        anyio.run(read_all, make_source(app), EntityType.ORDER, "{broken")


def test_refunds_are_read_with_their_order_from_either_endpoint(app):
    store = app.emulator.store
    calls = app.emulator.config.requests
    refunded = {str(i) for i in store.refunds}
    used = {}
    for endpoint in ("per_order", "auto", "global"):
        calls.clear()
        pages = anyio.run(read_all, make_source(app, refunds_endpoint=endpoint))
        orders = {c.external_id: c.record for p in pages for c in p.changes}
        for oid in refunded:
            got = [r.source.external_id for r in orders[oid].refunds]
            assert got == [str(r["id"]) for r in store.refunds[int(oid)]], endpoint
            assert orders[oid].discrepancies() == []
        used[endpoint] = (
            sum(c.startswith("GET /wp-json/wc/v3/refunds?") for c in calls),
            sum("/orders/" in c and "/refunds?" in c for c in calls),
        )
    assert used["per_order"] == (0, len(refunded))
    # one GET /refunds?include=... per page of orders that lists refunds, nothing per order
    assert used["auto"] == used["global"] and used["global"][1] == 0 and used["global"][0] >= 1
    assert any("include=" in c for c in calls if c.startswith("GET /wp-json/wc/v3/refunds?"))


def test_sites_before_9_0_are_read_per_order_unless_global_is_demanded():
    app = create_app(seed(orders=10), EmulatorConfig(global_refunds=False))
    pages = anyio.run(read_all, make_source(app))
    refunded = [c.record for p in pages for c in p.changes if c.record and c.record.refunds]
    assert refunded and len(refunded) == len(app.emulator.store.refunds)
    calls = app.emulator.config.requests
    assert sum(c.startswith("GET /wp-json/wc/v3/refunds?") for c in calls) == 1  # tried once
    assert any("/refunds?" in c and "/orders/" in c for c in calls)
    from ledgerbridge_woocommerce.responses import RouteMissing

    with pytest.raises(RouteMissing, match="rest_no_route"):
        anyio.run(read_all, make_source(app, refunds_endpoint="global"))


def test_checkpoints_are_opaque_json_the_engine_can_store(app):
    pages = anyio.run(read_all, make_source(app), EntityType.ORDER, None, 50)
    state = json.loads(pages[-1].checkpoint)
    assert set(state) == {"any", "trash"}
    latest = max(
        o["date_modified_gmt"]
        for o in app.emulator.store.orders.values()
        if o["status"] != "trash" and o["status"] != "checkout-draft"
    )
    assert state["any"]["after"] == latest


def test_timeouts_halve_the_page_size_over_real_http():
    from ledgerbridge.sandbox import serve
    from ledgerbridge_woocommerce.emulator import EmulatorConfig, create_app, seed

    app = create_app(seed(orders=30), EmulatorConfig(slow_above_per_page=25, slow_seconds=0.6))
    with serve(app) as server:
        pages = anyio.run(read_all, live_source(server, timeout=0.25), EntityType.ORDER, None, 100)
    read = ids(pages)
    assert (
        len(read)
        == len(set(read))
        == len([o for o in app.emulator.store.orders.values() if o["status"] != "checkout-draft"])
    )
    sizes = [r.split("per_page=")[1] for r in app.emulator.config.requests if "/orders?" in r]
    assert sizes[:3] == ["100", "50", "25"] and set(sizes[3:]) == {"25"}  # kept for trash too


def test_a_change_within_the_second_the_order_was_read_in_is_read_again(app, live):
    """WooCommerce stamps modifications to the whole second: an order paid a moment after it
    was placed and read keeps its ``date_modified_gmt``.  The version carries the state that
    moves money, so the change is handed over, not skipped as already seen."""
    emulator = app.emulator
    first = anyio.run(read_all, live_source(live), EntityType.ORDER, None)
    checkpoint = first[-1].checkpoint
    newest = max(
        (o for o in emulator.store.orders.values() if o["status"] != "checkout-draft"),
        key=lambda o: (o["date_modified_gmt"], o["id"]),
    )
    stamp = newest["date_modified_gmt"]
    newest.update(status="completed", date_completed_gmt=stamp)  # the same second
    assert newest["date_modified_gmt"] == stamp
    again = anyio.run(read_all, live_source(live), EntityType.ORDER, checkpoint)
    assert ids(again) == [str(newest["id"])]
    assert again[0].changes[0].record.status is OrderStatus.COMPLETED
    assert ids(anyio.run(read_all, live_source(live), EntityType.ORDER, again[-1].checkpoint)) == []
