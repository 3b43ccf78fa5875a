"""An order's fulfilments are read in full however few the first read asks for.

The order list asks for ``FULFILMENT_LIST`` fulfilments of ``FULFILMENT_FIRST_LINES`` line
items each (that keeps three orders a page under Shopify's 1,000-point query cost); an order
with more is read again through ``ORDER_FULFILMENTS``, and one beyond what that re-read
holds parks instead of posting part of its shipments.  Everything goes through the emulator:
its resolvers page ``fulfillmentLineItems`` and cut ``fulfillments(first:)`` like Shopify.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from graphql import parse

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.errors import ValidationFailed
from ledgerbridge_shopify import queries
from ledgerbridge_shopify.emulator import create_app
from ledgerbridge_shopify.emulator.cost import MAX_SINGLE_QUERY_COST, CostCalculator
from ledgerbridge_shopify.emulator.schema import load_schema
from ledgerbridge_shopify.emulator.seed import fulfillment

from .helpers import ScaledClock, make_source

MANY_LINES = 97  # seed index of an order of 30 line items (n % 97 == 0)
ORDER_ID = str(5_000_000_000 + MANY_LINES)
WHEN = datetime(2025, 6, 1, tzinfo=UTC)


def _ship(app: Any, groups: list[list[int]]) -> list[dict[str, Any]]:
    """Give the 30-line order one SUCCESS fulfilment per group of its line indexes."""
    seeded = app.shop.orders.get(int(ORDER_ID))
    lines = seeded["lineItems"]
    shipped = [
        fulfillment(9_000 + i, i + 1, WHEN + timedelta(hours=i), [lines[k] for k in group])
        for i, group in enumerate(groups)
    ]
    app.shop.touch_order(MANY_LINES, fulfillments=shipped)
    return shipped


def _expected(shipped: list[dict[str, Any]]) -> list[tuple[str, dict[str, Decimal]]]:
    return [
        (
            f["legacyResourceId"],
            {
                item["lineItem"]["id"].rsplit("/", 1)[1]: Decimal(item["quantity"])
                for item in f["fulfillmentLineItems"]
            },
        )
        for f in shipped
    ]


def _read(order: Order) -> list[tuple[str, dict[str, Decimal]]]:
    return [(f.external_id, {x.line_id: x.quantity for x in f.lines}) for f in order.fulfilments]


def _fetch_and_list(groups: list[list[int]]) -> tuple[list[dict[str, Any]], Order, Any]:
    """The order read by id and through the incremental list (the path ``make bench`` reads)."""
    clock = ScaledClock(5000)
    app = create_app(orders=MANY_LINES + 1, clock=clock.now)
    shipped = _ship(app, groups)
    source = make_source(app=app, clock=clock)

    async def both() -> tuple[Order, Any]:
        fetched = await source.fetch(EntityType.ORDER, ORDER_ID)
        listed = None
        async for page in source.changes(EntityType.ORDER, None):
            listed = next((c for c in page.changes if c.external_id == ORDER_ID), listed)
        await source.aclose()
        return fetched, listed  # type: ignore[return-value]

    fetched, listed = asyncio.run(both())
    assert isinstance(fetched, Order)
    return shipped, fetched, listed


def test_a_fulfilment_with_more_lines_than_the_first_read_asks_for_is_read_in_full() -> None:
    # one shipment (the list is not full): only its lines' hasNextPage says there is more
    lines = queries.FULFILMENT_FIRST_LINES + 2
    assert lines <= queries.FULFILMENT_LINE_PAGE
    shipped, fetched, listed = _fetch_and_list([list(range(lines))])
    assert len(_read(fetched)[0][1]) == lines
    assert _read(fetched) == _expected(shipped)
    assert listed.error is None and _read(listed.record) == _expected(shipped)


def test_more_fulfilments_than_the_first_read_asks_for_are_read_in_full() -> None:
    count = queries.FULFILMENT_LIST + 1
    shipped, fetched, listed = _fetch_and_list([[k] for k in range(count)])
    assert len(fetched.fulfilments) == count
    assert _read(fetched) == _expected(shipped)
    assert listed.error is None and _read(listed.record) == _expected(shipped)


def test_the_re_read_holds_its_documented_limits_and_an_order_beyond_them_parks() -> None:
    # docs/engine.md: at most 30 fulfilments of 10 line items each; more parks the order
    at_max = [[k] for k in range(queries.FULFILMENT_MAX)]
    shipped, fetched, _ = _fetch_and_list(at_max)
    assert queries.FULFILMENT_MAX == 30 and _read(fetched) == _expected(shipped)
    assert queries.FULFILMENT_LINE_PAGE == 10
    shipped, fetched, _ = _fetch_and_list([list(range(10))])
    assert _read(fetched) == _expected(shipped)

    for groups, reason in (
        ([[k % 30] for k in range(queries.FULFILMENT_MAX + 1)], "more than 30 fulfilments"),
        ([list(range(queries.FULFILMENT_LINE_PAGE + 1))], "more line items than one page"),
    ):
        clock = ScaledClock(5000)
        app = create_app(orders=MANY_LINES + 1, clock=clock.now)
        _ship(app, groups)
        source = make_source(app=app, clock=clock)
        with pytest.raises(ValidationFailed, match=reason):
            asyncio.run(source.fetch(EntityType.ORDER, ORDER_ID))
        asyncio.run(source.aclose())


def test_three_orders_fit_one_list_page() -> None:
    """The page size is chosen from the requested cost of one order (90 % of 1,000 points);
    at more than 300 points an order, the incremental read takes two orders a page instead of
    three -- a third more requests for the same orders (docs/performance.md, #18)."""
    calculator = CostCalculator(load_schema())
    document = parse(queries.ENTITIES[EntityType.ORDER].list_query)
    per_order = calculator.requested(document, {"first": 1})
    assert per_order * 3 <= 0.9 * MAX_SINGLE_QUERY_COST, per_order
    refetch = calculator.requested(parse(queries.ORDER_FULFILMENTS), {})
    assert refetch <= MAX_SINGLE_QUERY_COST, refetch
