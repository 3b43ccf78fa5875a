"""Catalog pipelines: calls per changed variant through the bulk write paths.

10,000 variants on each side, bound and equal after a first run; then 5% of the prices are
edited in Zoho Books (one edit a second, as people make them) and the pipeline runs again.
Figures, per storefront: write calls to the storefront per changed variant, Zoho Books read
pages per 200 changed items; a run with nothing changed (right after the first); and the
run after the changes, which reads back the pipeline's own writes (the storefront reports
them as changes) and writes nothing.
Targets (docs/catalog.md): WooCommerce <= 0.02 calls per changed variant (batched),
Shopify <= 0.05 (bulk), Zoho reads <= 1 page per 200 items changed; a quiet run makes no
writes and reads at most one page per side.

Everything runs in-process: the real connectors and engine, a SQLite store, the emulators
behind ASGI transports; time waited on limits passes at once (and is not counted).
"""

from __future__ import annotations

import random
import tempfile
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
from figures import Figure

VARIANTS = 10_000
CHANGED = VARIANTS * 5 // 100
OWNERSHIP = "{price: books, stock: books, tax: books, name: shop, status: shop}"


class _Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        import time

        return time.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:
        self.offset += max(0.0, seconds)
        await anyio.sleep(0)


class _Counting(httpx.AsyncBaseTransport):
    """Counts requests by method and path (the bench's figures)."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.seen: list[tuple[str, str, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        head = request.content[:40] if request.method != "GET" else b""
        self.seen.append((request.method, request.url.path, head))
        return await self.inner.handle_async_request(request)

    def count(self, test: Callable[[str, str, bytes], bool]) -> int:
        return sum(1 for m, p, h in self.seen if test(m, p, h))


def _zoho(items: list[tuple[str, str, Decimal, int, bool, bool]], clock: _Clock) -> Any:
    from ledgerbridge_zohobooks.emulator import create_app
    from ledgerbridge_zohobooks.emulator.app import EmulatorLimits
    from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG

    app = create_app(
        limits=EmulatorLimits(per_minute=1_000_000, default_daily=10**9, daily={"standard": 10**9})
    )
    app.emulator.clock = clock.now
    org = app.emulator.state.organizations[MAIN_ORG]
    org.items.clear()
    old = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S%z")
    for name, sku, rate, stock, taxable, active in items:
        iid = app.emulator.state.ids.next()
        org.items[iid] = {
            "item_id": iid,
            "name": name,
            "sku": sku,
            "rate": rate,
            "item_type": "inventory",
            "stock_on_hand": Decimal(stock),
            "is_taxable": taxable,
            "tax_id": "",
            "status": "active" if active else "inactive",
            "description": "",
            "last_modified_time": old,
        }
    return app


def _edit(zoho: Any, count: int) -> list[str]:
    """``count`` prices edited, one a second, ending a minute ago."""
    from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG

    org = zoho.emulator.state.organizations[MAIN_ORG]
    chosen = random.Random(5).sample(sorted(org.items), count)
    start = datetime.now(UTC) - timedelta(seconds=count + 60)
    for i, iid in enumerate(chosen):
        item = org.items[iid]
        item["rate"] = item["rate"] + Decimal("1.25")
        item["last_modified_time"] = (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S%z")
    return chosen


def _config(root: Path, shop: str, refresh: str) -> Path:
    from ledgerbridge_zohobooks.emulator.seed import (
        EMULATOR_CLIENT_ID,
        EMULATOR_CLIENT_SECRET,
        MAIN_ORG,
    )

    path = root / "ledgerbridge.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        version: 1
        database: sqlite:///{root / "state.db"}
        tenants:
          - id: bench
            connections:
              shop: {shop}
              books:
                platform: zohobooks
                settings: {{organization_id: "{MAIN_ORG}", api_url: "http://books.test",
                            accounts_url: "http://books.test", requests_per_minute: 100,
                            burst: 100, daily_quota: 1000000000}}
                secrets: {{client_id: "{EMULATOR_CLIENT_ID}",
                           client_secret: "{EMULATOR_CLIENT_SECRET}", refresh_token: "{refresh}"}}
            pipelines:
              - id: cat
                kind: catalog
                connections: [books, shop]
                ownership: {OWNERSHIP}
        """)
    )
    path.chmod(0o600)
    return path


async def _run(config: Path, transports: dict[str, Any], clock: _Clock) -> Any:
    from ledgerbridge.catalog.runner import run_catalog
    from ledgerbridge.config import load_config
    from ledgerbridge.engine import Engine
    from ledgerbridge.store import Store

    loaded = load_config(config)
    engine = Engine(loaded, Store(loaded.config.database), transports=transports, clock=clock)
    async with engine:
        return await run_catalog(engine, loaded.catalogs[0])


