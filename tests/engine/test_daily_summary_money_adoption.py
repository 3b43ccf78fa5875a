"""A day's money write whose answer was lost, then more money of that day before the rerun.

The rerun adopts the lost write by its key; what the books hold is the *adopted* amount,
so the binding must say that amount -- not the larger one the rerun meant to write --
or the rest of the day's money is never posted and the day never reaches zero.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.sandbox import TrapInjector, WriteTrap
from ledgerbridge_woocommerce.emulator.data import add_refund, dates

from .harness import woocommerce_to_zoho
from .test_adoption import API, due_now, trapped
from .test_daily_summary_money import assert_days_settled, paid_everywhere, sync

pytestmark = pytest.mark.usefixtures("secret_key")


def test_a_lost_refund_adopted_after_a_new_refund_of_its_day_leaves_nothing_unrefunded(
    tmp_path: Path,
):
    trap = WriteTrap("POST", rf"{API}/creditnotes/\d+/refunds", lose=True, then_outage=True)
    holder: dict[str, TrapInjector] = {}
    with woocommerce_to_zoho(
        tmp_path, orders=24, policy="daily_summary", wrap_zoho=trapped(holder, trap)
    ) as h:
        paid_everywhere(h)
        sync(h)  # the refund is committed by Zoho, its answer lost, Zoho gone
        [body] = trap.fired
        key = body["description"].split("[ledgerbridge ")[1].rstrip("]")
        _, day, currency, mode, _, gateway, _ = key.split(":")
        store = h.source_app.emulator.store
        order = next(
            o for o in store.orders.values()
            if o["currency"] == currency and o["payment_method"] == gateway
            and bool(o["prices_include_tax"]) == (mode == "incl")
            and o.get("date_paid_gmt") and o["status"] not in ("refunded", "cancelled")
        )  # fmt: skip
        # More money back the same day, via the same gateway, before the rerun.
        refund = add_refund(store, order, "amount", datetime.fromisoformat(f"{day}T12:00:00"))
        refund["refunded_payment"] = True
        order.update(dates("date_modified", h.source_app.emulator.now()))  # seen as changed
        holder["traps"].outage = False
        due_now(h)
        sync(h)  # adopts the lost refund (5.00): the binding must say 5.00, not 10.00
        sync(h)  # the other 5.00
        # bacs returned 5.00 (lost, adopted) + 5.00 (new): all of the day's credit refunded
        rows = [r for n in h.org.creditnotes.values() for r in n.get("_refund_rows", [])]
        bacs = [r["amount"] for r in rows if f":{day}:{currency}:" in r["description"]
                and f":refund:{gateway}:" in r["description"]]  # fmt: skip
        assert sum(bacs) == 10, bacs
        assert_days_settled(h)


def shown_failures(h: Any, env: dict[str, str]) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", "failures", "--all", "--json",
         "-c", str(h.config_path)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return [json.dumps(row) for row in json.loads(out.stdout) if "day" in json.dumps(row)]


def test_a_days_money_that_cannot_be_posted_is_a_failed_record_with_its_reason(
    tmp_path: Path, secret_key: str
):
    """A gateway mapped to an account the books refuse: the day's documents are posted but
    its money is not.  The run says so (a failed ``day`` record with the reason, exit
    PARKED) instead of only logging it; once the mapping is fixed, the next close posts
    the money and the record is synced."""
    from ledgerbridge.store.models import RecordState

    with woocommerce_to_zoho(tmp_path, orders=24, policy="daily_summary") as h:
        paid_everywhere(h)
        good = h.mapping_path.read_text()
        broken = good.replace(
            'paypal: {payment_mode: others, account_id: "',
            'paypal: {payment_mode: others, account_id: "9',
        )
        assert broken != good
        h.mapping_path.write_text(broken)
        report = sync(h)
        assert report.parked >= 1, report.states
        engine = h.engine()
        failed = [r for r in engine.failures([RecordState.FAILED]) if r.entity == "day"]
        assert failed, "a day whose money could not be posted must be visible"
        assert all("money" in (r.reason or "") for r in failed), [r.reason for r in failed]
        # The operator's commands show it, with what to fix: ``failures`` exits PARKED (3),
        # ``status`` counts it among the failed records.
        env = {**os.environ, "LEDGERBRIDGE_SECRET_KEY": secret_key}

        def run(*command: str) -> Any:
            return subprocess.run(
                [sys.executable, "-m", "ledgerbridge", *command, "-c", str(h.config_path)],
                env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip

        assert run("failures", "--all").returncode == 3
        shown = run("status", "--json", "--no-limits")
        [pipe] = json.loads(shown.stdout)["pipelines"]
        assert pipe["states"].get("failed", 0) >= 1, shown.stdout
        assert "payment_methods" in " ".join(shown_failures(h, env))


def test_a_days_money_left_undone_by_a_wrong_account_is_posted_once_the_mapping_is_fixed(
    tmp_path: Path,
):
    """The money's account is read from the mapping at each close (not only from what each
    order's contribution copied when it was read): fixing the mapping settles the day,
    and the day's failed record is marked synced."""
    from ledgerbridge.store.models import RecordState

    with woocommerce_to_zoho(tmp_path, orders=24, policy="daily_summary") as h:
        paid_everywhere(h)
        good = h.mapping_path.read_text()
        broken = good.replace(
            'paypal: {payment_mode: others, account_id: "',
            'paypal: {payment_mode: others, account_id: "9',
        )
        h.mapping_path.write_text(broken)
        assert sync(h).parked >= 1
        h.mapping_path.write_text(good)
        report = sync(h)
        assert report.parked == 0, report.states
        assert not [r for r in h.engine().failures([RecordState.FAILED]) if r.entity == "day"]
        assert_days_settled(h)
