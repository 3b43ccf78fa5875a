"""A catalog conflict in the console: listed with both values, resolved through the engine
(the kept price checked in the WooCommerce emulator)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import anyio

import ledgerbridge.console
from demo.catalog import edit_prices, stock_books
from ledgerbridge.catalog.runner import run_catalog
from ledgerbridge.config import load_config
from ledgerbridge.engine import Engine
from ledgerbridge.store import console_queries as q
from ledgerbridge_woocommerce.emulator.data import dates

from .conftest import Client, World


def _sync(world: World) -> None:
    loaded = load_config(world.config_path)

    async def main() -> None:
        async with Engine(loaded, world.store) as engine:
            [entry] = [e for e in loaded.catalogs if e.pipeline.id == "west-catalog"]
            await run_catalog(engine, entry)

    anyio.run(main)


def test_a_catalog_conflict_is_listed_with_both_values_and_resolved(world: World) -> None:
    stock_books(world.demo)
    _sync(world)
    sku = edit_prices(world.demo)["west"]  # Books: 42.50
    woo = world.demo.woo.emulator
    woo.clock_offset += timedelta(seconds=2)
    row = next(p for rows in woo.store.variations.values() for p in rows if p["sku"] == sku)
    row.update(regular_price="44.00", **dates("date_modified", woo.now()))
    parent = next(p for p in woo.store.products.values() if row["id"] in p["variations"])
    parent.update(dates("date_modified", woo.now()))  # the admin saves the product
    _sync(world)
    [conflict] = q.open_conflicts(world.store, ["west-catalog"])
    assert conflict.id is not None

    async def main() -> tuple[str, str, str]:
        client = Client(ledgerbridge.console.app(world.config_path, world.store), "/ops")
        try:
            await client.login("olga")
            listed = (await client.get("/conflicts")).text
            page = (await client.get(f"/conflicts/{conflict.id}")).text
            csrf = await client.csrf()
            done = await client.post(
                f"/conflicts/{conflict.id}/resolve", {"csrf": csrf, "keep": "source"}
            )
            assert done.status_code == 303
            return listed, page, (await client.get(f"/conflicts/{conflict.id}")).text
        finally:
            await client.aclose()

    listed, page, after = anyio.run(main)
    assert f'href="/ops/conflicts/{conflict.id}"' in listed
    assert "42.5" in page and "44" in page and sku in page  # both values, side by side
    assert Decimal(row["regular_price"]) == Decimal("42.50")  # Books' price, as kept
    assert "resolved" in after


def test_the_overview_lists_catalog_pipelines_with_their_open_conflicts(world: World) -> None:
    stock_books(world.demo)
    _sync(world)
    sku = edit_prices(world.demo)["west"]  # Books: 42.50, and the shop's price edited too
    woo = world.demo.woo.emulator
    woo.clock_offset += timedelta(seconds=2)
    row = next(p for rows in woo.store.variations.values() for p in rows if p["sku"] == sku)
    row.update(regular_price="44.00", **dates("date_modified", woo.now()))
    parent = next(p for p in woo.store.products.values() if row["id"] in p["variations"])
    parent.update(dates("date_modified", woo.now()))
    _sync(world)

    async def main() -> str:
        client = Client(ledgerbridge.console.app(world.config_path, world.store), "/ops")
        try:
            await client.login("olga")
            return (await client.get("/")).text
        finally:
            await client.aclose()

    page = anyio.run(main)
    assert "Catalog pipelines" in page
    table = page.split('<table id="catalogs">', 1)[1].split("</table>", 1)[0]
    west = table.split("<td>west-catalog</td>", 1)[1].split("</tr>", 1)[0]
    assert 'class="open-conflicts"><a href="/ops/conflicts">1</a>' in west
    assert "never" not in west  # it ran
