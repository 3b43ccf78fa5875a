"""No write whose outcome is unknown is re-sent before the target was read -- every write kind.

A credit-note refund, a credit application or a payment whose answer is lost (or that
Zoho may or may not have processed before the worker died) is read back from Zoho --
the note's refunds, the note's credited invoices, the payments by reference and the
key they carry -- and adopted when found; written only when it certainly did not happen.
Verified from the Zoho Books emulator's state: exactly one refund, application or
payment each, every record synced, no money difference.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlmodel import select

from ledgerbridge.sandbox import TrapInjector, WriteTrap
from ledgerbridge.store import AuditEvent, RecordState, WriteIntent

from .books import check_books, source_orders
from .harness import Harness, shopify_to_zoho, woocommerce_to_zoho
from .test_adoption import API, crashed_then_rerun, sync, trapped

pytestmark = pytest.mark.usefixtures("secret_key")


def intents(h: Harness, operation: str) -> list[WriteIntent]:
    with h.store().session() as s:
        return list(s.exec(select(WriteIntent).where(WriteIntent.operation == operation)).all())


def audit_outcomes(h: Harness, operation: str) -> list[str]:
    with h.store().session() as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.operation == operation)).all()
        return [e.outcome for e in rows]


def note_of(h: Harness, path: str) -> dict[str, Any]:
    note_id = path.split("/")[4]
    return h.org.creditnotes[note_id]


# ----------------------------------------------------------------------------- refunds


@pytest.mark.parametrize("then_outage", [False, True], ids=["lost-answer", "worker-died"])
def test_a_refund_whose_answer_was_lost_is_found_on_the_note_not_sent_twice(
    tmp_path: Path, then_outage: bool
):
    """Zoho commits the refund and the answer never arrives. Re-sending it would refund the
    money twice (or, for a full refund, be refused and park the order with the refund
    in the books). Read from the note's refunds, it is adopted: one refund, record synced."""
    trap = WriteTrap("POST", rf"{API}/creditnotes/\d+/refunds", lose=True, then_outage=then_outage)
    holder: dict[str, TrapInjector] = {}
    with shopify_to_zoho(tmp_path, orders=30, wrap_zoho=trapped(holder, trap)) as h:
        orders = source_orders(h)
        if then_outage:
            crashed_then_rerun(h, holder["traps"], trap)
        else:
            _, engine = sync(h)
            assert trap.fired
            assert engine.failures([RecordState.RETRYING, RecordState.FAILED]) == []
        [path] = trap.paths
        note = note_of(h, path)
        assert note["_refunds"] == [Decimal(str(trap.fired[0]["amount"]))]  # refunded once
        assert all(len(n.get("_refunds", [])) <= 1 for n in h.org.creditnotes.values())
        assert note["balance"] == 0 and note["status"] == "closed"
        [intent] = [i for i in intents(h, "refund_credit") if i.status == "adopted"]
        assert intent.target_id
        assert "adopted" in audit_outcomes(h, "refund_credit")
        assert check_books(h, orders) >= 20
        report, _ = sync(h)
        assert report.writes == 0


# ----------------------------------------------------------------------------- applications


def unpaid_order_with_a_credit_only_refund(h: Harness) -> int:
    """An on-hold (unpaid) WooCommerce order refunds one unit without moving money: its
    credit note is applied to the open invoice (``apply_credit``)."""
    from ledgerbridge_woocommerce.emulator.data import add_refund

    store = h.source_app.emulator.store
    oid = next(o for o, order in store.orders.items() if order["status"] == "on-hold")
    order = store.orders[oid]
    when = h.source_app.emulator.now() - timedelta(minutes=1)
    add_refund(store, order, "partial", when, moves_money=False)
    return oid


