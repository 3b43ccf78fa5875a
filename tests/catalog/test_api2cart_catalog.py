"""Zoho Books <-> API2Cart catalog through both emulators: product.update and
product.variant.update."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge_api2cart.emulator.app import DEFAULT_API_KEY, create_app, create_state

from .harness import CatalogWorld, add_items, catalog_world

STORE = "sandbox-store-shopify"
A2C = (
    '{platform: api2cart, settings: {base_url: "<URL>/v1.1", cart: Shopify, currency: USD}, '
    f'secrets: {{api_key: "{DEFAULT_API_KEY}", store_key: "{STORE}"}}}}'
)


def _store(world: CatalogWorld) -> Any:
    return world.shop.emulator.state.stores[STORE]


def _units(world: CatalogWorld) -> dict[str, dict[str, Any]]:
    """Every sellable unit by SKU: children, and products without children."""
    store = _store(world)
    parents = {c["parent_id"] for c in store.children.values()}
    units = {c["sku"]: c for c in store.children.values()}
    units.update({p["u_sku"]: p for p in store.products.values() if p["id"] not in parents})
    return units


@pytest.fixture
def world(tmp_path: Path, secret_key: str) -> Any:
    app = create_app(create_state(orders=0))
    with catalog_world(tmp_path, app, A2C) as w:
        skus = sorted(_units(w))
        add_items(w, [(f"Books {s}", s, Decimal("4.10") + i, 2 + i) for i, s in enumerate(skus)])
        yield w


def test_prices_and_stock_reach_products_and_children_and_settle(world: CatalogWorld) -> None:
    report = world.run()
    units = _units(world)
    assert report.failed == 0 and report.bound == len(units) and report.parked == 0
    for i, sku in enumerate(sorted(units)):
        price = units[sku].get("default_price", units[sku].get("price"))
        assert Decimal(str(price)) == Decimal("4.10") + i
        assert units[sku]["quantity"] == 2 + i
    updates = [
        m
        for m, _ in world.shop.emulator.state.requests
        if m in ("product.update", "product.variant.update")
    ]
    assert len(updates) == len(units)  # one call per unit, nothing more
    again = world.run()
    assert again.written == 0


def test_a_price_edited_in_books_reaches_a_child(world: CatalogWorld) -> None:
    world.run()
    sku = next(s for s, u in _units(world).items() if "parent_id" in u)
    world.edit_item(sku, rate=Decimal("77.70"))
    assert world.run().written == 1
    assert Decimal(str(_units(world)[sku]["default_price"])) == Decimal("77.70")
