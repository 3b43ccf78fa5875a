"""Shopify source at volume, against the emulator over real HTTP (emulator in its own process).

* Incremental read of 5,000 orders: requests, throttled responses, failed calls and
  cost, with Shopify's classic bucket (1,000 points, 50 points/s) on a clock running
  100x faster than the wall clock for both sides.
* Bulk backfill of 2,000 and 20,000 orders: peak Python memory of the reading side
  (tracemalloc; the emulator runs in another process), to show it does not grow with
  the number of orders.

Run: ``python bench/run.py shopify`` (takes a few minutes).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import time
import tracemalloc
from typing import Any

import httpx
from figures import Figure
from pydantic import SecretStr

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import ConnectorContext
from ledgerbridge_shopify.emulator import DEFAULT_TOKEN

FACTOR = 100.0  # incremental: slow enough that the 50 points/s bucket, not the wire, is the limit
BULK_FACTOR = 1000.0
TOKEN = DEFAULT_TOKEN


class ScaledClock:
    """Monotonic time ``factor`` x faster; same origin in both processes, so both see one clock."""

    def __init__(self, factor: float, origin: float) -> None:
        self.factor, self.origin = factor, origin

    def now(self) -> float:
        return (time.monotonic() - self.origin) * self.factor

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.factor)


def _serve(port: int, origin: float, factor: float, options: dict[str, Any]) -> None:
    import uvicorn

    from ledgerbridge_shopify.emulator import create_app

    app = create_app(clock=ScaledClock(factor, origin).now, **options)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class Emulator:
    def __init__(self, origin: float, factor: float, **options: Any) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        ctx = multiprocessing.get_context("spawn")
        self.process = ctx.Process(
            target=_serve, args=(self.port, origin, factor, options), daemon=True
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Emulator:
        self.process.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("emulator did not start")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(10)


def _source(url: str, clock: ScaledClock) -> Any:
    from ledgerbridge_shopify.plugin import ShopifySecrets, ShopifySettings
    from ledgerbridge_shopify.source import ShopifySource

    context = ConnectorContext(
        connection_id="bench",
        tenant_id="bench",
        settings=ShopifySettings(shop="bench", base_url=url, bulk_poll_seconds=1.0),
        secrets=ShopifySecrets(access_token=SecretStr(TOKEN)),
        clock=clock,
    )
    return ShopifySource(context)


async def _incremental(url: str, clock: ScaledClock) -> dict[str, float]:
    source = _source(url, clock)
    started = time.perf_counter()
    orders = errors = 0
    async for page in source.changes(EntityType.ORDER, None):
        orders += len(page.changes)
        errors += sum(1 for c in page.changes if c.error is not None)
    wall = time.perf_counter() - started
    stats = source.client.stats
    await source.aclose()
    return {
        "orders": orders,
        "record_errors": errors,
        "requests": stats["requests"],
        "throttled": stats["throttled"],
        "failed": stats["failed"],
        "cost": stats["cost"],
        "paced_seconds": source.client.paced_seconds,
        "wall": wall,
    }


async def _backfill(url: str, clock: ScaledClock) -> dict[str, float]:
    source = _source(url, clock)
    await source.fetch(EntityType.ORDER, "5000000001")  # warm up: imports, model schemas
    tracemalloc.start()
    started = time.perf_counter()
    orders = errors = 0
    async for page in source.backfill(EntityType.ORDER):
        orders += len(page.changes)
        errors += sum(1 for c in page.changes if c.error is not None)
    wall = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await source.aclose()
    return {"orders": orders, "record_errors": errors, "peak_mb": peak / 2**20, "wall": wall}


def run() -> list[Figure]:
    origin = time.monotonic()
    clock = ScaledClock(FACTOR, origin)
    figures: list[Figure] = []
    with Emulator(origin, FACTOR, orders=5000, bucket_size=1000.0, restore_rate=50.0) as emu:
        inc = asyncio.run(_incremental(emu.url, clock))
    figures += [
        Figure("shopify", "incremental: orders read", inc["orders"], "orders", "5,000"),
        Figure("shopify", "incremental: records parked", inc["record_errors"], "orders", "0"),
        Figure("shopify", "incremental: API requests", inc["requests"], "requests"),
        Figure("shopify", "incremental: throttled responses", inc["throttled"], "responses", "0"),
        Figure("shopify", "incremental: failed calls", inc["failed"], "calls", "0"),
        Figure("shopify", "incremental: actual query cost", inc["cost"], "points"),
        Figure(
            "shopify",
            "incremental: time spent pacing (simulated, 50 pts/s)",
            inc["paced_seconds"],
            "s",
        ),
        Figure("shopify", "incremental: wall time (clock x100)", inc["wall"], "s"),
    ]
    results = {}
    for count in (2000, 20000):
        bulk_clock = ScaledClock(BULK_FACTOR, origin)
        with Emulator(origin, BULK_FACTOR, orders=count, restore_rate=1000.0) as emu:
            results[count] = asyncio.run(_backfill(emu.url, bulk_clock))
        figures += [
            Figure(
                "shopify", f"bulk {count:,}: orders streamed", results[count]["orders"], "orders"
            ),
            Figure(
                "shopify",
                f"bulk {count:,}: records parked",
                results[count]["record_errors"],
                "orders",
                "0",
            ),
            Figure(
                "shopify", f"bulk {count:,}: peak memory (reader)", results[count]["peak_mb"], "MiB"
            ),
            Figure("shopify", f"bulk {count:,}: wall time", results[count]["wall"], "s"),
        ]
    figures.append(
        Figure(
            "shopify",
            "bulk: peak memory 20k / 2k",
            results[20000]["peak_mb"] / results[2000]["peak_mb"],
            "ratio",
            "~1 (flat)",
        )
    )
    return figures