@pytest.mark.parametrize("then_outage", [False, True], ids=["lost-answer", "worker-died"])
def test_a_credit_application_whose_answer_was_lost_is_found_not_applied_twice(
    tmp_path: Path, then_outage: bool, db_url: str
):
    trap = WriteTrap("POST", rf"{API}/creditnotes/\d+/invoices", lose=True, then_outage=then_outage)
    holder: dict[str, TrapInjector] = {}
    with woocommerce_to_zoho(
        tmp_path, orders=12, wrap_zoho=trapped(holder, trap), db_url=db_url
    ) as h:
        oid = unpaid_order_with_a_credit_only_refund(h)
        orders = source_orders(h)
        if then_outage:
            crashed_then_rerun(h, holder["traps"], trap)
        else:
            _, engine = sync(h)
            assert trap.fired
            assert engine.failures([RecordState.RETRYING, RecordState.FAILED]) == []
        order = orders[str(oid)]
        [refund] = order.refunds
        [note] = [n for n in h.org.creditnotes.values() if n["reference_number"] == order.number]
        [invoice] = [i for i in h.org.invoices.values() if i["reference_number"] == order.number]
        credit = refund.credit_total.amount
        assert note["_applied"] == {invoice["invoice_id"]: credit}  # applied once
        assert invoice["balance"] == Decimal(str(invoice["total"])) - credit
        assert note["balance"] == 0 and note["status"] == "closed"
        assert [i.status for i in intents(h, "apply_credit")] == ["adopted"]
        assert check_books(h, orders) >= 6
        report, _ = sync(h)
        assert report.writes == 0


# ----------------------------------------------------------------------------- payments


def order_paid_in_two_equal_parts(h: Harness) -> str:
    """Split one order's sale into two captures of the same amount: the two payments share
    the order's reference_number and amount, so only the key they carry tells them apart."""
    shop = h.source_app.shop
    for n in range(1, 30):
        order = shop.orders.get(shop.seeder.order_id(n))
        if order is None or order.get("refunds") or order["displayFinancialStatus"] != "PAID":
            continue
        [sale] = [t for t in order["transactions"] if t["kind"] in ("SALE", "CAPTURE")][-1:]
        if sale["test"]:
            continue
        shop_money = sale["amountSet"]["shopMoney"]
        presented = sale["amountSet"]["presentmentMoney"]
        total = Decimal(shop_money["amount"])
        if presented != shop_money or (total * 100) % 2:
            continue
        half = total / 2
        money = {**shop_money, "amount": str(half)}
        parts = [
            {
                **sale,
                "kind": "SALE",
                "parentTransaction": None,
                "id": f"{sale['id']}{k}",
                "paymentId": f"{sale['paymentId']}-{k}",
                "amountSet": {"shopMoney": money, "presentmentMoney": money},
            }
            for k in (1, 2)
        ]
        shop.touch_order(n, transactions=parts)
        return order["name"]
    raise AssertionError("no order to split in the seed")


@pytest.mark.parametrize("lose", [False, True], ids=["refused-then-died", "lost-then-died"])
def test_the_second_of_two_equal_payments_is_told_apart_by_its_key(tmp_path: Path, lose: bool):
    """The second payment's outcome is unknown when the worker dies. Found by the order's
    reference alone, the first payment would be taken for it and the invoice left half
    paid; matched by the key each payment carries, the second is adopted if Zoho has it
    and written if not -- exactly two payments either way."""
    sent: list[str] = []

    def second_payment(body: Any) -> bool:
        sent.append(body.get("reference_number"))
        return sent.count(reference) == 2

    trap = WriteTrap("POST", f"{API}/customerpayments", when=second_payment, lose=lose,
                     then_outage=True)  # fmt: skip
    holder: dict[str, TrapInjector] = {}
    with shopify_to_zoho(tmp_path, orders=30, wrap_zoho=trapped(holder, trap)) as h:
        reference = order_paid_in_two_equal_parts(h)
        orders = source_orders(h)
        crashed_then_rerun(h, holder["traps"], trap)
        [invoice] = [i for i in h.org.invoices.values() if i["reference_number"] == reference]
        paid = [
            p
            for p in h.org.payments.values()
            if any(a["invoice_id"] == invoice["invoice_id"] for a in p["invoices"])
        ]
        assert len(paid) == 2 and invoice["balance"] == 0 and invoice["status"] == "paid"
        statuses = sorted(i.status for i in intents(h, "record_payment"))
        assert statuses.count("adopted") == (1 if lose else 0)
        assert check_books(h, orders) >= 20
        report, _ = sync(h)
        assert report.writes == 0


