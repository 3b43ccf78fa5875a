"""A catalog's writes under failure: a write that fails stays pending and is made on the
next run; a write whose answer is lost is sent again and lands once (absolute values); a
dry run stores nothing.  Verified in the emulators' state."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
from typer.testing import CliRunner

from ledgerbridge.catalog.diff import Outcome, plan_field
from ledgerbridge.catalog.state import FieldRow
from ledgerbridge.cli import app
from ledgerbridge.store import RecordState
from ledgerbridge_woocommerce.emulator.app import create_app as woo_app
from ledgerbridge_woocommerce.emulator.data import seed

from .harness import CatalogWorld, add_items, catalog_world
from .test_woocommerce_catalog import SKUS, WOO


class FailingWrites:
    """The store answers its next ``count`` batch writes 503 (nothing written)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.count = inner, 0
        self.emulator = inner.emulator

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.count and scope.get("method") == "POST" and scope["path"].endswith("/batch"):
            self.count -= 1
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"Service Unavailable"})
            return
        await self.inner(scope, receive, send)


def _price(world: CatalogWorld, sku: str) -> str:
    store = world.shop.emulator.store
    return next(p for p in store.products.values() if p["sku"] == sku)["regular_price"]


def test_a_failed_write_stays_pending_and_is_made_next_run(tmp_path: Path, secret_key: str) -> None:
    shop = FailingWrites(woo_app(store=seed(orders=0)))
    with catalog_world(tmp_path, shop, WOO) as world:
        add_items(world, [(f"B {s}", s, Decimal("5.00"), 3) for s in SKUS])
        shop.count = 50  # more than the retries of one run
        report = world.run()
        assert report.failed == 6  # every shop write; the Books side (names) went through
        assert _price(world, "PQ-40") == "21.99"
        states = {r.state for r in world.engine().failures([RecordState.RETRYING])}
        assert states == {"retrying"}
        shop.count = 0
        engine = world.engine()

        async def replay() -> None:  # `ledgerbridge replay --state retrying`
            async with engine:
                await engine.replay(state=RecordState.RETRYING)

        anyio.run(replay)
        assert _price(world, "PQ-40") == "5.00"
        assert world.engine().failures([RecordState.RETRYING]) == []
        assert world.run().written == 0


def test_a_lost_answer_is_sent_again_and_lands_once(tmp_path: Path, secret_key: str) -> None:
    with catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO) as world:
        add_items(world, [(f"B {s}", s, Decimal("6.00"), 3) for s in SKUS])
        world.shop.config.lose_next_responses = 1  # the first batch lands, its answer is lost
        report = world.run()
        assert report.failed == 0
        assert _price(world, "NINJA-53") == "6.00"
        assert world.run().written == 0


def test_dry_run_prints_the_diff_per_sku_and_stores_nothing(
    tmp_path: Path, secret_key: str
) -> None:
    with catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO) as world:
        add_items(world, [("B", "NINJA-53", Decimal("6.00"), 3)])
        out = CliRunner().invoke(
            app, ["sync", "cat", "--dry-run", "-c", str(world.config_path)], catch_exceptions=False
        )
        assert "NINJA-53" in out.output and "price" in out.output and "6" in out.output
        assert _price(world, "NINJA-53") == "35.00"
        assert world.engine().store.get_checkpoint("cat", "catalog:books") is None
        assert world.run().bound == 1


def test_the_field_rules_in_one_table() -> None:
    row = FieldRow("a1", "price", "b1", "10", "10")
    cases = [
        ({"a": "10", "b": "10"}, Outcome.AGREE, None),
        ({"a": "12", "b": "10"}, Outcome.WRITE, "b"),  # the owner changed
        ({"a": "10", "b": "11"}, Outcome.REVERT, "b"),  # drift on the other side
        ({"a": "12", "b": "11"}, Outcome.CONFLICT, None),  # both changed
        ({"a": "12", "b": "12"}, Outcome.AGREE, None),  # both changed alike
    ]
    for values, outcome, side in cases:
        plan = plan_field("price", "a", values, row, on_drift="revert")
        assert (plan.outcome, plan.side) == (outcome, side), values
    kept = plan_field("price", "a", {"a": "10", "b": "11"}, row, on_drift="log")
    assert kept.outcome is Outcome.DRIFT_KEPT
    first = plan_field("price", "a", {"a": "10", "b": "9"}, None, on_drift="revert")
    assert (first.outcome, first.side, first.value) == (Outcome.WRITE, "b", "10")
    unknown = plan_field("stock", "a", {"a": None, "b": "4"}, None, on_drift="revert")
    assert unknown.outcome is Outcome.NOTHING  # an owner that does not know its value


def test_a_run_while_another_holds_the_lease_reads_and_writes_nothing(
    tmp_path: Path, secret_key: str
) -> None:
    from datetime import timedelta

    with catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO) as world:
        add_items(world, [("B", "NINJA-53", Decimal("6.00"), 3)])
        store = world.engine().store
        store.migrate()
        assert store.acquire_lease("pipeline:cat", "another-worker", timedelta(minutes=5))
        report = world.run()
        assert report.busy is not None and "already running" in report.busy
        assert report.written == 0 and report.read == {}
        assert _price(world, "NINJA-53") == "35.00"
        store.release_lease("pipeline:cat", "another-worker")
        assert world.run().written > 0


def test_the_scheduler_runs_catalog_pipelines_too(tmp_path: Path, secret_key: str) -> None:
    from ledgerbridge.engine.scheduler import Scheduler

    with catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO) as world:
        add_items(world, [("B", "NINJA-53", Decimal("6.00"), 3)])
        engine = world.engine()

        async def once() -> None:  # `ledgerbridge run --once`
            async with engine:
                await Scheduler(engine).run_once()

        anyio.run(once)
        assert _price(world, "NINJA-53") == "6.00"


def test_a_write_that_landed_unrecorded_is_not_taken_for_an_edit_in_the_shop(
    tmp_path: Path, secret_key: str
) -> None:
    """Found by the chaos harness (catalog scenario): a price write lands but its answer
    never comes back (every attempt's answer lost; a SIGKILL after the commit is the same),
    so the run does not record it.  The owner's price is then edited again.  The next run
    reads the shop holding the pipeline's own unrecorded price: it must write the new one,
    not open a conflict between the owner's new price and its own old one (which left the
    new price out of the shop for good)."""
    shop = woo_app(store=seed(orders=0))
    with catalog_world(tmp_path, shop, WOO) as world:
        add_items(world, [(f"B {s}", s, Decimal("6.00"), 3) for s in SKUS])
        assert world.run().failed == 0
        world.edit_item("NINJA-53", rate=Decimal("7.00"))
        shop.config.lose_next_responses = 1000  # every write lands, every answer is lost
        assert world.run().failed >= 1
        assert _price(world, "NINJA-53") == "7.00"  # landed, unrecorded
        shop.config.lose_next_responses = 0
        world.edit_item("NINJA-53", rate=Decimal("8.00"))
        report = world.run()
        assert report.conflicts == 0
        assert _price(world, "NINJA-53") == "8.00"
        assert world.run().written == 0
