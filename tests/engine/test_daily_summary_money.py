"""The money under a daily summary, proven from the Zoho Books emulator's state.

WooCommerce emulator -> engine (daily_summary) -> Zoho Books emulator.  The shop's orders
are paid through three gateways (each mapped to its own deposit account) in two
currencies over two days; a closed day whose money has all moved must end with zero
open balance on its invoices and zero remaining credit on its credit notes, to the cent,
with one payment per day, currency, tax mode and gateway.  A worker killed between two
payments of a day's close neither duplicates nor loses one; late money follows the
adjusting rule.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlmodel import select

from ledgerbridge.store import WriteIntent

from .harness import Harness, woocommerce_to_zoho
from .test_exactly_once import take_over_lease

pytestmark = pytest.mark.usefixtures("secret_key")

ZERO = Decimal(0)
GATEWAYS = ("stripe", "bacs", "paypal")


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def sync(h: Harness) -> Any:
    engine = h.engine()

    async def main() -> Any:
        async with engine:
            return await engine.sync()

    [report] = anyio.run(main)
    return report


def paid_everywhere(h: Harness) -> None:
    """Every order paid at checkout, through one of three gateways, in USD or EUR.

    The mapping gets PayPal (its own deposit account) and the EUR rate the summary
    documents and payments are written with."""
    store = h.source_app.emulator.store
    for n, (oid, order) in enumerate(sorted(store.orders.items())):
        order["payment_method"] = GATEWAYS[n % 3]
        order["currency"] = "EUR" if oid % 2 else "USD"
        if order["status"] == "awaiting-shipment":  # a plugin's status this shop does not map
            order["status"] = "processing"
        if not order.get("date_paid_gmt") and order["status"] not in ("failed", "checkout-draft"):
            order["date_paid_gmt"] = order["date_created_gmt"]
        for refund in store.refunds.get(oid, []):
            refund["refunded_payment"] = True
    paypal = h.zoho.emulator.state.ids.next()
    h.org.bank_accounts[paypal] = {
        **next(iter(h.org.bank_accounts.values())),
        "account_id": paypal,
        "account_name": "PayPal Clearing",
    }
    text = h.mapping_path.read_text()
    text = text.replace(
        "      bacs:",
        f'      paypal: {{payment_mode: others, account_id: "{paypal}"}}\n      bacs:',
    )
    text += "  currencies:\n    exchange_rates: {EUR: 1.08}\n"
    h.mapping_path.write_text(text)


def summary_documents(h: Harness, kind: str, label: str) -> list[dict[str, Any]]:
    return [
        d
        for d in getattr(h.org, kind).values()
        if d["reference_number"].startswith(label) and d.get("status") != "void"
    ]


def assert_days_settled(h: Harness, *, refunds: bool = True) -> None:
    """Every summary invoice paid to zero, every summary credit note refunded to zero."""
    invoices = summary_documents(h, "invoices", "Sales ")
    notes = summary_documents(h, "creditnotes", "Refunds ") if refunds else []
    assert invoices and (notes or not refunds)
    for invoice in invoices:
        assert dec(invoice["balance"]) == ZERO, (invoice["reference_number"], invoice["balance"])
        assert invoice["status"] == "paid", invoice["reference_number"]
    for note in notes:
        assert dec(note["balance"]) == ZERO, (note["reference_number"], note["balance"])
        assert note["status"] == "closed", note["reference_number"]


def source_money(
    h: Harness,
) -> tuple[dict[tuple[str, str], Decimal], dict[tuple[str, str], Decimal]]:
    """Money in and out per (currency, gateway), from the shop's raw orders."""
    paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    back: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    store = h.source_app.emulator.store
    for oid, order in store.orders.items():
        if order["status"] in ("failed", "checkout-draft", "trash"):
            continue
        key = (order["currency"], order["payment_method"])
        if order.get("date_paid_gmt"):
            paid[key] += dec(order["total"])
        for refund in store.refunds.get(oid, []):
            if refund.get("refunded_payment"):
                back[key] += dec(refund["amount"])
    return paid, back


