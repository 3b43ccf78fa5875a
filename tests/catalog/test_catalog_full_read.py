"""The periodic full read (catalog/gone.py): a product deleted on a side is noticed and its
binding forgotten, so the same SKU re-created is matched afresh; a storefront edit that did
not move the product's modified time (a WooCommerce variation) is caught; between full reads
a run reads only changes.  Verified in the emulators' state."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.store import RecordState
from ledgerbridge_woocommerce.emulator.app import create_app as woo_app
from ledgerbridge_woocommerce.emulator.data import dates, seed

from .harness import CatalogWorld, add_items, catalog_world
from .test_woocommerce_catalog import SKUS, WOO

EVERY_RUN = "        full_read_every: 0s\n"


def _woo(world: CatalogWorld, sku: str) -> dict[str, Any]:
    store = world.shop.emulator.store
    found = [p for p in store.products.values() if p["sku"] == sku]
    found += [v for vs in store.variations.values() for v in vs if v["sku"] == sku]
    [row] = found
    return row


@pytest.fixture
def world(tmp_path: Path, secret_key: str) -> Any:
    with catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO, extra=EVERY_RUN) as w:
        add_items(w, [(f"Books {s}", s, Decimal("5.00") + i, 3) for i, s in enumerate(SKUS)])
        assert w.run().failed == 0
        yield w


def test_a_deleted_product_is_forgotten_and_its_sku_recreated_is_bound_again(
    world: CatalogWorld,
) -> None:
    store = world.shop.emulator.store
    old = store.products.pop(40)  # PQ-40 deleted in the WooCommerce admin
    report = world.run()
    assert report.gone == 1 and report.failed == 0
    engine = world.engine()
    skipped = engine.failures([RecordState.SKIPPED])
    [record] = [r for r in skipped if r.external_id == "shop:40"]
    assert "gone from shop" in (record.reason or "") and "binding" in (record.reason or "")
    assert any(e.operation == "catalog_gone" for e in engine.audit("shop:40"))
    assert world.run().gone == 0  # noticed once

    # the product is created again (a new id, the same SKU): bound to the Books item afresh,
    # and given Books' price -- not parked as unmatched, not written to the dead id
    new = {**old, "id": 940, "regular_price": "1.00", "price": "1.00"}
    new.update(dates("date_modified", world.shop.emulator.now()))
    store.products[940] = new
    report = world.run()
    assert report.bound == 1 and report.failed == 0
    parked = world.engine().failures([RecordState.NEEDS_MAPPING])
    assert [r.external_id for r in parked] == ["shop:93"]  # the seed's product without a SKU
    assert store.products[940]["regular_price"] == str(world.item_by_sku("PQ-40")["rate"])
    assert world.run().written == 0


def test_an_item_deleted_in_books_is_forgotten_on_the_books_side(world: CatalogWorld) -> None:
    item = world.item_by_sku("NINJA-53")
    price = _woo(world, "NINJA-53")["regular_price"]
    del world.org.items[item["item_id"]]
    report = world.run()
    assert report.gone == 1
    [record] = [
        r
        for r in world.engine().failures([RecordState.SKIPPED])
        if r.external_id == f"books:{item['item_id']}"
    ]
    assert "gone from books" in (record.reason or "")
    assert _woo(world, "NINJA-53")["regular_price"] == price  # left as it was in the shop
    assert world.run().written == 0


def test_a_variation_edit_that_did_not_move_its_product_is_caught_by_the_full_read(
    world: CatalogWorld,
) -> None:
    # WooCommerce does not move the parent's modified time for a variation's edit, so an
    # incremental read never returns it; Books owns prices: the full read puts it back
    _woo(world, "Bar4")["regular_price"] = "99.00"
    report = world.run()
    assert report.drift == 1
    assert _woo(world, "Bar4")["regular_price"] == str(world.item_by_sku("Bar4")["rate"])


def test_between_full_reads_a_run_reads_only_changes(tmp_path: Path, secret_key: str) -> None:
    with catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO) as world:  # a day
        add_items(world, [(f"Books {s}", s, Decimal("5.00"), 3) for s in SKUS])
        world.run()
        world.shop.emulator.store.products.pop(40)
        later = world.run()  # from the checkpoint (less its minute of overlap)
        assert later.gone == 0 and later.read["shop"] < 7  # not before the next full read
