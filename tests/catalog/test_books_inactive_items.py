"""Books owning a product's status: an item the merchant makes inactive in Books is read
(the catalog's item list asks for inactive items too, ``filter_by=Status.All``) and the
storefront product follows; made active again, it follows back."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from ledgerbridge_woocommerce.emulator.app import create_app as woo_app
from ledgerbridge_woocommerce.emulator.data import seed

from .harness import CatalogWorld, add_items, catalog_world
from .test_woocommerce_catalog import WOO

BOOKS_OWN_STATUS = (
    "{name: shop, description: shop, price: books, tax: books, stock: books, status: books}"
)


def _woo_status(world: CatalogWorld, sku: str) -> Any:
    store = world.shop.emulator.store
    return next(p for p in store.products.values() if p["sku"] == sku)["status"]


def test_an_item_made_inactive_in_books_takes_the_shop_product_out_of_sale(
    tmp_path: Path, secret_key: str
) -> None:
    shop = woo_app(store=seed(orders=0))
    with catalog_world(tmp_path, shop, WOO, ownership=BOOKS_OWN_STATUS) as world:
        add_items(world, [("Ninja", "NINJA-53", Decimal("30.00"), 4)])
        assert world.run().failed == 0
        assert _woo_status(world, "NINJA-53") == "publish"
        world.edit_item("NINJA-53", status="inactive")
        assert world.run().written == 1
        assert _woo_status(world, "NINJA-53") != "publish"  # out of sale in the shop
        world.edit_item("NINJA-53", status="active")
        assert world.run().written == 1
        assert _woo_status(world, "NINJA-53") == "publish"
        assert world.run().written == 0
