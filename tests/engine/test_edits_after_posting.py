"""Edits after posting, Shopify emulator -> Zoho Books emulator (placed trigger): a paid
invoice stays as posted and the edit is posted beside it (credit note for removed units,
supplementary invoice for an added line); an unpaid one is updated; an order edited before
it was ever posted posts (no totals mismatch).  Books read from the Zoho emulator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerbridge.store import RecordState
from ledgerbridge_shopify.emulator.edits import add_line, remove_units

from .harness import shopify_to_zoho
from .shopify_scenarios import run, seeded, single_currency, total, touch

pytestmark = pytest.mark.usefixtures("secret_key")

EDITED = ("lineItems", "subtotalPriceSet", "totalTaxSet", "totalPriceSet", "taxLines")


def edit(h, n, record):
    touch(h, n, **{k: record[k] for k in EDITED})


def mine(h, kind, name):
    return [d for d in h.documents(kind) if str(d["reference_number"]).startswith(name)]


def _candidate(h, skip=()):
    return next(
        n for n in single_currency(h, lines=1, skip=skip)
        if int(seeded(h, n)["lineItems"][0]["quantity"]) >= 2 and seeded(h, n)["transactions"]
    )  # fmt: skip


def test_edit_of_a_paid_invoice_posts_a_credit_note_then_a_supplementary_invoice(tmp_path):
    with shopify_to_zoho(tmp_path, orders=30) as h:
        n = _candidate(h)
        rec = seeded(h, n)
        name = rec["name"]
        run(h)
        [invoice] = mine(h, "invoices", name)
        assert Decimal(str(invoice["balance"])) == 0  # paid

        fewer = remove_units(rec, 0, 1)
        edit(h, n, fewer)
        _, engine = run(h)
        [state] = [
            r
            for r in engine.failures(list(RecordState))
            if r.external_id == rec["legacyResourceId"]
        ]
        assert state.state == "synced", (state.state, state.reason)
        [note] = mine(h, "creditnotes", name)
        assert note["invoice_id"] == invoice["invoice_id"]
        assert Decimal(str(note["total"])) == total(rec) - total(fewer)
        assert Decimal(str(h.org.invoices[invoice["invoice_id"]]["total"])) == total(rec)

        taxes = rec["lineItems"][0]["taxLines"]
        rate = Decimal(str(taxes[0]["rate"])) if taxes else Decimal(0)
        more = add_line(fewer, "Added in an edit", Decimal("12.34"), 2, rate)
        edit(h, n, more)
        _, engine = run(h)
        [state] = [
            r
            for r in engine.failures(list(RecordState))
            if r.external_id == rec["legacyResourceId"]
        ]
        assert state.state == "synced", (state.state, state.reason)
        invoices = sorted(mine(h, "invoices", name), key=lambda d: d["reference_number"])
        assert [d["reference_number"] for d in invoices] == [name, f"{name}-E2"]
        assert Decimal(str(invoices[1]["total"])) == total(more) - total(fewer)
        booked = sum(Decimal(str(d["total"])) for d in invoices) - Decimal(str(note["total"]))
        assert booked == total(more)  # never a silent divergence
        before = (len(h.org.invoices), len(h.org.creditnotes))
        run(h)  # nothing more
        assert (len(h.org.invoices), len(h.org.creditnotes)) == before


def test_edit_of_an_unpaid_invoice_updates_it_and_an_order_edited_before_posting_posts(tmp_path):
    with shopify_to_zoho(tmp_path, orders=30) as h:
        unpaid = _candidate(h)
        early = _candidate(h, skip=(unpaid,))
        rec = seeded(h, unpaid)
        touch(h, unpaid, transactions=[], displayFinancialStatus="PENDING")
        pre = remove_units(seeded(h, early), 0, 1)
        edit(h, early, pre)  # edited before ledgerbridge ever saw it
        run(h)
        [posted_early] = mine(h, "invoices", pre["name"])
        assert Decimal(str(posted_early["total"])) == total(pre)
        [invoice] = mine(h, "invoices", rec["name"])
        fewer = remove_units(seeded(h, unpaid), 0, 1)
        touch(h, unpaid, transactions=[], displayFinancialStatus="PENDING",
              **{k: fewer[k] for k in EDITED})  # fmt: skip
        run(h)
        assert Decimal(str(h.org.invoices[invoice["invoice_id"]]["total"])) == total(fewer)
        assert not mine(h, "creditnotes", rec["name"])
