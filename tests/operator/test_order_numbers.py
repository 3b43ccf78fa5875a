"""Orders by the number the shop shows: `audit '#1003'` finds Shopify's order #1003,
`failures` shows numbers (the id beside them) grouped by cause, an ambiguous number lists
its candidates (exit 2), an unknown one exits 7, `replay` takes a number; every reading
command has a documented `--json`; tables fit 100 columns; `status` shows no figure of
its own process as if it were the workers'."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from ledgerbridge.exitcodes import ExitCode
from ledgerbridge.store import Store, SyncRecord

from .conftest import REPO, Operator, make_operator

GATEWAY_LINE = "      shopify_payments:"


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    """The three demo merchants synced once; the Shopify merchant's mapping lacks its
    `shopify_payments` gateway, so those orders park on one missing key."""
    for operator in make_operator(tmp_path_factory.mktemp("numbers"), orders=12):
        mapping = operator.world.directory / "mappings" / "shopify.yaml"
        text = mapping.read_text()
        kept = [ln for ln in text.splitlines(keepends=True) if not ln.startswith(GATEWAY_LINE)]
        assert len(kept) == len(text.splitlines()) - 1
        mapping.write_text("".join(kept))
        operator.cli("sync", "north-orders", code=ExitCode.PARKED)
        operator.cli("sync", "west-orders", code=ExitCode.PARKED)
        operator.cli("sync", "cart-orders")
        mapping.write_text(text)  # the fix, for the replay test
        yield operator


def records(operator: Operator, pipeline: str) -> list[SyncRecord]:
    store = Store(operator.world.database_url)
    try:
        with store.session() as s:
            rows = s.exec(SyncRecord.__table__.select())  # type: ignore[attr-defined]
            return [SyncRecord(**r._mapping) for r in rows if r.pipeline_id == pipeline]
    finally:
        store.close()


def run(operator: Operator, *args: str, columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = dict(operator.env, COLUMNS=str(columns))
    return subprocess.run(
        operator.argv(*args), env=env, capture_output=True, text=True, timeout=120, cwd=REPO
    )


def test_audit_finds_a_shopify_order_by_the_number_the_shop_shows(synced: Operator) -> None:
    order = next(r for r in records(synced, "north-orders") if r.state == "synced")
    assert order.number is not None and order.number.startswith("#"), order
    assert order.number.lstrip("#") != order.external_id  # "#1003" is not id 5000000003

    done = run(synced, "audit", order.number)
    assert done.returncode == 0, done.stderr
    assert f"{order.number} (id {order.external_id})" in done.stdout, done.stdout
    assert "create_document" in done.stdout
    by_id = run(synced, "audit", order.external_id)
    assert by_id.returncode == 0 and "create_document" in by_id.stdout

    shown = json.loads(run(synced, "audit", order.number, "--json").stdout)
    assert shown["order"] == {
        "number": order.number,
        "external_id": order.external_id,
        "record_id": order.id,
        "tenant": "north",
        "pipeline": "north-orders",
        "state": "synced",
    }
    assert shown["events"][0]["operation"] == "create_document"
    assert set(shown["events"][0]) == {
        "at", "operation", "outcome", "target_id", "version", "duration_ms", "attempt",
        "idempotency_key",
    }  # fmt: skip


def test_an_ambiguous_number_lists_its_candidates_and_exits_2(synced: Operator) -> None:
    west = {r.external_id for r in records(synced, "west-orders")}
    shared = next(r.external_id for r in records(synced, "cart-orders") if r.external_id in west)
    done = run(synced, "audit", shared)
    assert done.returncode == ExitCode.USAGE, (done.stdout, done.stderr)
    assert "--tenant or --pipeline" in done.stderr
    assert f"order {shared} in west/west-orders" in done.stderr, done.stderr
    assert f"order {shared} in cart/cart-orders" in done.stderr, done.stderr
    narrowed = run(synced, "audit", shared, "--pipeline", "cart-orders", "--json")
    assert narrowed.returncode == 0, narrowed.stderr
    assert json.loads(narrowed.stdout)["order"]["pipeline"] == "cart-orders"
    by_tenant = run(synced, "audit", shared, "--tenant", "west", "--json")
    assert json.loads(by_tenant.stdout)["order"]["tenant"] == "west"
    replayed = run(synced, "replay", shared)
    assert replayed.returncode == ExitCode.USAGE, (replayed.stdout, replayed.stderr)
    assert "write '#' before an order number" in replayed.stderr


def test_an_unknown_order_exits_7(synced: Operator) -> None:
    for command in ("audit", "replay"):
        done = run(synced, command, "#99999999")
        assert done.returncode == ExitCode.NOT_FOUND, (command, done.stdout, done.stderr)


def test_failures_show_numbers_grouped_by_the_missing_key(synced: Operator) -> None:
    parked = [r for r in records(synced, "north-orders") if r.state == "needs_mapping"]
    assert len(parked) >= 2, "several Shopify orders paid through shopify_payments"
    rows = synced.json("failures", code=ExitCode.PARKED)
    north = [r for r in rows if r["pipeline"] == "north-orders"]
    assert {r["number"] for r in north} == {r.number for r in parked}
    for row in north:
        assert row["order"] == f"{row['number']} (id {row['external_id']})"
        assert row["missing_key"] == "payment_account:shopify_payments"

    groups = synced.json("failures", "--group", code=ExitCode.PARKED)
    [group] = [g for g in groups if g["missing_key"] == "payment_account:shopify_payments"]
    assert group["count"] == len(parked) and group["state"] == "needs_mapping"
    assert {r["id"] for r in group["records"]} == {r.id for r in parked}
    assert sum(g["count"] for g in groups) == len(rows)

    table = run(synced, "failures").stdout
    assert f"{len(rows)} record(s) in {len(groups)} group(s)" in table, table
    assert table.count("payment_account:shopify_payments") == 1, table  # one line per cause
    for record in parked:
        assert f"{record.number} (id {record.external_id}) [{record.id}]" in table, table
    listed = run(synced, "failures", "--all").stdout
    assert listed.count("payment_account:shopify_payments") == len(parked), listed


def test_status_json_and_no_figures_of_its_own_process(synced: Operator) -> None:
    shown = synced.json("status")
    assert set(shown) == {"pipelines", "catalogs", "reconnect", "leases", "shared"}
    north = next(p for p in shown["pipelines"] if p["pipeline"] == "north-orders")
    assert set(north) == {
        "tenant", "pipeline", "last_activity", "checkpoints", "states", "inbox_waiting",
        "limits",
    }  # fmt: skip
    assert north["states"]["needs_mapping"] >= 2
    assert json.loads(north["checkpoints"]["order"])  # the raw checkpoint, for machines
    assert "calls_left_this_minute" not in north["limits"], north["limits"]
    assert north["limits"]["calls_left_today"] < north["limits"]["daily_quota"]
    assert shown["leases"] == [] and shown["reconnect"] == [] and shown["shared"] is None

    table = run(synced, "status").stdout
    assert "this process" not in table and "this minute" not in table, table
    assert "left today" in table
    assert "seen ids)" in table and '{"' not in table, table  # summarised, not raw JSON


def test_conflicts_and_connectors_json(synced: Operator) -> None:
    assert synced.json("conflicts") == []
    done = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", "connectors", "--json"],
        env=synced.env, capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    listed = json.loads(done.stdout)
    names = {c["name"]: c for c in listed["connectors"]}
    assert {"shopify", "woocommerce", "api2cart", "zohobooks"} <= set(names)
    assert names["zohobooks"]["kind"] == "target" and names["shopify"]["emulator"] is True
    assert set(names["shopify"]) == {
        "name", "kind", "plugin", "version", "status", "capabilities", "emulator", "catalog",
    }  # fmt: skip
    assert "price" in str(names["shopify"]["catalog"])  # what its catalog reads and writes


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("failures",),
        ("failures", "--all"),
        ("conflicts",),
        ("check",),
        ("audit", "#1003", "--pipeline", "north-orders"),
        ("sync", "cart-orders"),
    ],
)
def test_tables_fit_100_columns(synced: Operator, args: tuple[str, ...]) -> None:
    done = run(synced, *args, columns=100)
    assert done.returncode in (0, ExitCode.PARKED), (done.stdout, done.stderr)
    too_long = [ln for ln in (done.stdout + done.stderr).splitlines() if len(ln) > 100]
    assert too_long == [], "\n".join(too_long)


def test_preview_reads_an_order_by_its_number(synced: Operator) -> None:
    order = next(r for r in records(synced, "north-orders") if r.state == "synced")
    mapping = synced.world.directory / "mappings" / "shopify.yaml"
    done = run(
        synced, "mappings", "preview", str(mapping), "--source-id", str(order.number),
        "--source", "north/shop", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)["order"]
    assert shown["source"]["external_id"] == order.external_id
    assert shown["number"] == order.number


def test_replay_takes_an_order_number(synced: Operator) -> None:
    """Runs last: the fixture restored the gateway, so the replayed order posts."""
    parked = next(r for r in records(synced, "north-orders") if r.state == "needs_mapping")
    assert parked.number is not None
    done = run(synced, "replay", parked.number)
    assert done.returncode in (0, ExitCode.PARKED), (done.stdout, done.stderr)
    [after] = [r for r in records(synced, "north-orders") if r.id == parked.id]
    assert after.state == "synced"
    rows: list[dict[str, Any]] = synced.json("failures", code=ExitCode.PARKED)
    assert parked.id not in {r["id"] for r in rows}