# ----------------------------------------------------------------------------- updates


def test_an_update_whose_answer_was_lost_is_sent_again_not_taken_for_a_conflict(tmp_path: Path):
    """The update's PUT lands, its answer is lost and the worker dies. The invoice's
    last-modified time is now our own unrecorded write's: re-sending the (whole-document,
    repeatable) update is right; calling it an edit in Zoho would park the order."""
    trap = WriteTrap("PUT", rf"{API}/invoices/\d+", lose=True, then_outage=True, times=0)
    holder: dict[str, TrapInjector] = {}
    with woocommerce_to_zoho(tmp_path, orders=12, wrap_zoho=trapped(holder, trap)) as h:
        sync(h)
        store = h.source_app.emulator.store
        oid = next(o for o, order in store.orders.items() if order["status"] == "on-hold")
        anyio.run(lambda: h.source_app.emulator.touch_order(oid, customer_note="Gift wrap"))
        trap.times = 1
        crashed_then_rerun(h, holder["traps"], trap)
        [invoice] = [i for i in h.org.invoices.values() if i["reference_number"] == str(oid)]
        assert invoice["notes"] == "Gift wrap"
        assert [i.status for i in intents(h, "update_document")] == ["done"]
        assert check_books(h, source_orders(h)) >= 6


def test_a_refused_read_after_a_lost_refund_leaves_its_intent_pending(tmp_path: Path):
    """The refund's answer is lost, then the credentials die before the note's refunds can
    be read. The refusal is the read's, not the refund's -- which Zoho has: the intent must
    stay pending (never "changed nothing"), so the next attempt reads before writing."""
    trap = WriteTrap("POST", rf"{API}/creditnotes/\d+/refunds", lose=True)
    holder: dict[str, TrapInjector] = {}
    with shopify_to_zoho(tmp_path, orders=8, wrap_zoho=trapped(holder, trap)) as h:

        async def revoke() -> None:
            h.zoho.emulator.state.expire_access_tokens()
            h.zoho.emulator.state.revoke_refresh_tokens()

        trap.after = revoke
        sync(h)
        assert trap.fired
        note = note_of(h, trap.paths[0])
        assert len(note["_refunds"]) == 1  # the refund exists in Zoho
        assert [i.status for i in intents(h, "refund_credit")] == ["pending"]
        assert audit_outcomes(h, "refund_credit") == ["unknown"]


# ----------------------------------------------------------------------------- at random


def test_answers_lost_at_random_on_every_write_kind_park_nothing_and_keep_the_books(
    tmp_path: Path,
):
    """One Zoho answer in ten is lost after the write committed -- documents, payments,
    credit notes, refunds, contacts, items alike. Every write is read back instead of
    re-sent: no record parked, no duplicate, books to the cent, the adoptions recorded."""
    with shopify_to_zoho(tmp_path, orders=100) as h:
        orders = source_orders(h)
        h.zoho_faults.lose_response_rate = 0.10
        h.zoho_faults._rng.seed(2)
        _, engine = sync(h)
        h.zoho_faults.lose_response_rate = 0
        assert engine.failures([RecordState.RETRYING, RecordState.FAILED]) == []
        with h.store().session() as s:
            statuses = [i.status for i in s.exec(select(WriteIntent)).all()]
        assert statuses.count("adopted") >= 5 and "failed" not in statuses
        assert "pending" not in statuses
        assert check_books(h, orders) >= 80
        report, _ = sync(h)
        assert report.writes == 0
