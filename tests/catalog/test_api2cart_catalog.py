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


@pytest.mark.parametrize("quantity", ["abc", "", "NaN", "Infinity", True, {}])
def test_stock_that_is_no_number_parks_the_product_naming_the_field(quantity: Any) -> None:
    """Was parked as ``InvalidOperation: [<class 'decimal.ConversionSyntax'>]``, naming nothing."""
    from ledgerbridge.catalog_kit import PageOfProducts
    from ledgerbridge_api2cart.catalog_sync import map_catalog_product

    page = PageOfProducts("API2Cart product", "api2cart")
    child = {"id": 6, "parent_id": 5, "default_price": "2.50", "quantity": quantity}
    with page.mapping(5):
        page.add(map_catalog_product({"id": 5, "price": "1"}, [child], "s", "USD"))
    (refused,) = page.unreadable.values()
    assert (
        refused.message
        == f"API2Cart product 5: variant 6: quantity is {quantity!r}, not a stock count"
    )
    assert refused.details == {"field": "variant 6: quantity"}


@pytest.mark.parametrize(
    ("quantity", "units"), [("12.0", 12), (Decimal("1.5"), 1), (-3, -3), (None, None)]
)
def test_stock_that_is_a_number_reads_as_before(quantity: Any, units: int | None) -> None:
    from ledgerbridge_api2cart.catalog_sync import map_catalog_product

    product = map_catalog_product({"id": 5, "price": "1", "quantity": quantity}, [], "s", "USD")
    assert [level.available for level in product.variants[0].inventory] == (
        [units] if units is not None else []
    )
