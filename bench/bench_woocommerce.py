"""WooCommerce source cost: mapping throughput, and a full keyset walk against the emulator.

Targets: mapping must not be the bottleneck of the engine's >= 2,000 orders/s budget; a walk
of 2,000 orders (about 20 pages of 100, plus the refunds of refunded orders) in-process
measures the connector's own overhead per order, and its peak memory stays bounded by a page.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from decimal import Decimal

import anyio
import httpx
from figures import Figure

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import ConnectorContext
from ledgerbridge_woocommerce.emulator import DEFAULT_KEY, DEFAULT_SECRET, create_app, seed
from ledgerbridge_woocommerce.mapper import map_order
from ledgerbridge_woocommerce.settings import WooCommerceSecrets, WooCommerceSettings
from ledgerbridge_woocommerce.source import WooCommerceSource


def _mapping(count: int) -> Figure:
    store = seed(orders=count)
    raws = [
        (json.loads(json.dumps(o, default=str), parse_float=Decimal), store.refunds.get(oid, []))
        for oid, o in store.orders.items()
    ]
    start = time.perf_counter()
    for raw, refunds in raws:
        map_order(raw, "bench", refunds)
    elapsed = time.perf_counter() - start
    return Figure(
        "woocommerce",
        "orders mapped + reconciled (1-2 lines, refunds)",
        count / elapsed,
        "orders/s",
        ">= 2000 orders/s",
    )


async def _walk(count: int, trace: bool) -> tuple[int, int, float, float]:
    app = create_app(seed(orders=count))
    context = ConnectorContext(
        connection_id="bench",
        tenant_id="bench",
        settings=WooCommerceSettings(store_url="https://bench.test"),
        secrets=WooCommerceSecrets(consumer_key=DEFAULT_KEY, consumer_secret=DEFAULT_SECRET),
        transport=httpx.ASGITransport(app),
    )
    source = WooCommerceSource(context)
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    seen = 0
    async for page in source.changes(EntityType.ORDER, None):
        seen += len(page.changes)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    await source.aclose()
    return seen, len(app.emulator.config.requests), elapsed, peak / 1_000_000


def run() -> list[Figure]:
    seen, requests, elapsed, _ = anyio.run(_walk, 2000, False)
    _, _, _, peak = anyio.run(_walk, 2000, True)
    return [
        _mapping(2000),
        Figure(
            "woocommerce",
            f"full order walk in-process ({seen} orders, {requests} requests)",
            seen / elapsed,
            "orders/s",
            "connector overhead only (emulator included)",
        ),
        Figure("woocommerce", "peak memory of the walk", peak, "MB", "bounded by one page"),
    ]
