"""A catalog pipeline whose state store is PostgreSQL (what a production deployment runs),
through the real CLI: the first alignment, a price edited in Books reaching the shop once,
the same price edited on both sides becoming one conflict with both values, resolved with
`ledgerbridge conflicts resolve`.  The other catalog tests run on SQLite, the embedded
default; the field rows, bindings and conflicts are the same tables on both."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledgerbridge.cli import app
from ledgerbridge_shopify.emulator.app import create_app as shopify_app
from ledgerbridge_shopify.emulator.catalog import _touch
from tests.conftest import postgres_schema, postgres_url_or_skip
from tests.engine.harness import InstantClock

from .harness import CatalogWorld, add_items, catalog_world
from .test_shopify_catalog import PRODUCTS, SHOP, _shop_variants

pytestmark = pytest.mark.postgres


def _cli(world: CatalogWorld, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "-c", str(world.config_path)])
    assert result.exit_code == 0, result.output
    return result.stdout


def _sync(world: CatalogWorld) -> dict[str, Any]:
    """`ledgerbridge catalog status cat --json` after `ledgerbridge sync cat`."""
    _cli(world, "sync", "cat")
    out = _cli(world, "catalog", "status", "cat", "--json")
    return dict(json.loads(out))


@pytest.fixture
def world(tmp_path: Path, secret_key: str) -> Any:
    clock = InstantClock()
    shop = shopify_app(orders=0, products=PRODUCTS, clock=clock.now)
    with (
        postgres_schema(postgres_url_or_skip(), "cat") as (_schema, url),
        catalog_world(tmp_path, shop, SHOP, clock=clock, db_url=url) as w,
    ):
        skus = sorted(_shop_variants(w))
        add_items(w, [(f"Books {s}", s, Decimal("10.00") + i, 7) for i, s in enumerate(skus)])
        _cli(w, "migrate")
        yield w


def test_a_catalog_on_postgres_aligns_carries_a_books_edit_and_logs_one_conflict(
    world: CatalogWorld,
) -> None:
    status = _sync(world)
    variants = _shop_variants(world)
    assert status["bound"] == len(variants) and status["open_conflicts"] == 0
    for sku, v in variants.items():
        assert Decimal(v["price"]) == world.item_by_sku(sku)["rate"]  # the emulator's state
    skus = sorted(variants)
    world.edit_item(skus[0], rate=Decimal("99.95"))
    _sync(world)
    assert _shop_variants(world)[skus[0]]["price"] == "99.95"

    # the same price edited in Books and in the shop before a run: one conflict, both values
    world.edit_item(skus[1], rate=Decimal("25.00"))
    v = variants[skus[1]]
    product = {**v["product"], "variants": [dict(x) for x in v["product"]["variants"]]}
    for x in product["variants"]:
        if x["sku"] == skus[1]:
            x["price"] = "27.00"
    _touch(world.shop.shop, int(product["legacyResourceId"]), product)
    assert _sync(world)["open_conflicts"] == 1
    assert _sync(world)["open_conflicts"] == 1  # one conflict, not one per run
    listed = json.loads(_cli(world, "conflicts", "--json"))
    [conflict] = listed if isinstance(listed, list) else listed["conflicts"]
    assert "25" in json.dumps(conflict) and "27" in json.dumps(conflict)
    assert _shop_variants(world)[skus[1]]["price"] == "27.00"  # nothing written over either
    _cli(world, "conflicts", "resolve", str(conflict["id"]), "--keep", "source")
    assert _shop_variants(world)[skus[1]]["price"] == "25.00"
    assert _sync(world)["open_conflicts"] == 0