def test_closed_days_end_with_zero_open_balance_per_gateway_and_currency(tmp_path: Path):
    with woocommerce_to_zoho(tmp_path, orders=24, policy="daily_summary") as h:
        paid_everywhere(h)
        report = sync(h)
        assert report.writes > 0
        assert_days_settled(h)

        payments = [
            p for p in h.org.payments.values() if p["reference_number"].startswith("Sales ")
        ]
        # One payment per day x currency x tax mode x gateway, in the gateway's account.
        per_key = Counter((p["reference_number"], p["payment_mode"]) for p in payments)
        assert set(per_key.values()) == {1}, per_key
        currencies = {p["currency_code"] for p in payments}
        assert currencies == {"USD", "EUR"}
        modes = {p["payment_mode"] for p in payments}
        assert modes == {"creditcard", "banktransfer", "others"}
        accounts = {p["payment_mode"]: p["account_id"] for p in payments}
        assert accounts["creditcard"] == h.account_id("Stripe Clearing")
        assert accounts["banktransfer"] == h.account_id("Business Checking")
        assert accounts["others"] == h.account_id("PayPal Clearing")
        days = {p["reference_number"].split()[1] for p in payments}
        assert len(days) == 2, days

        # The books' money equals the shop's, per currency and gateway, to the cent.
        paid, back = source_money(h)
        mode_of = {"stripe": "creditcard", "bacs": "banktransfer", "paypal": "others"}
        booked: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for p in payments:
            booked[(p["currency_code"], p["payment_mode"])] += dec(p["amount"])
        assert booked == {(c, mode_of[g]): v for (c, g), v in paid.items() if v}
        refunds = [r for n in summary_documents(h, "creditnotes", "Refunds ")
                   for r in n.get("_refund_rows", [])]  # fmt: skip
        assert sum((dec(r["amount"]) for r in refunds), ZERO) == sum(back.values(), ZERO)
        assert all(dec(p["unused_amount"]) == ZERO for p in payments)

        before = len(h.org.payments)
        assert sync(h).writes == 0  # a closed, settled day writes nothing again
        assert len(h.org.payments) == before


def reference_of(order: dict[str, Any]) -> str:
    """The reference of the summary invoice an order is in (its day, currency, tax mode)."""
    mode = " (tax incl.)" if order["prices_include_tax"] else ""
    return f"Sales {order['date_created_gmt'][:10]} {order['currency']}{mode}"


def unpaid_total(h: Harness, reference: str) -> Decimal:
    """What the shop's orders of one summary invoice still owe."""
    return sum(
        (
            dec(o["total"])
            for o in h.source_app.emulator.store.orders.values()
            if not o.get("date_paid_gmt")
            and o["status"] not in ("failed", "checkout-draft", "trash", "cancelled")
            and reference_of(o) == reference
        ),
        ZERO,
    )


def test_late_money_of_a_closed_day_is_an_adjusting_payment_and_a_late_cancel_is_applied(
    tmp_path: Path,
):
    """Orders unpaid when their day closed are paid days later: an adjusting payment for
    the day, dated the capture's day, applied to the day's invoice (never rewritten); an
    unpaid order cancelled after the close: its adjusting credit note is applied to what
    the invoice still owes.  The day then owes nothing."""
    with woocommerce_to_zoho(tmp_path, orders=24, policy="daily_summary") as h:
        store = h.source_app.emulator.store
        for order in store.orders.values():
            if order["status"] == "awaiting-shipment":  # a plugin's status this shop lacks
                order["status"] = "processing"
        sync(h)
        invoices = {i["reference_number"]: i for i in summary_documents(h, "invoices", "Sales ")}
        assert len(invoices) >= 3
        for reference, invoice in invoices.items():  # open by exactly what is unpaid
            assert dec(invoice["balance"]) == unpaid_total(h, reference), reference
        unpaid = [
            oid for oid, o in store.orders.items()
            if not o.get("date_paid_gmt") and o["status"] in ("on-hold", "pending")
        ]  # fmt: skip
        assert len(unpaid) >= 2
        cancelled, paid_late = unpaid[0], unpaid[1:]
        payments_before = set(h.org.payments)
        for oid in paid_late:
            anyio.run(
                lambda oid=oid: h.source_app.emulator.touch_order(
                    oid, status="processing", date_paid_gmt="2026-03-04T09:30:00"
                )
            )
        anyio.run(lambda: h.source_app.emulator.touch_order(cancelled, status="cancelled"))
        sync(h)

        late = [h.org.payments[p] for p in set(h.org.payments) - payments_before]
        assert late and all(p["date"] == "2026-03-04" for p in late)
        assert all(p["payment_mode"] == "banktransfer" for p in late)  # the orders' gateway
        for reference, invoice in invoices.items():
            now = h.org.invoices[invoice["invoice_id"]]
            assert dec(now["total"]) == dec(invoice["total"])  # never rewritten
            assert dec(now["balance"]) == ZERO, (reference, now["balance"])
        # WooCommerce dates an order by its payment: the late-paid order moved to its
        # payment's day (a new summary, paid by the late payment), and left its old day
        # -- like the cancelled one -- through an adjusting credit note, applied to the
        # old day's invoice.
        adjusting = [
            n for n in h.org.creditnotes.values() if "adjustment" in n["reference_number"].lower()
        ]
        assert sorted(dec(n["total"]) for n in adjusting) == sorted(
            dec(store.orders[oid]["total"]) for oid in unpaid
        )
        assert all(dec(n["balance"]) == ZERO for n in adjusting)
        assert_days_settled(h, refunds=False)
        assert sync(h).writes == 0


