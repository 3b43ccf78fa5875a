"""A day's money write whose answer was lost, then more money of that day before the rerun.

The rerun adopts the lost write by its key; what the books hold is the *adopted* amount,
so the binding must say that amount -- not the larger one the rerun meant to write --
or the rest of the day's money is never posted and the day never reaches zero.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

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
