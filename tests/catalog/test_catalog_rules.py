"""Matching, approval and drift rules of a catalog pipeline, through the Zoho Books and
WooCommerce emulators."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledgerbridge.cli import app
from ledgerbridge.store import RecordState
from ledgerbridge_woocommerce.emulator.app import create_app as woo_app
from ledgerbridge_woocommerce.emulator.data import dates, seed

from .harness import CatalogWorld, add_items, catalog_world
from .test_woocommerce_catalog import SKUS, WOO


def _woo_product(world: CatalogWorld, sku: str) -> dict[str, Any]:
    store = world.shop.emulator.store
    return next(p for p in store.products.values() if p["sku"] == sku)


def _edit_woo(world: CatalogWorld, sku: str, **changes: Any) -> None:
    """An edit in the WooCommerce admin: the product and its modified time change."""
    product = _woo_product(world, sku)
    product.update(changes)
    product.update(dates("date_modified", world.shop.emulator.now()))


def _world(tmp_path: Path, extra: str = "") -> Any:
    return catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO, extra=extra)


@pytest.fixture
def world(tmp_path: Path, secret_key: str) -> Any:
    with _world(tmp_path) as w:
        add_items(w, [(f"Books {s}", s, Decimal("5.00") + i, 3) for i, s in enumerate(SKUS)])
        yield w


def test_two_books_items_with_one_sku_are_parked_naming_both_and_linked_by_hand(
    tmp_path: Path, secret_key: str
) -> None:
    with _world(tmp_path) as world:
        add_items(
            world,
            [("Mug", "PQ-40", Decimal("8.00"), 1), ("Mug (old)", "PQ-40", Decimal("9.00"), 1)],
        )
        report = world.run()
        assert report.bound == 0
        records = {r.external_id: r for r in world.engine().failures([RecordState.NEEDS_MAPPING])}
        ids = [i["item_id"] for i in world.org.items.values()]
        for iid in ids:
            reason = records[f"books:{iid}"].reason or ""
            assert "ambiguous" in reason and all(str(i) in reason for i in ids)
        assert _woo_product(world, "PQ-40")["regular_price"] == "21.99"  # nothing guessed
        result = CliRunner().invoke(
            app, ["catalog", "link", "cat", str(ids[0]), "40", "-c", str(world.config_path)]
        )
        assert result.exit_code == 0, result.output
        world.run()
        assert _woo_product(world, "PQ-40")["regular_price"] == "8.00"


def test_manual_approval_holds_writes_until_approved(tmp_path: Path, secret_key: str) -> None:
    with _world(tmp_path) as world:
        text = world.config_path.read_text() + "        approve: manual\n"
        world.config_path.write_text(text)
        add_items(world, [("Ninja", "NINJA-53", Decimal("30.00"), 4)])
        report = world.run()
        assert report.held > 0 and report.written == 0
        assert _woo_product(world, "NINJA-53")["regular_price"] == "35.00"
        assert world.run().written == 0  # still held, not made
        cli = CliRunner()
        held = cli.invoke(app, ["catalog", "held", "cat", "-c", str(world.config_path)])
        assert "price" in held.output and "30" in held.output
        approved = cli.invoke(app, ["catalog", "approve", "cat", "-c", str(world.config_path)])
        assert approved.exit_code == 0 and "approved" in approved.output
        assert world.run().written == 2  # the shop's price and stock, Books' name
        assert _woo_product(world, "NINJA-53")["regular_price"] == "30.00"
        assert world.item_by_sku("NINJA-53")["name"] == "Happy Ninja"
        assert world.run().written == 0


def test_a_price_changed_in_the_shop_is_drift_and_put_back(world: CatalogWorld) -> None:
    world.run()
    _edit_woo(world, "NINJA-56", regular_price="99.00")
    report = world.run()
    assert report.drift == 1 and report.conflicts == 0
    assert _woo_product(world, "NINJA-56")["regular_price"] == "8.00"  # Books' price again
    events = world.engine().audit("books:" + str(world.item_by_sku("NINJA-56")["item_id"]))
    assert any(e.details.get("why") == "revert" and e.details.get("old") == "99" for e in events)


def test_drift_left_and_logged_when_the_rule_says_so(tmp_path: Path, secret_key: str) -> None:
    with _world(tmp_path) as world:
        world.config_path.write_text(world.config_path.read_text() + "        on_drift: log\n")
        add_items(world, [("Ninja", "NINJA-56", Decimal("8.00"), 4)])
        world.run()
        _edit_woo(world, "NINJA-56", regular_price="99.00")
        report = world.run()
        assert report.drift == 1 and report.written == 0
        assert _woo_product(world, "NINJA-56")["regular_price"] == "99.00"
        assert world.run().drift == 0  # reported once
        world.edit_item("NINJA-56", rate=Decimal("9.50"))  # the owner moves on: it flows again
        assert world.run().written == 1
        assert _woo_product(world, "NINJA-56")["regular_price"] == "9.50"


def test_catalog_status_counts_what_an_operator_looks_at(world: CatalogWorld) -> None:
    import json

    world.run()
    out = CliRunner().invoke(
        app, ["catalog", "status", "cat", "--json", "-c", str(world.config_path)]
    )
    assert out.exit_code == 0, out.output
    row = json.loads(out.output[out.output.index("{\n") :])  # after any warning line
    assert row["bound"] == 6 and row["held"] == 0 and row["open_conflicts"] == 0
    assert row["states"] == {"needs_mapping": 1, "synced": 6}  # product 93: no SKU
    assert all(row["checkpoints"].values())


def test_sync_with_no_id_runs_the_catalog_pipelines_too(world: CatalogWorld) -> None:
    """``ledgerbridge sync`` runs every enabled pipeline, catalogs included, and exits with
    what is left undone (here the product without a SKU, parked)."""
    config = ["-c", str(world.config_path)]
    first = CliRunner().invoke(app, ["sync", *config])
    assert first.exit_code == 3, first.output  # ExitCode.PARKED: product 93 has no SKU
    assert _woo_product(world, "NINJA-56")["regular_price"] == "8.00"
    world.edit_item("NINJA-56", rate=Decimal("9.25"))
    again = CliRunner().invoke(app, ["sync", *config])
    assert again.exit_code == 0, again.output  # parked on the first run, not again
    assert _woo_product(world, "NINJA-56")["regular_price"] == "9.25"
    assert "Sync summary" not in again.output  # no order pipeline: no empty orders table
