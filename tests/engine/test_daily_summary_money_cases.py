"""The money of a daily summary in the cases the first tests did not reach, proven from
the Zoho Books emulator's books.

WooCommerce emulator -> engine (daily_summary) -> Zoho Books emulator:

* a partial refund of a day whose sales came in through two gateways: each gateway's
  money goes back out of its own mapped account;
* a day in yen (zero-decimal currency): no fractional amount reaches the books, and the
  documents, payments and refunds equal the shop's sums exactly;
* a day with refunds of earlier days' orders and no sales: its credit note is refunded,
  no invoice is written, nothing is left open;
* a refund of an already-closed day: an adjusting credit note, refunded, the posted note
  never rewritten.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge_woocommerce.emulator.data import add_refund, dates

from .harness import Harness, woocommerce_to_zoho
from .test_daily_summary_money import ZERO, dec, summary_documents, sync

pytestmark = pytest.mark.usefixtures("secret_key")

DAY = "2026-03-01"


def add_paypal(h: Harness) -> str:
    """PayPal gets its own clearing account in the books and in the mapping."""
    paypal = h.zoho.emulator.state.ids.next()
    h.org.bank_accounts[paypal] = {
        **next(iter(h.org.bank_accounts.values())),
        "account_id": paypal,
        "account_name": "PayPal Clearing",
    }
    text = h.mapping_path.read_text().replace(
        "      bacs:",
        f'      paypal: {{payment_mode: others, account_id: "{paypal}"}}\n      bacs:',
    )
    h.mapping_path.write_text(text)
    return paypal


def one_day_two_gateways(h: Harness) -> list[int]:
    """The shop's tax-exclusive orders of one day, all paid, alternately by card (Stripe)
    and PayPal, none refunded yet.  Returns their ids, oldest first."""
    store = h.source_app.emulator.store
    kept = []
    for oid, order in sorted(store.orders.items()):
        if order["prices_include_tax"] or order["status"] not in ("processing", "completed"):
            del store.orders[oid]
            continue
        assert order["date_created_gmt"].startswith(DAY)
        order["payment_method"] = ("stripe", "paypal")[len(kept) % 2]
        order["date_paid_gmt"] = order["date_paid_gmt"] or order["date_created_gmt"]
        for refund in store.refunds.pop(oid, []):
            order["total"] = order["total"]  # the seed's refunds are dropped with their rows
            del refund
        order["refunds"] = []
        order["status"] = "processing"
        kept.append(oid)
    return kept


def refund(h: Harness, oid: int, kind: str, when: str) -> dict[str, Any]:
    """A refund of order ``oid`` dated ``when`` (money returned), seen as a change."""
    store = h.source_app.emulator.store
    order = store.orders[oid]
    # WooCommerce stamps in whole seconds, and an order read at the source's mark is not
    # read again at that same second: a second change waits for the next one, as a shop's
    # would come later.
    previous = datetime.fromisoformat(order["date_modified_gmt"]).replace(tzinfo=UTC)
    while h.source_app.emulator.now() <= previous:
        time.sleep(0.05)
    row = add_refund(store, order, kind, datetime.fromisoformat(when).replace(tzinfo=UTC))
    row["refunded_payment"] = True
    order.update(dates("date_modified", h.source_app.emulator.now()))
    return row


def refund_rows(h: Harness, label: str = "Refunds ") -> list[dict[str, Any]]:
    return [
        r for n in summary_documents(h, "creditnotes", label) for r in n.get("_refund_rows", [])
    ]


def gateway_of(row: dict[str, Any]) -> str:
    """The gateway a money write was made for, from the key it carries (``...:<gateway>:<n>``)."""
    key = row["description"].split("[ledgerbridge ")[1].rstrip("]")
    return key.split(":")[-2]


def shop_money(h: Harness) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Money in and out per gateway, from the shop's raw orders."""
    paid: dict[str, Decimal] = defaultdict(Decimal)
    back: dict[str, Decimal] = defaultdict(Decimal)
    store = h.source_app.emulator.store
    for oid, order in store.orders.items():
        paid[order["payment_method"]] += dec(order["total"])
        for row in store.refunds.get(oid, []):
            back[order["payment_method"]] += dec(row["amount"])
    return dict(paid), dict(back)


def assert_nothing_open(h: Harness) -> None:
    """Every summary invoice paid to zero, every summary credit note refunded to zero, no
    payment left with unapplied money."""
    for invoice in summary_documents(h, "invoices", "Sales"):
        assert dec(invoice["balance"]) == ZERO, (invoice["reference_number"], invoice["balance"])
        assert invoice["status"] == "paid", invoice["reference_number"]
    for note in summary_documents(h, "creditnotes", "Refunds"):
        assert dec(note["balance"]) == ZERO, (note["reference_number"], note["balance"])
        assert note["status"] == "closed", note["reference_number"]
    for payment in h.org.payments.values():
        assert dec(payment["unused_amount"]) == ZERO, payment["reference_number"]


