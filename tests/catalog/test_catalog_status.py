"""``ledgerbridge status`` shows catalog pipelines next to the order pipelines: the last
run, bound variants, writes waiting for approval and open conflicts (through the real CLI)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ledgerbridge.cli import app
from ledgerbridge_woocommerce.emulator.app import create_app as woo_app
from ledgerbridge_woocommerce.emulator.data import dates, seed

from .harness import CatalogWorld, add_items, catalog_world
from .test_woocommerce_catalog import SKUS, WOO


def _status(world: CatalogWorld) -> tuple[dict[str, Any], str]:
    cli = CliRunner()
    args = ["status", "--no-limits", "-c", str(world.config_path)]
    shown = cli.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    [row] = [r for r in json.loads(shown.stdout)["catalogs"] if r["pipeline"] == "cat"]
    table = cli.invoke(app, args, catch_exceptions=False)
    assert table.exit_code == 0, table.output
    return row, table.output


def test_status_shows_a_catalog_pipelines_last_run_and_open_conflicts(
    tmp_path: Path, secret_key: str
) -> None:
    with catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO) as world:
        add_items(world, [(f"B {s}", s, Decimal("6.00"), 3) for s in SKUS])
        row, _ = _status(world)
        assert row["last_run"] is None and row["bound"] == 0 and row["open_conflicts"] == 0
        world.run()
        world.edit_item("NINJA-53", rate=Decimal("30.00"))  # the price edited on both sides
        woo = world.shop.emulator
        product = next(p for p in woo.store.products.values() if p["sku"] == "NINJA-53")
        product.update(regular_price="31.00", **dates("date_modified", woo.now()))
        assert world.run().conflicts == 1
        row, table = _status(world)
        assert row["last_run"] is not None and row["bound"] == len(SKUS)
        assert row["open_conflicts"] == 1 and row["pending_approval"] == 0
        assert set(row["checkpoints"]) == {"books", "shop"} and all(row["checkpoints"].values())
        assert "Catalog pipelines" in table and "cat" in table


def test_status_counts_the_writes_waiting_for_approval(tmp_path: Path, secret_key: str) -> None:
    with catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO) as world:
        world.config_path.write_text(world.config_path.read_text() + "        approve: manual\n")
        add_items(world, [("Ninja", "NINJA-53", Decimal("30.00"), 4)])
        held = world.run().held
        row, _ = _status(world)
        assert held > 0 and row["pending_approval"] == held == row["held"]
        approved = CliRunner().invoke(
            app, ["catalog", "approve", "cat", "-c", str(world.config_path)]
        )
        assert approved.exit_code == 0, approved.output
        row, _ = _status(world)
        assert row["pending_approval"] == 0