def _measure(
    label: str,
    zoho: Any,
    shop_app: Any,
    shop_yaml: str,
    is_write: Callable[[str, str, bytes], bool],
    total: int,
) -> list[Figure]:
    changed = total * 5 // 100
    import os

    from cryptography.fernet import Fernet

    from ledgerbridge_zohobooks.emulator.seed import EMULATOR_CLIENT_ID, MERCHANT

    os.environ.setdefault("LEDGERBRIDGE_SECRET_KEY", Fernet.generate_key().decode())
    clock = _Clock()
    books, shop = _Counting(zoho), _Counting(shop_app)
    transports = {"zohobooks": books, label: shop}
    refresh = zoho.emulator.state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT)
    pages = lambda m, p, h: m == "GET" and p.endswith("/items")  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(Path(tmp), shop_yaml, refresh)
        first = anyio.run(_run, config, transports, clock)
        assert first.bound == total, (first.bound, first.parked, first.failed)
        quiet = anyio.run(_run, config, transports, clock)  # nothing changed since
        _edit(zoho, changed)
        books.seen.clear()
        shop.seen.clear()
        second = anyio.run(_run, config, transports, clock)
        writes, reads = shop.count(is_write), books.count(pages)
        assert second.written == changed and second.failed == 0, second
        echo = anyio.run(_run, config, transports, clock)
    name = f"catalog {label}"
    return [
        Figure(
            name,
            f"storefront write calls per changed variant ({changed} of {total})",
            writes / changed,
            "calls",
            "<= 0.02" if label == "woocommerce" else "<= 0.05",
        ),
        Figure(
            name,
            f"Zoho Books item pages read for {changed} changed items",
            reads,
            "pages",
            f"<= {-(-changed // 200)} (1 per 200, rounded up)",
        ),
        Figure(
            name,
            "next run, reading its own writes back: storefront pages",
            echo.pages.get("shop", 0),
            "pages",
            None,
        ),
        Figure(
            name, "next run, reading its own writes back: writes", echo.written, "variants", "0"
        ),
        Figure(name, "run with nothing changed: writes", quiet.written, "variants", "0"),
        Figure(
            name,
            "run with nothing changed: read pages, Zoho Books",
            quiet.pages.get("books", 0),
            "pages",
            "<= 1",
        ),
        Figure(
            name,
            "run with nothing changed: read pages, storefront",
            quiet.pages.get("shop", 0),
            "pages",
            "<= 1",
        ),
    ]


def _woocommerce() -> list[Figure]:
    from ledgerbridge_woocommerce.emulator.app import DEFAULT_KEY, DEFAULT_SECRET, create_app
    from ledgerbridge_woocommerce.emulator.data import StoreData, product

    store = StoreData()
    when = datetime.now(UTC) - timedelta(days=3)
    items = []
    for n in range(VARIANTS):
        pid = 1000 + n
        price = Decimal(500 + n % 9000) / 100
        row = product(pid, f"Product {n}", f"W-{n:05d}", price, when)
        row.update(manage_stock=True, stock_quantity=n % 50)
        store.products[pid] = row
        items.append((row["name"], row["sku"], price, n % 50, True, True))
    app = create_app(store=store)
    yaml = (
        f'{{platform: woocommerce, settings: {{store_url: "https://shop.test", '
        f'currency: USD}}, secrets: {{consumer_key: "{DEFAULT_KEY}", '
        f'consumer_secret: "{DEFAULT_SECRET}"}}}}'
    )
    return _measure(
        "woocommerce",
        _zoho(items, _Clock()),
        app,
        yaml,
        lambda m, p, h: m == "POST" and p.endswith("/batch"),
        len(items),
    )


def _shopify() -> list[Figure]:
    from ledgerbridge_shopify.emulator.app import DEFAULT_TOKEN, create_app
    from ledgerbridge_shopify.emulator.seed import PRODUCT_BASE

    products = VARIANTS // 2  # 1 to 3 variants each: 2 on average
    app = create_app(
        orders=0, customers=0, products=products, bucket_size=1_000_000, restore_rate=1_000_000
    )
    items = []
    for n in range(products):
        p = app.shop.products.get(PRODUCT_BASE + n)
        for v in p["variants"]:
            items.append(
                (
                    p["title"],
                    v["sku"],
                    Decimal(v["price"]),
                    v["inventoryQuantity"],
                    True,
                    p["status"] == "ACTIVE",
                )
            )
    yaml = (
        f'{{platform: shopify, settings: {{shop: emulated, base_url: "http://shop.test"}}'
        f', secrets: {{access_token: "{DEFAULT_TOKEN}"}}}}'
    )
    return _measure(
        "shopify",
        _zoho(items, _Clock()),
        app,
        yaml,
        lambda m, p, h: m == "POST" and b"mutation" in h,
        len(items),
    )


def run() -> list[Figure]:
    return _woocommerce() + _shopify()
