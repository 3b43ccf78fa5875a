"""``ledgerbridge sync --dry-run`` through the real CLI against the demo's emulators.

Each test is a finding of the first-hour report (issue: a dry run of 200 orders took
minutes, spent the organisation's API quota on look-ups, left records ``pending`` in the
store, held the pipeline lease and did not say why records would park):

- the store is the same before and after, table by table (SQLite and PostgreSQL);
- no lease is taken: a dry run works while another process holds the pipeline's lease;
- each would-be park is listed with its reason and the mapping key to set, with a
  summary, as text and as ``--json``, and the command exits 3 (0 once nothing parks);
- the organisation is asked once per run (a constant number of reads, never a write),
  which also finds what only the target knows -- an id the mapping names that it lacks;
- 200 orders take seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from ledgerbridge.engine.lease import lease_name
from ledgerbridge.exitcodes import ExitCode
from ledgerbridge.store import Store

from .conftest import Operator, make_operator

PG_ENV = "LEDGERBRIDGE_TEST_POSTGRES_URL"
PAYPAL = "ppcp-gateway"  # the gateway the demo's west mapping lacks (demo/world.py)


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store, in a stable order."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            return {
                table: sorted(
                    (
                        tuple(map(repr, row))
                        for row in conn.execute(text(f'SELECT * FROM "{table}"'))
                    ),
                )
                for table in tables
            }
    finally:
        engine.dispose()


def dry_run(operator: Operator, *args: str, code: int | None) -> subprocess.CompletedProcess[str]:
    """``code=None``: the caller checks the exit code (after what it checks first)."""
    return operator.cli(
        "sync", "west-orders", "--dry-run", *args, ok=code is not None, code=code or 0
    )


def calls_of(operator: Operator) -> Counter[str]:
    """The Zoho emulator's own count of the API calls it answers, by method and path."""
    seen: Counter[str] = Counter()
    operator.world.zoho.emulator.observers.append(
        lambda exchange: seen.update([f"{exchange.method} {exchange.path}"])
    )
    return seen


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """The store's URL: the demo's SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    schema = f"dry_{uuid.uuid4().hex[:10]}"
    admin = Store(base)
    with admin.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def west(tmp_path: Path, database: str | None) -> Iterator[Operator]:
    for operator in make_operator(tmp_path, orders=20):
        if database is not None:  # the same world on PostgreSQL
            config = operator.world.config_path
            config.write_text(
                re.sub(
                    r"(?m)^database: .*$", f"database: {json.dumps(database)}", config.read_text()
                )
            )
            migrated = subprocess.run(
                [sys.executable, "-m", "ledgerbridge", "migrate", "--database", database],
                env=operator.env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert migrated.returncode == 0, migrated.stderr
        yield operator


def store_url(operator: Operator) -> str:
    found = re.search(r'(?m)^database: "?([^"\n]+)"?$', operator.world.config_path.read_text())
    assert found
    return found.group(1)


def test_a_dry_run_writes_nothing_to_the_store(west: Operator) -> None:
    url = store_url(west)
    before = dump(url)
    done = dry_run(west, code=None)
    assert dump(url) == before  # no records, intents, checkpoints, audit events, leases
    assert done.returncode == ExitCode.PARKED, done.stdout + done.stderr

    # after a real run too: the store it leaves is read, never changed
    west.cli("sync", "west-orders", code=ExitCode.PARKED)
    synced = dump(url)
    assert synced["sync_records"] and synced["checkpoints"]
    dry_run(west, "--since", "1970-01-01T00:00:00+00:00", code=ExitCode.PARKED)
    assert dump(url) == synced


def test_a_dry_run_takes_no_lease_and_runs_while_another_process_holds_it(
    operator: Operator,
) -> None:
    store = Store(operator.world.database_url)
    holder = f"another-host:{os.getpid()}:worker"  # another host's live worker
    assert store.acquire_lease(lease_name("west-orders"), holder, timedelta(minutes=10))
    try:
        busy = operator.cli("sync", "west-orders", code=ExitCode.BUSY)
        assert "busy" in busy.stderr
        shown = dry_run(operator, code=None)
        assert "busy" not in shown.stderr, shown.stderr  # it ran: the lease is not its to take
        assert store.lease_holder(lease_name("west-orders"))[0] == holder  # type: ignore[index]
        read = re.search(r"read (\d+) ·", shown.stdout)
        assert read and int(read.group(1)) > 0, shown.stdout  # it planned the orders
        assert "would park 1" in shown.stdout
        assert shown.returncode == ExitCode.PARKED  # the one parked order, not BUSY
    finally:
        store.close()


def test_a_real_sync_runs_while_a_dry_run_is_reading(operator: Operator) -> None:
    zoho_calls = calls_of(operator)
    woo = operator.world.woo.emulator.config
    woo.slow_above_per_page, woo.slow_seconds = 0, 25.0  # the store stalls on its next page
    dry = operator.popen("sync", "west-orders", "--dry-run")
    try:
        deadline = time.monotonic() + 60
        # the dry run's organisation reads come just before it reads the store's pages
        while sum(n for c, n in zoho_calls.items() if "/organizations" not in c) < 3:
            assert dry.poll() is None and time.monotonic() < deadline, zoho_calls
            time.sleep(0.05)
        time.sleep(1.0)  # its page request is in: the store answers it in 25 s
        woo.slow_above_per_page = None  # every later page comes at once
        operator.cli("sync", "west-orders", code=ExitCode.PARKED)  # not BUSY
        assert dry.poll() is None, "the dry run should still be waiting for its page"
        out, err = dry.communicate(timeout=120)
        assert dry.returncode == ExitCode.PARKED, out + err
        assert "would park 1" in out
    finally:
        if dry.poll() is None:
            dry.kill()
            dry.communicate()
    assert operator.world.org("west").invoices  # the real sync posted


def test_a_dry_run_explains_every_park_and_exits_3_until_none_would_park(
    operator: Operator,
) -> None:
    text_out = " ".join(dry_run(operator, code=ExitCode.PARKED).stdout.split())
    assert f"no payment mode for gateway '{PAYPAL}'" in text_out
    assert f"→ set lookups.payment_methods.entries.{PAYPAL} in the mapping" in text_out
    assert (
        f"would park 1 × needs_mapping: → set lookups.payment_methods.entries.{PAYPAL}" in text_out
    )
    assert re.search(r"would post: .*\d+ invoice", text_out)

    report = json.loads(dry_run(operator, "--json", code=ExitCode.PARKED).stdout)
    [west] = report["pipelines"]
    assert report["would_park"] == west["would_park"] == 1
    [park] = west["parks"]
    assert park["state"] == "needs_mapping" and park["missing"] == f"payment_method:{PAYPAL}"
    assert park["order"] and park["advice"].startswith("set lookups.payment_methods")
    assert west["park_groups"] == [
        {
            "reason": f"needs_mapping: missing payment_method:{PAYPAL}",
            "count": 1,
            "advice": park["advice"],
            "orders": [park["order"]],
        }
    ]
    assert west["would_post"]["invoice"] == west["would_post_records"] > 0
    assert west["would_post_records"] + west["would_skip"] + 1 == west["read"]

    # the advice taken: the gateway mapped, nothing would park, exit 0
    mapping = operator.world.directory / "mappings" / "woocommerce.yaml"
    lines = mapping.read_text().splitlines()
    stripe = next(line for line in lines if line.strip().startswith("stripe:"))
    lines.insert(lines.index(stripe) + 1, stripe.replace("stripe:", f"{PAYPAL}:"))
    mapping.write_text("\n".join(lines) + "\n")
    clean = json.loads(dry_run(operator, "--json", code=ExitCode.OK).stdout)
    assert clean["would_park"] == 0
    assert clean["pipelines"][0]["would_post"]["invoice"] == west["would_post"]["invoice"] + 1

    # and the real run posts what the dry run said it would
    before = len(operator.world.org("west").invoices)
    operator.cli("sync", "west-orders", code=ExitCode.OK)
    assert (
        len(operator.world.org("west").invoices) - before
        == clean["pipelines"][0]["would_post"]["invoice"]
    )


def test_an_id_the_organisation_lacks_parks_each_order_using_it(operator: Operator) -> None:
    org = operator.world.org("west")
    mapping = (operator.world.directory / "mappings" / "woocommerce.yaml").read_text()
    [tax_id] = [t for t in org.taxes if f'tax_id: "{t}"' in mapping]
    del org.taxes[tax_id]  # deleted in Zoho after the mapping was written
    report = json.loads(dry_run(operator, "--json", code=ExitCode.PARKED).stdout)
    [west] = report["pipelines"]
    parks = [p for p in west["parks"] if tax_id in p["reason"]]
    assert parks, west["parks"]
    for park in parks:
        assert park["missing"] == "lookups.taxes.entries.0.tax_id"
        assert "not among the organisation's taxes" in park["reason"]
        assert park["advice"].startswith("set lookups.taxes.entries.0.tax_id to an id")


def test_200_orders_in_seconds_with_a_constant_number_of_reads(tmp_path: Path) -> None:
    for operator in make_operator(tmp_path, orders=200):
        calls = calls_of(operator)
        began = time.monotonic()
        report = json.loads(dry_run(operator, "--json", code=ExitCode.PARKED).stdout)
        seconds = time.monotonic() - began
        [west] = report["pipelines"]
        assert west["read"] >= 180
        writes = {c: n for c, n in calls.items() if not c.startswith("GET ")}
        assert writes == {}  # the emulator recorded no write
        # identity (twice: startup check and run), then one listing per kind of master
        # data the mapping names -- taxes, accounts, bank accounts -- whatever the orders
        assert sum(calls.values()) <= 6, calls
        assert seconds < 30, seconds
        print(
            f"\n200-order dry run: {seconds:.1f} s, {sum(calls.values())} Zoho calls {dict(calls)}"
        )
