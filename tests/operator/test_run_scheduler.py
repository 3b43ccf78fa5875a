"""`run` isolates pipelines and runs tenants concurrently (the real CLI against the demo's
emulators): a slow shop does not hold up another merchant's books; a pipeline whose Zoho
credentials are refused, or whose lease a live worker holds, is reported with its tenant
and pipeline while the others sync; `run --once` exits with the worst outcome."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

from demo.world import ORGS
from ledgerbridge.exitcodes import ExitCode
from ledgerbridge.store import Store
from ledgerbridge.store.adapters import default_holder
from ledgerbridge.store.models import Lease
from ledgerbridge.store.types import utcnow
from ledgerbridge_zohobooks.emulator import Exchange

from .conftest import Operator


def json_lines(stderr: str) -> list[dict[str, Any]]:
    """Every stderr line of a ``--log-format json`` command: each must be one JSON object."""
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def json_logging(operator: Operator) -> Operator:
    """The operator with ``LEDGERBRIDGE_LOG_FORMAT=json`` (``--log-format json``'s variable)."""
    return Operator(operator.world, {**operator.env, "LEDGERBRIDGE_LOG_FORMAT": "json"})


def invoices_of(operator: Operator, tenant: str) -> int:
    return len(operator.world.org(tenant).invoices)


def test_a_slow_shop_does_not_delay_another_tenants_books(operator: Operator) -> None:
    world = operator.world
    org_of = {org: tenant for tenant, org in ORGS.items()}
    created: dict[str, list[float]] = {"north": [], "west": [], "cart": []}
    lock = threading.Lock()

    def timed(exchange: Exchange) -> None:
        tenant = org_of.get(exchange.query.get("organization_id", ""))
        if tenant and exchange.method == "POST" and 200 <= exchange.status < 300:
            with lock:
                created[tenant].append(time.monotonic())

    world.zoho.emulator.observers.append(timed)
    world.shopify.config.latency = 1.5  # north's shop answers slowly (FaultInjector)
    began = time.monotonic()
    done = operator.cli("run", "--once", code=ExitCode.PARKED)  # west parks one on purpose
    took = time.monotonic() - began

    assert created["north"] and created["west"] and created["cart"], (created, done.stderr)
    north_done = max(created["north"])
    # Every write of the other merchants was in their books before the slow one finished
    # (before: north ran first, and west and cart began only after its last write).
    assert max(created["west"]) < north_done, (created, done.stderr)
    assert max(created["cart"]) < north_done, (created, done.stderr)
    assert invoices_of(operator, "west") >= 5 and invoices_of(operator, "cart") >= 5
    assert "north/north-orders: read 12" in done.stdout, done.stdout
    assert took < 120


def test_refused_credentials_of_one_tenant_do_not_stop_the_others(operator: Operator) -> None:
    world = operator.world
    text = world.config_path.read_text()
    refresh = world.saved.refresh["north"]
    assert refresh in text
    world.config_path.write_text(text.replace(refresh, "1000.revoked-by-the-merchant"))

    # the worst outcome: dead credentials beat west's parked order
    done = json_logging(operator).cli("run", "--once", code=ExitCode.CREDENTIALS)

    assert invoices_of(operator, "north") == 0
    assert invoices_of(operator, "west") >= 5, done.stderr
    assert invoices_of(operator, "cart") >= 5, done.stderr
    lines = json_lines(done.stderr)
    errors = [
        line
        for line in lines
        if line["level"] == "error" and line.get("pipeline") == "north-orders"
    ]
    assert errors, done.stderr
    assert all(line["tenant"] == "north" for line in errors)
    assert any("ledgerbridge connect zohobooks --tenant north" in e["event"] for e in errors)
    assert "1000.revoked-by-the-merchant" not in done.stderr + done.stdout
    finished = {line.get("pipeline") for line in lines if "read" in line and "writes" in line}
    assert {"west-orders", "cart-orders"} <= finished, done.stderr
    assert "north/north-orders: error:" in done.stdout


def test_a_busy_pipeline_is_reported_and_skipped(operator: Operator) -> None:
    store = Store(operator.world.database_url)
    holder = default_holder()  # this test's own process: a live holder, never taken over
    now = utcnow()
    with store.session() as s:
        s.add(
            Lease(
                name="pipeline:west-orders",
                holder=holder,
                expires_at=now + timedelta(minutes=10),
                acquired_at=now,
            )
        )
    store.close()

    done = json_logging(operator).cli("run", "--once", code=ExitCode.BUSY)

    assert invoices_of(operator, "west") == 0
    assert invoices_of(operator, "north") >= 5 and invoices_of(operator, "cart") >= 5
    lines = json_lines(done.stderr)
    busy = [line for line in lines if line["event"].startswith("busy:")]
    assert len(busy) == 1, done.stderr
    [line] = busy
    assert (line["level"], line["tenant"], line["pipeline"]) == ("warning", "west", "west-orders")
    assert holder in line["event"] and "ledgerbridge unlock west-orders" in line["event"]
    for entry in lines:  # every line: a level and a UTC timestamp
        assert entry["level"] in ("debug", "info", "warning", "error", "critical")
        assert entry["timestamp"].endswith("Z") and "T" in entry["timestamp"]
    assert "west/west-orders: busy:" in done.stdout


def test_tenants_sharing_one_organisation_share_its_limiter(operator: Operator) -> None:
    """Running concurrently, two tenants' pipelines into one Zoho organisation (declared
    with ``shared_with`` on both sides) pace their calls through one limiter."""
    import anyio
    import yaml

    from ledgerbridge.config import load_config
    from ledgerbridge.engine import Engine

    path = operator.world.config_path
    config = yaml.safe_load(path.read_text())
    north, _west, cart = config["tenants"]
    cart["connections"]["books"]["settings"]["organization_id"] = ORGS["north"]
    north["connections"]["books"]["shared_with"] = ["cart"]
    cart["connections"]["books"]["shared_with"] = ["north"]
    path.write_text(yaml.safe_dump(config))
    engine = Engine(load_config(path), Store(operator.world.database_url))

    async def limiters() -> list[object]:
        found = []
        for pipeline_id in ("north-orders", "cart-orders", "west-orders"):
            runner = engine.runner(pipeline_id)
            found.append(runner.target._limiter())  # type: ignore[attr-defined]
        await engine.aclose()
        return found

    shared_north, shared_cart, own_west = anyio.run(limiters)
    assert shared_north is shared_cart
    assert own_west is not shared_north


def test_the_long_running_scheduler_goes_on_after_one_pipeline_fails(operator: Operator) -> None:
    """Without ``--once``: north's refused credentials are logged, the process keeps
    running and syncs the other tenants; SIGTERM still stops it cleanly (exit 0)."""
    import signal

    from .test_webhooks_and_run import wait_until

    world = operator.world
    text = world.config_path.read_text()
    world.config_path.write_text(text.replace(world.saved.refresh["north"], "1000.revoked"))
    runner = json_logging(operator).popen("run", "--inbox-every", "0.5")
    try:
        wait_until(
            lambda: invoices_of(operator, "west") >= 5 and invoices_of(operator, "cart") >= 5
        )
        time.sleep(1.0)
        assert runner.poll() is None, "the scheduler is still running"
    finally:
        runner.send_signal(signal.SIGTERM)
        out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, (out, err)
    lines = json_lines(err)
    failed = [e for e in lines if e["level"] == "error" and e.get("pipeline") == "north-orders"]
    assert failed and all(e["tenant"] == "north" for e in failed), err
    assert any(e["event"] == "SIGTERM: finishing the record in flight" for e in lines), err
    assert invoices_of(operator, "north") == 0
    assert out.rstrip().endswith("stopped")
