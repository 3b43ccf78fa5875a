"""Zoho Books <-> Shopify catalog, end to end through both emulators (docs/catalog.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from ledgerbridge_shopify.emulator.app import DEFAULT_TOKEN
from ledgerbridge_shopify.emulator.app import create_app as shopify_app
from ledgerbridge_shopify.emulator.seed import PRODUCT_BASE
from tests.engine.harness import InstantClock

from .harness import CatalogWorld, add_items, catalog_world

SHOP = (
    '{platform: shopify, settings: {shop: emulated, base_url: "<URL>"}, '
    f'secrets: {{access_token: "{DEFAULT_TOKEN}"}}}}'
)
PRODUCTS = 6


def _shop_variants(world: CatalogWorld) -> dict[str, dict[str, Any]]:
    found = {}
    for n in range(PRODUCTS):
        product = world.shop.shop.products.get(PRODUCT_BASE + n)
        for v in product["variants"]:
            found[v["sku"]] = {**v, "product": product}
    return found


@pytest.fixture
def world(tmp_path: Path, secret_key: str) -> Any:
    clock = InstantClock()  # the shop's cost bucket runs on the time the client waits on
    app = shopify_app(orders=0, products=PRODUCTS, clock=clock.now)
    with catalog_world(tmp_path, app, SHOP, clock=clock) as w:
        skus = sorted(_shop_variants(w))
        add_items(w, [(f"Books name {s}", s, Decimal("10.00") + i, 7) for i, s in enumerate(skus)])
        yield w


def test_first_run_gives_each_side_the_fields_it_does_not_own(world: CatalogWorld) -> None:
    report = world.run()
    assert report.failed == 0 and report.conflicts == 0 and report.parked == 0
    variants = _shop_variants(world)
    assert report.bound == len(variants)
    for sku, v in variants.items():
        item = world.item_by_sku(sku)
        assert Decimal(v["price"]) == item["rate"]  # price: Books owns it
        assert v["inventoryQuantity"] == 7  # stock: Books owns it
        assert item["name"] == v["product"]["title"]  # name: the shop owns it
        expected = "active" if v["product"]["status"] == "ACTIVE" else "inactive"
        assert item["status"] == expected  # status: the shop owns it
    again = world.run()
    assert again.written == 0 and again.diff == [] and again.conflicts == 0


def test_a_price_edited_in_books_reaches_the_shop_and_writes_once(world: CatalogWorld) -> None:
    world.run()
    world.run()  # our own writes read back: nothing to do
    sku = sorted(_shop_variants(world))[0]
    world.edit_item(sku, rate=Decimal("99.95"))
    report = world.run()
    assert report.written == 1
    assert _shop_variants(world)[sku]["price"] == "99.95"
    assert world.run().written == 0


def test_the_same_price_edited_on_both_sides_is_one_conflict_with_both_values(
    world: CatalogWorld,
) -> None:
    world.run()
    sku = sorted(_shop_variants(world))[1]
    world.edit_item(sku, rate=Decimal("25.00"))
    v = _shop_variants(world)[sku]
    product = {**v["product"], "variants": [dict(x) for x in v["product"]["variants"]]}
    for x in product["variants"]:
        if x["sku"] == sku:
            x["price"] = "27.00"
    from ledgerbridge_shopify.emulator.catalog import _touch

    _touch(world.shop.shop, int(product["legacyResourceId"]), product)
    report = world.run()
    assert report.conflicts == 1 and report.written == 0
    engine = world.engine()
    [conflict] = engine.conflicts()
    assert "25" in conflict.fields[0] and "27" in conflict.fields[0]
    assert conflict.source_snapshot["value"] == "25" and conflict.target_snapshot["value"] == "27"
    assert _shop_variants(world)[sku]["price"] == "27.00"  # nothing written over either
    assert world.run().conflicts == 0  # one conflict, not one per run

    async def resolve() -> None:
        async with engine:
            await engine.resolve_conflict(conflict.id or 0, "source")

    anyio.run(resolve)
    assert _shop_variants(world)[sku]["price"] == "25.00"
    assert world.engine().conflicts() == []


def test_dry_run_lists_the_field_changes_and_writes_nothing(world: CatalogWorld) -> None:
    before = {s: dict(v) for s, v in _shop_variants(world).items()}
    report = world.run(dry_run=True)
    assert any(d.field == "price" and d.side == "shop" for d in report.diff)
    assert {s: v["price"] for s, v in _shop_variants(world).items()} == {
        s: v["price"] for s, v in before.items()
    }
    real = world.run()
    assert real.bound == len(before)  # the dry run bound nothing
