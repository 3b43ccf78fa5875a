"""API2Cart source cost: mapping throughput and a full incremental walk against the emulator.

Targets: the connector must not be the bottleneck of the engine's >= 2,000 orders/s budget
for mapping, and a walk of 2,000 orders (8 pages of 250) in-process must stay well under the
time real API2Cart would take to answer the same 8 requests.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from decimal import Decimal

import anyio
import httpx
from figures import Figure
from pydantic import SecretStr

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import ConnectorContext
from ledgerbridge_api2cart.emulator import create_app, create_state
from ledgerbridge_api2cart.emulator.app import envelope, render
from ledgerbridge_api2cart.mapper import StoreScope, map_order
from ledgerbridge_api2cart.settings import Api2CartSecrets, Api2CartSettings
from ledgerbridge_api2cart.source import Api2CartSource
from ledgerbridge_api2cart.statuses import StatusBook

STORES = {"bench-store": ("Shopify", "USD")}


def _mapping(count: int) -> Figure:
    state = create_state(api_key="bench", stores=STORES, orders=count)
    store = state.stores["bench-store"]
    raws = [
        json.loads(render(envelope(o, precision=4)).body, parse_float=Decimal)["result"]
        for o in store.orders.values()
    ]
    scope = StoreScope("bench", "Shopify", StatusBook.from_list(store.statuses, {}))
    start = time.perf_counter()
    for raw in raws:
        map_order(raw, scope)
    elapsed = time.perf_counter() - start
    return Figure(
        "api2cart",
        "orders mapped + reconciled (1-3 lines)",
        count / elapsed,
        "orders/s",
        ">= 2000 orders/s",
    )


async def _walk(count: int, trace: bool) -> tuple[int, float, float]:
    state = create_state(api_key="bench", stores=STORES, orders=count)
    context = ConnectorContext(
        connection_id="bench",
        tenant_id="bench",
        settings=Api2CartSettings(base_url="http://bench/v1.1", cart="Shopify"),
        secrets=Api2CartSecrets(api_key=SecretStr("bench"), store_key=SecretStr("bench-store")),
        transport=httpx.ASGITransport(create_app(state)),
    )
    source = Api2CartSource(context)
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
    return seen, elapsed, peak / 1_000_000


def run() -> list[Figure]:
    seen, elapsed, _ = anyio.run(_walk, 2000, False)
    _, _, peak = anyio.run(_walk, 2000, True)
    return [
        _mapping(2000),
        Figure(
            "api2cart", "incremental walk incl. emulator (250/page)", seen / elapsed, "orders/s"
        ),
        Figure(
            "api2cart", "peak memory of a 2,000-order walk incl. emulator", peak, "MB", "< 100 MB"
        ),
    ]


if __name__ == "__main__":
    for figure in run():
        print(figure)
