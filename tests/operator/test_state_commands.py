"""`sync --dry-run` plans and writes nothing; `status` counts records per state;
`conflicts` lists an edit made on both sides and `conflicts resolve` settles it."""

from __future__ import annotations

import re
from collections import Counter

import anyio

from ledgerbridge.exitcodes import ExitCode
from ledgerbridge.store import Store, SyncRecord

from .conftest import Operator


def test_dry_run_shows_the_planned_writes_and_writes_nothing(operator: Operator) -> None:
    world = operator.world
    out = operator.cli("sync", "west-orders", "--dry-run", code=ExitCode.PARKED).stdout
    assert world.writes == [], "a dry run makes no write at Zoho Books"
    assert world.org("west").invoices == {}
    assert "create_document" in out and "record_payment" in out, out
    paid = next(str(o["id"]) for o in world.saved.woo.orders.values() if o["status"] == "completed")
    assert re.search(rf"order:{paid}\b|\b{paid}\b", out), out
    # and the real run afterwards posts what the dry run showed
    operator.cli("sync", "west-orders", code=ExitCode.PARKED)
    assert world.org("west").invoices


def test_status_counts_records_per_state(operator: Operator) -> None:
    operator.cli("sync", "west-orders", code=ExitCode.PARKED)
    store = Store(operator.world.database_url)
    with store.session() as s:
        counts = Counter(r.state for r in s.exec(SyncRecord.__table__.select()))  # type: ignore[attr-defined]
    store.close()
    assert counts["synced"] > 0 and counts["needs_mapping"] == 1
    status = operator.cli("status").stdout
    row = next(line for line in status.splitlines() if "west-orders" in line)
    for state, n in counts.items():
        assert f"{state}: {n}" in status, (state, n, status)
    assert "never" in next(line for line in status.splitlines() if "north-orders" in line)
    assert "west" in row


def test_an_edit_on_both_sides_is_listed_and_resolved_keeping_the_source(
    operator: Operator,
) -> None:
    world = operator.world
    operator.cli("sync", "west-orders", code=ExitCode.PARKED)
    assert operator.cli("conflicts").stdout.strip() == "no open conflicts"
    invoice = next(
        i for i in world.org("west").invoices.values() if i["status"] not in ("paid", "void")
    )
    oid = int(invoice["custom_field_hash"]["cf_source_order_id"])
    invoice["notes"] = "edited by the accountant"
    invoice["last_modified_time"] = "2099-01-01T00:00:00+0000"
    anyio.run(lambda: world.woo.emulator.touch_order(oid, customer_note="changed at the shop"))
    operator.cli("sync", "west-orders", code=ExitCode.PARKED)
    assert invoice["notes"] == "edited by the accountant", (
        "the accountant's edit is not overwritten"
    )

    listed = operator.cli("conflicts").stdout
    row = next(line for line in listed.splitlines() if f"order {oid}" in line)
    conflict_id = row.split("│")[1].strip()
    assert invoice["invoice_id"][-6:] in listed or invoice["invoice_id"][:10] in listed
    [parked] = [
        r
        for r in operator.json("failures", "--state", "conflict", code=ExitCode.PARKED)
        if r["record"] == f"order {oid}"
    ]
    assert parked["retry_safe"] is False

    done = operator.cli("conflicts", "resolve", conflict_id, "--keep", "source").stdout
    assert f"conflict {conflict_id} resolved (kept source); record is synced" in done
    assert invoice["notes"] == "changed at the shop"
    assert operator.cli("conflicts").stdout.strip() == "no open conflicts"
    bad = operator.cli("conflicts", "resolve", conflict_id, "--keep", "both", ok=False)
    assert bad.returncode == 2 and "--keep must be 'source' or 'target'" in bad.stderr