class KillOnSecondPayment:
    """ASGI wrapper: the second customer payment is committed by Zoho, then the worker is
    SIGKILLed before the answer reaches it -- between two payments of one day's close."""

    def __init__(self, app: Any, worker: dict[str, int]) -> None:
        self.app, self.worker, self.seen = app, worker, 0
        self.emulator = getattr(app, "emulator", None)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        hit = (
            scope.get("type") == "http"
            and scope.get("method") == "POST"
            and scope.get("path", "").endswith("/customerpayments")
        )
        if hit:
            self.seen += 1
        if not hit or self.seen != 2 or "pid" not in self.worker:
            await self.app(scope, receive, send)
            return

        async def swallow(message: Any) -> None:
            return None

        await self.app(scope, receive, swallow)  # committed server-side
        os.kill(self.worker["pid"], signal.SIGKILL)
        await asyncio.sleep(0.2)


def test_a_worker_killed_between_two_payments_of_a_close_neither_duplicates_nor_loses(
    tmp_path: Path, secret_key: str
):
    worker: dict[str, int] = {}
    with woocommerce_to_zoho(
        tmp_path, orders=12, policy="daily_summary",
        wrap_zoho=lambda app: KillOnSecondPayment(app, worker),
    ) as h:  # fmt: skip
        paid_everywhere(h)
        cmd = [sys.executable, "-m", "ledgerbridge", "sync", "-c", str(h.config_path)]
        env = {**os.environ, "LEDGERBRIDGE_SECRET_KEY": secret_key}
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        worker["pid"] = first.pid
        first.wait(timeout=120)
        assert first.returncode == -signal.SIGKILL
        assert len(h.org.payments) == 2  # the second one reached Zoho, unrecorded
        take_over_lease(h.store())
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        payments = [
            p for p in h.org.payments.values() if p["reference_number"].startswith("Sales ")
        ]
        markers = Counter(p["description"].split()[1] for p in payments)
        assert set(markers.values()) == {1}, markers  # no payment twice
        assert_days_settled(h)  # none lost


def test_a_lost_refund_answer_at_close_is_adopted_not_refunded_twice(tmp_path: Path):
    """Zoho commits a summary credit note's refund, the answer is lost and Zoho is gone
    (the worker's death): the next run reads the note's refunds, adopts it by its own key,
    and refunds the other gateways' money once each."""
    from ledgerbridge.sandbox import TrapInjector, WriteTrap

    from .test_adoption import API, crashed_then_rerun, trapped

    trap = WriteTrap("POST", rf"{API}/creditnotes/\d+/refunds", lose=True, then_outage=True)
    holder: dict[str, TrapInjector] = {}
    with woocommerce_to_zoho(
        tmp_path, orders=24, policy="daily_summary", wrap_zoho=trapped(holder, trap)
    ) as h:
        paid_everywhere(h)
        crashed_then_rerun(h, holder["traps"], trap)
        refunds = [
            r
            for n in summary_documents(h, "creditnotes", "Refunds ")
            for r in n.get("_refund_rows", [])
        ]
        markers = Counter(r["description"] for r in refunds)
        assert markers and set(markers.values()) == {1}, markers
        assert trap.fired[0]["description"] in markers  # the lost one, adopted
        with h.store().session() as s:
            intents = s.exec(select(WriteIntent)).all()
        adopted = [i.key for i in intents if i.status == "adopted"]
        assert len(adopted) == 1 and "summary_refund|" in adopted[0], adopted
        assert_days_settled(h)
        assert sync(h).writes == 0
