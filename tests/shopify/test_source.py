"""The Shopify source against its emulator: incremental reads, checkpoints, throttling, errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.canonical import EntityType, Order, OrderStatus, PaymentKind
from ledgerbridge.contracts import Change, ChangePage
from ledgerbridge.errors import (
    AuthFailed,
    NotFound,
    PermissionDenied,
    TotalsMismatch,
    ValidationFailed,
)
from ledgerbridge.sandbox import FaultConfig, serve
from ledgerbridge_shopify.emulator import ALL_SCOPES, create_app
from ledgerbridge_shopify.source import ShopifySource

from .helpers import ScaledClock, make_source


async def collect(pages: AsyncIterator[ChangePage]) -> tuple[list[Change], list[str | None]]:
    changes: list[Change] = []
    checkpoints: list[str | None] = []
    async for page in pages:
        changes += page.changes
        checkpoints.append(page.checkpoint)
    return changes, checkpoints


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_incremental_read_over_real_http_stays_in_budget() -> None:
    clock = ScaledClock(100)
    # a small bucket so pacing has to work: each order page asks for ~500 of 800 points and
    # the read needs several bucketfuls at 20 points/s
    app = create_app(orders=45, bucket_size=800, restore_rate=20, clock=clock.now)

    async def read(url: str) -> tuple[list[Change], ShopifySource]:
        source = make_source(base_url=url, clock=clock)
        try:
            changes, _ = await collect(source.changes(EntityType.ORDER, None))
        finally:
            await source.aclose()
        return changes, source

    with serve(app) as server:
        changes, source = run(read(server.url))
    assert len(changes) == 45
    assert len({c.external_id for c in changes}) == 45
    assert all(c.error is None and isinstance(c.record, Order) for c in changes)
    for change in changes:
        order = change.record
        assert isinstance(order, Order)
        assert order.discrepancies() == [] and order.rounding_adjustment is None
        assert change.version == order.source.version
    stats = source.client.stats
    assert stats["throttled"] == 0 and stats["failed"] == 0 and app.stats["throttled"] == 0
    assert stats["paced"] > 0  # the budget made it wait instead of being throttled
    # oldest first
    versions = [c.version or "" for c in changes]
    assert versions == sorted(versions)


def test_checkpoint_is_safe_and_reads_only_new_changes() -> None:
    clock = ScaledClock(5000)
    app = create_app(orders=40, clock=clock.now)
    source = make_source(app=app, clock=clock)

    async def scenario() -> None:
        changes, checkpoints = await collect(source.changes(EntityType.ORDER, None, page_size=3))
        assert len(changes) == 40
        final = checkpoints[-1]
        assert final is not None and json.loads(final)["since"] == max(
            c.version or "" for c in changes
        )
        # same checkpoint, nothing changed: nothing to do (the overlap window is de-duplicated)
        again, _ = await collect(source.changes(EntityType.ORDER, final))
        assert again == []
        # one order changes: exactly that order comes back, with its new version
        touched = app.shop.touch_order(5)
        third, later = await collect(source.changes(EntityType.ORDER, final))
        assert [(c.external_id, c.version) for c in third] == [
            (touched["legacyResourceId"], touched["updatedAt"])
        ]
        assert json.loads(later[-1] or "{}")["since"] == touched["updatedAt"]

        # resume after an interruption: from page 2's checkpoint, nothing is lost or repeated
        pages = source.changes(EntityType.ORDER, None, page_size=3)
        seen: list[str] = []
        resume_from = None
        async for page in pages:
            seen += [c.external_id for c in page.changes]
            if len(seen) >= 6:
                resume_from = page.checkpoint
                break
        await pages.aclose()  # type: ignore[attr-defined]
        rest, _ = await collect(source.changes(EntityType.ORDER, resume_from, page_size=4))
        ids = seen + [c.external_id for c in rest]
        assert sorted(ids) == sorted({c.external_id for c in changes})
        assert len(ids) == len(set(ids))
        await source.aclose()

    run(scenario())


@pytest.mark.parametrize("status", [200, 429])
def test_throttled_responses_wait_the_computed_time_and_retry(status: int) -> None:
    clock = ScaledClock(5000)
    app = create_app(orders=6, clock=clock.now, throttle_status=status, restore_rate=50)
    app.throttle_next = 2
    source = make_source(app=app, clock=clock)
    changes, _ = run(collect(source.changes(EntityType.ORDER, None)))
    run(source.aclose())
    assert len(changes) == 6 and all(c.error is None for c in changes)
    assert source.client.stats["throttled"] == 2 and app.stats["throttled"] == 2
    assert source.client.stats["waits"] == 2
    assert clock.slept > 0


def test_server_errors_are_retried() -> None:
    clock = ScaledClock(5000)
    app = create_app(orders=4, clock=clock.now, faults=FaultConfig(fail_next=2))
    source = make_source(app=app, clock=clock)
    changes, _ = run(collect(source.changes(EntityType.ORDER, None)))
    run(source.aclose())
    assert len(changes) == 4
    assert source.client.stats["failed"] == 2 and source.client.stats["waits"] == 2


def fetch(source: ShopifySource, n: int) -> Order:
    order = run(source.fetch(EntityType.ORDER, str(5_000_000_000 + n)))
    assert isinstance(order, Order)
    return order


@pytest.fixture
def shop_source() -> ShopifySource:
    clock = ScaledClock(5000)
    return make_source(app=create_app(orders=200, clock=clock.now), clock=clock)


def test_seeded_variety_maps_to_canonical(shop_source: ShopifySource) -> None:
    s = shop_source
    gift = fetch(s, 11)
    assert gift.lines[0].is_gift_card and not gift.lines[0].taxable and gift.lines[0].taxes == ()
    deleted = fetch(s, 13)
    assert (
        deleted.lines[0].product_exists is False
        and deleted.lines[0].sku
        and deleted.lines[0].product_id is None
    )
    cancelled = fetch(s, 17)
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.cancel_reason == "customer"
    assert [p.kind for p in cancelled.payments] == [PaymentKind.AUTHORIZATION, PaymentKind.VOID]
    assert cancelled.amount_received.is_zero()
    assert fetch(s, 19).test is True
    multi = fetch(s, 22)
    assert multi.currency == "USD" and multi.presentment_currency == "EUR"
    assert multi.presentment_total is not None and multi.presentment_total.currency == "EUR"
    assert multi.presentment_total.amount == (multi.totals.total.amount * Decimal("0.92")).quantize(
        Decimal("0.01")
    )
    inclusive = fetch(s, 3)
    assert inclusive.taxes_included and inclusive.reconciliation().ok
    discounted = fetch(s, 6)
    assert discounted.discounts[0].code == "SAVE5" and discounted.discounts[
        0
    ].amount.amount == Decimal("5.00")
    assert sum(
        (line.discount.amount for line in discounted.lines if line.discount), Decimal(0)
    ) == Decimal("5.00")
    refunded = fetch(s, 14)
    (refund,) = refunded.refunds
    assert refund.lines and refund.shipping is not None and not refund.shipping.is_zero()
    assert refund.discrepancies() == [] and refund.money_returned == refund.credit_total
    assert refunded.amount_refunded == refund.credit_total
    captured = fetch(s, 4)
    assert [p.kind for p in captured.payments] == [PaymentKind.AUTHORIZATION, PaymentKind.CAPTURE]
    assert captured.amount_received == captured.totals.total
    for n in range(40):
        order = fetch(s, n)
        assert order.discrepancies() == [], n
    run(s.aclose())


def test_nested_connections_are_paged_to_the_end(shop_source: ShopifySource) -> None:
    order = fetch(shop_source, 97)  # 30 lines, refunded in full: 30 refund lines
    assert len(order.lines) == 30
    (refund,) = order.refunds
    assert len(refund.lines) == 30
    assert refund.credit_total == order.totals.total == refund.money_returned
    # the order, one more page of lines, the refund, one more page of refund lines
    assert shop_source.client.stats["requests"] == 4
    run(shop_source.aclose())


def test_old_orders_need_read_all_orders_and_the_error_says_so() -> None:
    clock = ScaledClock(5000)
    app = create_app(
        orders=10, clock=clock.now, tokens={"limited": ALL_SCOPES - {"read_all_orders"}}
    )
    source = make_source(app=app, clock=clock, token="limited")
    with pytest.raises(PermissionDenied, match="read_all_orders") as err:
        run(source.fetch(EntityType.ORDER, "5000000000"))
    assert err.value.needs_operator
    changes, _ = run(collect(source.changes(EntityType.ORDER, None)))
    assert len(changes) == 8  # like Shopify, the list silently leaves out the two old orders
    run(source.aclose())


def test_wrong_token_and_missing_record() -> None:
    clock = ScaledClock(5000)
    app = create_app(orders=3, clock=clock.now)
    bad = make_source(app=app, clock=clock, token="shpat_wrong")
    with pytest.raises(AuthFailed, match="token"):
        run(bad.fetch(EntityType.ORDER, "5000000001"))
    good = make_source(app=app, clock=clock)
    with pytest.raises(NotFound):
        run(good.fetch(EntityType.ORDER, "5000000999"))
    run(bad.aclose())
    run(good.aclose())


def test_bad_records_are_changes_with_errors_not_crashes() -> None:
    clock = ScaledClock(5000)
    app = create_app(orders=8, clock=clock.now)
    broken = app.shop.touch_order(2)
    broken["totalPriceSet"] = {
        "shopMoney": {"amount": "12.3.4", "currencyCode": "USD"},
        "presentmentMoney": {"amount": "1", "currencyCode": "USD"},
    }
    wrong = app.shop.touch_order(3)
    wrong["totalPriceSet"] = {
        "shopMoney": {"amount": "99999.00", "currencyCode": "USD"},
        "presentmentMoney": {"amount": "99999.00", "currencyCode": "USD"},
    }
    source = make_source(app=app, clock=clock)
    changes, _ = run(collect(source.changes(EntityType.ORDER, None)))
    run(source.aclose())
    assert len(changes) == 8
    by_id = {c.external_id: c for c in changes}
    bad = by_id[broken["legacyResourceId"]]
    assert (
        isinstance(bad.error, ValidationFailed)
        and "totalPriceSet" in str(bad.error)
        and bad.record is None
    )
    mismatch = by_id[wrong["legacyResourceId"]]
    assert isinstance(mismatch.error, TotalsMismatch) and mismatch.error.stated == Decimal(
        "99999.00"
    )
    assert sum(1 for c in changes if c.error is None) == 6


def test_customers_and_products() -> None:
    clock = ScaledClock(5000)
    app = create_app(orders=2, customers=12, products=7, clock=clock.now)
    source = make_source(app=app, clock=clock)
    customers, cps = run(collect(source.changes(EntityType.CUSTOMER, None)))
    assert len(customers) == 12 and all(c.error is None for c in customers)
    # customers match updated_at by whole day: the next read asks from the day's start and
    # the overlap de-duplication keeps the last ones from coming back
    assert "since" in json.loads(cps[-1] or "{}")
    again, _ = run(collect(source.changes(EntityType.CUSTOMER, cps[-1])))
    assert again == []
    changed = app.shop.touch_customer(4)
    third, _ = run(collect(source.changes(EntityType.CUSTOMER, cps[-1])))
    assert [(c.external_id, c.version) for c in third] == [
        (changed["legacyResourceId"], changed["updatedAt"])
    ]
    products, _ = run(collect(source.changes(EntityType.PRODUCT, None)))
    assert len(products) == 7
    product = products[2].record
    assert product is not None and len(product.variants) == 3  # type: ignore[union-attr]
    assert product.variants[0].price is not None and product.variants[0].price.currency == "USD"  # type: ignore[union-attr]
    run(source.aclose())


def test_duties_are_a_fee_line(shop_source: ShopifySource) -> None:
    order = fetch(shop_source, 6)  # n % 23 == 6: import duties on top of the subtotal
    (duty,) = [f for f in order.fees if f.kind == "duty"]
    assert duty.amount.amount == Decimal("3.50") and order.reconciliation().ok
    assert all(f.kind != "duty" for f in fetch(shop_source, 7).fees)
    run(shop_source.aclose())


def test_page_too_expensive_for_one_query_is_shrunk_and_retried() -> None:
    clock = ScaledClock(5000)
    app = create_app(orders=12, clock=clock.now)
    source = make_source(app=app, clock=clock)
    # a wrong (too cheap) per-record estimate: the first page asks for 12 orders, ~3,000 points
    source.client.budget.expected["OrdersChangedSince/1"] = 10.0
    changes, _ = run(collect(source.changes(EntityType.ORDER, None)))
    run(source.aclose())
    assert len(changes) == 12 and all(c.error is None for c in changes)
    assert source.client.stats["failed"] == 1  # the one MAX_COST_EXCEEDED answer
    assert source._page[EntityType.ORDER] <= 3


def test_full_transaction_list_is_read_again_in_full() -> None:
    clock = ScaledClock(5000)
    app = create_app(orders=4, clock=clock.now)
    seeded = app.shop.orders.get(5_000_000_001)
    assert seeded is not None
    template = seeded["transactions"][0]
    many = [{**template, "id": f"gid://shopify/OrderTransaction/{900 + i}"} for i in range(12)]
    app.shop.touch_order(1, transactions=many)
    source = make_source(app=app, clock=clock)
    order = fetch(source, 1)
    assert [p.external_id for p in order.payments] == [str(900 + i) for i in range(12)]
    # the order (its first TRANSACTION_LIST transactions), then all 12
    assert source.client.stats["requests"] == 2
    run(source.aclose())


def test_an_order_with_more_transactions_than_are_read_parks() -> None:
    from ledgerbridge_shopify.queries import TRANSACTION_MAX

    clock = ScaledClock(5000)
    app = create_app(orders=4, clock=clock.now)
    seeded = app.shop.orders.get(5_000_000_001)
    assert seeded is not None
    template = seeded["transactions"][0]
    many = [
        {**template, "id": f"gid://shopify/OrderTransaction/{900 + i}"}
        for i in range(TRANSACTION_MAX + 5)
    ]
    app.shop.touch_order(1, transactions=many)
    source = make_source(app=app, clock=clock)
    with pytest.raises(ValidationFailed, match="has 190 or more transactions; .* partial list"):
        fetch(source, 1)
    run(source.aclose())


def test_a_429_with_an_http_date_retry_after_is_a_rate_limit_not_a_crash():
    """Shopify's edge may send ``Retry-After`` as an HTTP date (RFC 9110); ``float()`` of it
    raised ValueError out of the read."""
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    import httpx

    from ledgerbridge.errors import RateLimited
    from ledgerbridge_shopify.client import ERRORS, http_error

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=40), usegmt=True)
    request = httpx.Request("POST", "https://acme.myshopify.com/admin/api/2025-01/graphql.json")
    response = httpx.Response(429, headers={"Retry-After": when}, request=request)
    error = http_error(response, ERRORS.refusal(response), "orders")
    assert isinstance(error, RateLimited) and 35 <= error.retry_after <= 40
