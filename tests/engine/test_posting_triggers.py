"""Posting triggers and authorisations vs captures, Shopify emulator -> Zoho Books emulator.

Books are read from the Zoho emulator's state: what was written, not what the engine says.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledgerbridge.store import RecordState

from .harness import shopify_to_zoho
from .shopify_scenarios import run, seeded, set_trigger, single_currency, total, touch, txn

pytestmark = pytest.mark.usefixtures("secret_key")


def binding(engine, entity, external_id, kind):
    return engine.store.get_xref("acme", "acme/shop", entity, external_id, "acme/books", kind)


def record_of(engine, external_id):
    return next(r for r in engine.failures(list(RecordState)) if r.external_id == external_id)


def test_paid_trigger_waits_for_a_capture_then_posts_and_a_void_or_cancel_posts_nothing(
    tmp_path: Path,
):
    with shopify_to_zoho(tmp_path, orders=12) as h:
        set_trigger(h, "paid")
        unpaid, authorised, voided, cancelled = single_currency(h)[:4]
        rec = seeded(h, unpaid)
        oid = rec["legacyResourceId"]
        touch(h, unpaid, transactions=[], displayFinancialStatus="PENDING")
        arec = seeded(h, authorised)
        auth = txn(arec, 1, "AUTHORIZATION", total(arec))
        touch(h, authorised, transactions=[auth], displayFinancialStatus="AUTHORIZED")
        vrec = seeded(h, voided)
        vauth = txn(vrec, 1, "AUTHORIZATION", total(vrec))
        void = txn(vrec, 2, "VOID", total(vrec), parent=vauth["id"])
        touch(h, voided, transactions=[vauth, void], displayFinancialStatus="VOIDED")
        touch(h, cancelled, transactions=[], displayFinancialStatus="PENDING",
              cancelledAt=rec["createdAt"], cancelReason="CUSTOMER")  # fmt: skip

        [report], engine = run(h)
        assert report.states["waiting"] >= 2
        waiting = record_of(engine, oid)
        assert waiting.state == "waiting" and "payment" in waiting.reason
        held = record_of(engine, arec["legacyResourceId"])
        assert held.state == "waiting" and "authorised, not captured" in held.reason
        for n in (voided, cancelled):
            r = record_of(engine, seeded(h, n)["legacyResourceId"])
            assert r.state == "skipped", (n, r.reason)
        posted = {i["reference_number"] for i in h.documents()}
        for n in (unpaid, authorised, voided, cancelled):
            assert seeded(h, n)["name"] not in posted
        assert engine.failures([RecordState.WAITING])  # ``failures --state waiting``

        # Paid later: the unpaid order by one sale; the authorised one captured in two parts.
        touch(h, unpaid, transactions=[txn(rec, 1, "SALE", total(rec))])
        first = (total(arec) / 3).quantize(Decimal("0.01"))
        captures = [
            txn(arec, 2, "CAPTURE", first, parent=auth["id"]),
            txn(arec, 3, "CAPTURE", total(arec) - first, parent=auth["id"]),
        ]
        touch(h, authorised, transactions=[auth, *captures], displayFinancialStatus="PAID")
        run(h)
        for n, txns in ((unpaid, 1), (authorised, 2)):
            order = seeded(h, n)
            invoice = binding(engine, "order", order["legacyResourceId"], "invoice")
            doc = h.org.invoices[invoice.target_id]
            assert Decimal(str(doc["total"])) == total(order)
            pays = [p for p in h.org.payments.values() if any(
                a["invoice_id"] == invoice.target_id for a in p["invoices"])]  # fmt: skip
            assert len(pays) == txns
            assert sum(Decimal(str(p["amount"])) for p in pays) == total(order)
            assert Decimal(str(doc["balance"])) == 0
        # The authorisation itself is never booked: two captures, two payments, no more.
        assert binding(engine, "payment", auth["id"].rsplit("/", 1)[1], "customer_payment") is None


def test_gift_card_payment_lands_in_the_mapped_liability_account_not_cash(tmp_path: Path):
    with shopify_to_zoho(tmp_path, orders=12) as h:
        liability = h.zoho.emulator.state.ids.next()
        h.org.accounts[liability] = {
            "account_id": liability, "account_name": "Gift Card Liability", "account_code": "",
            "account_type": "other_current_liability", "is_active": True, "parent_account_id": "",
        }  # fmt: skip
        h.write_mapping(h.mapping_path.read_text().replace(
            f'gift_card: {{payment_mode: others, account_id: "{h.account_id("Stripe Clearing")}"}}',
            f'gift_card: {{payment_mode: others, account_id: "{liability}"}}',
        ))  # fmt: skip
        assert liability in h.mapping_path.read_text()
        n = single_currency(h)[0]
        rec = seeded(h, n)
        card = Decimal("10.00")
        touch(h, n, transactions=[
            txn(rec, 1, "SALE", card, gateway="gift_card"),
            txn(rec, 2, "SALE", total(rec) - card),
        ])  # fmt: skip
        _, engine = run(h)
        invoice = binding(engine, "order", rec["legacyResourceId"], "invoice")
        pays = [p for p in h.org.payments.values() if any(
            a["invoice_id"] == invoice.target_id for a in p["invoices"])]  # fmt: skip
        by_account = {p["account_id"]: Decimal(str(p["amount"])) for p in pays}
        assert by_account[liability] == card
        assert by_account[h.account_id("Stripe Clearing")] == total(rec) - card
        assert Decimal(str(h.org.invoices[invoice.target_id]["balance"])) == 0
