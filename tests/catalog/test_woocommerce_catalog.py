"""Zoho Books <-> WooCommerce catalog through both emulators: the batch write paths."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from ledgerbridge_woocommerce.emulator.app import DEFAULT_KEY, DEFAULT_SECRET
from ledgerbridge_woocommerce.emulator.app import create_app as woo_app
from ledgerbridge_woocommerce.emulator.data import seed

from .harness import CatalogWorld, add_items, catalog_world

WOO = (
    '{platform: woocommerce, settings: {store_url: "<URL>", allow_http: true, currency: USD}, '
    f'secrets: {{consumer_key: "{DEFAULT_KEY}", consumer_secret: "{DEFAULT_SECRET}"}}}}'
)
SKUS = {"WOO-ALB-2": 87, "PQ-40": 40, "NINJA-53": 53, "NINJA-56": 56, "Bar3": 23, "Bar4": 24}


def _woo(world: CatalogWorld) -> dict[str, dict[str, Any]]:
    store = world.shop.emulator.store
    rows = {p["sku"]: p for p in store.products.values() if p["sku"]}
    rows.update({v["sku"]: {**v, "name": store.products[22]["name"]} for v in store.variations[22]})
    return rows


def _writes(world: CatalogWorld) -> list[str]:
    return [r for r in world.shop.emulator.config.requests if r.startswith("POST")]


@pytest.fixture
def world(tmp_path: Path, secret_key: str) -> Any:
    with catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO) as w:
        add_items(w, [(f"Books {s}", s, Decimal("5.00") + i, 3 + i) for i, s in enumerate(SKUS)])
        yield w


def test_prices_and_stock_reach_products_and_variations_in_two_batches(
    world: CatalogWorld,
) -> None:
    report = world.run()
    assert report.bound == 6 and report.failed == 0
    assert report.parked == 1  # product 93 has no SKU: parked, named, never guessed
    woo = _woo(world)
    for i, sku in enumerate(SKUS):
        assert Decimal(woo[sku]["regular_price"]) == Decimal("5.00") + i
        assert woo[sku]["manage_stock"] is True and woo[sku]["stock_quantity"] == 3 + i
        assert world.item_by_sku(sku)["name"] == woo[sku]["name"]  # the shop owns names
    posts = _writes(world)
    assert len(posts) == 2  # one products/batch, one variations/batch for product 22
    assert any("/products/22/variations/batch" in p for p in posts)
    again = world.run()
    assert again.written == 0 and len(_writes(world)) == 2


def test_a_price_edited_in_books_reaches_a_variation(world: CatalogWorld) -> None:
    world.run()
    world.edit_item("Bar4", rate=Decimal("18.25"))
    report = world.run()
    assert report.written == 1
    assert _woo(world)["Bar4"]["regular_price"] == "18.25"


def test_the_emulator_refuses_a_batch_of_more_than_100_objects() -> None:
    anyio.run(_batch_rules)


async def _batch_rules() -> None:
    app = woo_app(store=seed(orders=0))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="https://woo",
        auth=(DEFAULT_KEY, DEFAULT_SECRET),
    ) as c:
        body = {"update": [{"id": 40, "regular_price": "1.00"}] * 101}
        answer = await c.post("/wp-json/wc/v3/products/batch", json=body)
        assert answer.status_code == 413
        assert answer.json()["code"] == "rest_request_entity_too_large"
        one_bad = {
            "update": [
                {"id": 40, "regular_price": 2},
                {"id": 9999},
                {"id": 53, "regular_price": "4.00"},
            ]
        }
        rows = (await c.post("/wp-json/wc/v3/products/batch", json=one_bad)).json()["update"]
        assert rows[0]["error"]["code"] == "rest_invalid_param"
        assert rows[1]["error"]["code"] == "woocommerce_rest_product_invalid_id"
        assert rows[2]["regular_price"] == "4.00"