def test_a_partial_refund_of_a_two_gateway_day_goes_back_through_each_gateways_account(
    tmp_path: Path,
):
    with woocommerce_to_zoho(tmp_path, orders=6, policy="daily_summary") as h:
        paypal = add_paypal(h)
        stripe = h.account_id("Stripe Clearing")
        orders = one_day_two_gateways(h)
        assert len(orders) >= 4
        by_card, by_paypal = orders[0], orders[1]
        refund(h, by_card, "partial", f"{DAY}T20:00:00")  # one unit of its first line
        refund(h, by_paypal, "partial", f"{DAY}T21:00:00")
        refund(h, by_paypal, "amount", f"{DAY}T22:00:00")  # and 5.00 goodwill
        sync(h)

        paid, back = shop_money(h)
        [invoice] = summary_documents(h, "invoices", f"Sales {DAY}")
        assert dec(invoice["total"]) == sum(paid.values(), ZERO)
        [note] = summary_documents(h, "creditnotes", f"Refunds {DAY}")
        assert dec(note["total"]) == sum(back.values(), ZERO)

        payments = list(h.org.payments.values())
        assert {p["account_id"]: dec(p["amount"]) for p in payments} == {
            stripe: paid["stripe"],
            paypal: paid["paypal"],
        }
        rows = refund_rows(h)
        assert len(rows) == 2, rows  # one refund per gateway
        per_gateway = {gateway_of(r): (r["from_account_id"], dec(r["amount"])) for r in rows}
        assert per_gateway == {
            "stripe": (stripe, back["stripe"]),
            "paypal": (paypal, back["paypal"]),
        }
        assert {r["refund_mode"] for r in rows} == {"creditcard", "others"}
        assert_nothing_open(h)
        assert sync(h).writes == 0


def test_a_refunds_only_day_gets_its_credit_note_refunded_and_no_invoice(tmp_path: Path):
    """Refunds on 2026-03-04 of 2026-03-01's orders, and no sale on the 4th: the 4th's
    credit note is refunded per gateway, the 4th has no invoice and no payment, and both
    days end with nothing open."""
    with woocommerce_to_zoho(tmp_path, orders=6, policy="daily_summary") as h:
        paypal = add_paypal(h)
        stripe = h.account_id("Stripe Clearing")
        orders = one_day_two_gateways(h)
        sync(h)  # the 1st is posted and paid
        assert_nothing_open(h)
        refund(h, orders[0], "partial", "2026-03-04T10:00:00")
        refund(h, orders[1], "full", "2026-03-04T11:00:00")
        sync(h)

        assert not summary_documents(h, "invoices", "Sales 2026-03-04")
        assert not [p for p in h.org.payments.values() if "2026-03-04" in p["reference_number"]]
        [note] = summary_documents(h, "creditnotes", "Refunds 2026-03-04")
        _, back = shop_money(h)
        assert dec(note["total"]) == sum(back.values(), ZERO)
        per_gateway = {gateway_of(r): (r["from_account_id"], dec(r["amount"]), r["date"])
                       for r in note["_refund_rows"]}  # fmt: skip
        assert per_gateway == {
            "stripe": (stripe, back["stripe"], "2026-03-04"),
            "paypal": (paypal, back["paypal"], "2026-03-04"),
        }
        # The 1st was paid in full when it closed: its invoice is not touched by the refunds.
        [invoice] = summary_documents(h, "invoices", f"Sales {DAY}")
        assert not invoice.get("_credits")
        assert_nothing_open(h)
        assert sync(h).writes == 0


def test_a_refund_of_an_already_closed_day_is_an_adjusting_credit_note_refunded(
    tmp_path: Path,
):
    """A refund dated on a day whose refunds were already posted and paid back arrives
    after the close: the posted credit note is never rewritten, an adjusting credit note
    carries the difference and is refunded through the refund's own gateway."""
    with woocommerce_to_zoho(tmp_path, orders=6, policy="daily_summary") as h:
        paypal = add_paypal(h)
        orders = one_day_two_gateways(h)
        refund(h, orders[0], "partial", "2026-03-02T10:00:00")
        sync(h)
        [note] = summary_documents(h, "creditnotes", "Refunds 2026-03-02")
        before = (dec(note["total"]), len(note["_refund_rows"]))
        assert dec(note["balance"]) == ZERO

        # Found late: a PayPal refund of the 2nd (already closed), and a second card one.
        refund(h, orders[1], "amount", "2026-03-02T18:00:00")
        refund(h, orders[0], "amount", "2026-03-02T19:00:00")
        sync(h)

        notes = summary_documents(h, "creditnotes", "Refunds")
        assert (dec(note["total"]), len(note["_refund_rows"])) == before  # never rewritten
        [adjusting] = [n for n in notes if n is not note]
        assert adjusting["reference_number"].startswith("Refunds adjustment 1 2026-03-02")
        assert dec(adjusting["total"]) == Decimal("10.00")
        per_gateway = {gateway_of(r): (r["from_account_id"], dec(r["amount"]))
                       for r in adjusting["_refund_rows"]}  # fmt: skip
        assert per_gateway == {
            "paypal": (paypal, Decimal("5.00")),
            "stripe": (h.account_id("Stripe Clearing"), Decimal("5.00")),
        }
        assert_nothing_open(h)
        assert sync(h).writes == 0
