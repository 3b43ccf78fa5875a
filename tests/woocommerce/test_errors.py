"""Error classes, host throttling, strict parsing, and bad records parked instead of crashing."""

from __future__ import annotations

import anyio
import httpx
import pytest

from ledgerbridge.canonical import EntityType
from ledgerbridge.errors import (
    NotFound,
    RateLimited,
    TotalsMismatch,
    TransientError,
    ValidationFailed,
)
from ledgerbridge.sandbox import FaultConfig
from ledgerbridge_woocommerce.emulator import EmulatorConfig, create_app, seed
from ledgerbridge_woocommerce.responses import ERRORS, RouteMissing

from .conftest import FakeClock, make_source


async def fetch(source, entity, external_id):
    try:
        return await source.fetch(entity, external_id)
    finally:
        await source.aclose()


async def collect(source, entity=EntityType.ORDER):
    try:
        return [p async for p in source.changes(entity, None)]
    finally:
        await source.aclose()


def some_order(app):
    return str(sorted(app.emulator.store.orders)[0])


@pytest.mark.parametrize(
    ("status", "retry_after", "waits"),
    [(429, "7", [7.0, 7.0]), (503, None, None), (429, "Wed, 21 Oct 2015 07:28:00 GMT", [0.0, 0.0])],
)
def test_host_throttling_is_waited_out(status, retry_after, waits):
    app = create_app(
        seed(orders=3),
        EmulatorConfig(throttle_next=2, throttle_status=status, retry_after=retry_after),
    )
    clock = FakeClock()
    order = anyio.run(fetch, make_source(app, clock=clock), EntityType.ORDER, some_order(app))
    assert order.source.external_id == some_order(app)
    assert len(clock.waits) == 2
    if waits is not None:
        assert clock.waits == waits  # Retry-After honoured (an HTTP date in the past: 0)
    else:
        assert all(0 < w <= 0.05 for w in clock.waits)  # policy back-off


def test_throttling_that_never_ends_surfaces_as_rate_limited():
    app = create_app(seed(orders=3), EmulatorConfig(throttle_next=50))
    with pytest.raises(RateLimited) as caught:
        anyio.run(fetch, make_source(app), EntityType.ORDER, some_order(app))
    assert caught.value.retry_after == 1.0 and caught.value.retryable


def test_an_html_page_with_status_200_is_retried_never_read_as_empty():
    app = create_app(seed(orders=3), EmulatorConfig(html_next=1))
    clock = FakeClock()
    pages = anyio.run(collect, make_source(app, clock=clock))
    assert sum(len(p.changes) for p in pages) == 3 and len(clock.waits) == 1
    app.emulator.config.html_next = 99
    with pytest.raises(TransientError, match="not JSON"):
        anyio.run(collect, make_source(app))


def test_injected_503s_and_dropped_connections_are_retried():
    faults = FaultConfig(fail_next=2)
    app = create_app(seed(orders=3), EmulatorConfig(), faults)
    clock = FakeClock()
    pages = anyio.run(collect, make_source(app, clock=clock))
    assert sum(len(p.changes) for p in pages) == 3 and len(clock.waits) == 2


def test_platform_errors_map_to_classes():
    def response(status, body=None, **headers):
        request = httpx.Request("GET", "https://shop.test/wp-json/wc/v3/orders")
        return httpx.Response(status, json=body, headers=headers, request=request)

    no_route = ERRORS.error_for(
        response(404, {"code": "rest_no_route", "message": "No route", "data": {"status": 404}})
    )
    assert isinstance(no_route, RouteMissing) and no_route.needs_operator
    gone = ERRORS.error_for(response(404, {"code": "woocommerce_rest_shop_order_invalid_id"}))
    assert type(gone) is NotFound and not gone.needs_operator
    assert (
        type(ERRORS.error_for(response(410, {"code": "woocommerce_rest_already_trashed"})))
        is NotFound
    )
    assert (
        type(ERRORS.error_for(response(500, {"code": "woocommerce_rest_cannot_delete"})))
        is TransientError
    )
    waf = ERRORS.error_for(response(501))
    assert waf.needs_operator and not waf.retryable
    bad = ERRORS.error_for(response(400, {"code": "rest_invalid_param", "message": "per_page"}))
    assert type(bad) is ValidationFailed and bad.code == "rest_invalid_param"
    assert ERRORS.error_for(response(503, None, **{"Retry-After": "30"})).retry_after == 30.0


def test_fetching_a_missing_order_is_not_found(app):
    with pytest.raises(NotFound) as caught:
        anyio.run(fetch, make_source(app), EntityType.ORDER, "424242")
    assert caught.value.code == "woocommerce_rest_shop_order_invalid_id"
    with pytest.raises(NotFound, match="guest"):
        anyio.run(fetch, make_source(app), EntityType.CUSTOMER, "guest:a@example.com")


def test_a_bad_record_is_parked_and_the_read_goes_on(app):
    orders = app.emulator.store.orders
    broken, wrong_total, custom = sorted(orders)[:3]
    orders[broken]["line_items"][0]["total"] = "twelve"
    orders[wrong_total]["total"] = "999.00"
    pages = anyio.run(collect, make_source(app))
    changes = {c.external_id: c for p in pages for c in p.changes}
    assert len(changes) == len([o for o in orders.values() if o["status"] != "checkout-draft"])
    assert isinstance(changes[str(broken)].error, ValidationFailed)
    assert "line_items[0].total is 'twelve'" in str(changes[str(broken)].error)
    mismatch = changes[str(wrong_total)].error
    assert isinstance(mismatch, TotalsMismatch) and mismatch.stated == 999
    assert changes[str(wrong_total)].record is None
    assert changes[str(custom)].record is not None


def test_unknown_custom_status_is_unknown_not_posted(app):
    pages = anyio.run(collect, make_source(app))
    custom = [
        c.record
        for p in pages
        for c in p.changes
        if c.record is not None and c.record.extra["status"] == "awaiting-shipment"
    ]
    assert custom and all(o.status.value == "unknown" for o in custom)
    assert custom[0].extra["meta_data"] == {"_shipment_carrier": "UPS"}
