"""An order edited after its invoice was paid, then the money the edit left owed refunded.

The edit posts an adjusting credit note (the customer's credit in Zoho, ``edits.py``); the
platform's refund of that money is the same credit going back, not a second one: it is
booked as a refund *of the edit's credit note* (``edit_refunds.py``), and only what the
refund credits beyond that note's open balance is a new credit note.  Books read from the
Zoho emulator: the invoice less its credit notes is the edited order, the payments less
the refunds is the money the platform kept, and no credit note stays open with credit the
platform does not show.  Shopify (a refund of the owed money with no refund lines: the
units were already removed by the edit) and WooCommerce (an amount-only refund).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest

from ledgerbridge.sandbox import WriteTrap
from ledgerbridge.store import RecordState
from ledgerbridge_shopify.emulator.edits import remove_units

from .harness import shopify_to_zoho, woocommerce_to_zoho
from .shopify_scenarios import refund_of, run, seeded, single_currency, total, touch, txn
from .test_adoption import API, due_now, trapped
from .test_woocommerce_triggers import EDITED as WOO_EDITED
from .test_woocommerce_triggers import find, orders, with_line_added
from .test_woocommerce_triggers import touch as woo_touch

pytestmark = pytest.mark.usefixtures("secret_key")

EDITED = ("lineItems", "subtotalPriceSet", "totalTaxSet", "totalPriceSet", "taxLines")


def dec(value: object) -> Decimal:
    return Decimal(str(value))


def books_of(h, reference: str) -> dict[str, Decimal]:
    """What the Zoho emulator holds for one order (its documents' reference starts with
    ``reference``): invoiced, credited, paid, refunded, and the credit left open."""
    invoices = [
        d for d in h.org.invoices.values() if str(d["reference_number"]).startswith(reference)
    ]
    notes = [
        c for c in h.org.creditnotes.values() if str(c["reference_number"]).startswith(reference)
    ]
    ids = {d["invoice_id"] for d in invoices}
    paid = sum(
        (dec(a["amount_applied"]) for p in h.org.payments.values() for a in p["invoices"]
         if a["invoice_id"] in ids),
        Decimal(0),
    )  # fmt: skip
    return {
        "invoiced": sum((dec(d["total"]) for d in invoices), Decimal(0)),
        "invoice_balance": sum((dec(d["balance"]) for d in invoices), Decimal(0)),
        "credited": sum((dec(c["total"]) for c in notes), Decimal(0)),
        "notes": Decimal(len(notes)),
        "invoices": Decimal(len(invoices)),
        "paid": paid,
        "refunded": sum((dec(r) for c in notes for r in c["_refunds"]), Decimal(0)),
        "open_credit": sum((dec(c["balance"]) for c in notes), Decimal(0)),
    }


def synced(engine, external_id: str) -> None:
    [state] = [r for r in engine.failures(list(RecordState)) if r.external_id == external_id]
    assert state.state == "synced", (state.state, state.reason)


def _shopify_refund(rec: dict, k: int, amount: Decimal) -> tuple[dict, dict]:
    """A refund of ``amount`` as Shopify records the refund of money an edit left owed: a
    REFUND transaction and no refund lines (the units are already gone from the order)."""
    oid = int(rec["legacyResourceId"])
    money_in = [t for t in rec["transactions"] if t["kind"] in ("SALE", "CAPTURE")][-1]
    back = txn(rec, k, "REFUND", amount, parent=money_in["id"])
    refund = {
        "id": f"gid://shopify/Refund/{oid * 10 + k}", "legacyResourceId": str(oid * 10 + k),
        "createdAt": rec["createdAt"], "updatedAt": rec["createdAt"], "note": "order edited",
        "totalRefundedSet": back["amountSet"], "refundLineItems": [],
        "refundShippingLines": [], "orderAdjustments": [], "transactions": [back],
    }  # fmt: skip
    return refund, back


def _edited_then_refunded(h, holder: dict | None = None, parts: int = 1) -> None:
    n = next(
        n for n in single_currency(h, lines=1)
        if int(seeded(h, n)["lineItems"][0]["quantity"]) >= 2 and seeded(h, n)["transactions"]
    )  # fmt: skip
    rec = copy.deepcopy(seeded(h, n))
    name, oid = rec["name"], rec["legacyResourceId"]
    run(h)
    assert books_of(h, name)["invoice_balance"] == 0  # paid

    fewer = remove_units(rec, 0, 1)
    touch(h, n, **{k: fewer[k] for k in EDITED})
    _, engine = run(h)
    synced(engine, oid)
    owed = total(rec) - total(fewer)
    assert books_of(h, name)["open_credit"] == owed  # the edit's credit note

    # The merchant refunds what the edit left owed, at once or in two refunds.
    amounts = [owed] if parts == 1 else [(owed / 2).quantize(Decimal("0.01"))]
    if parts == 2:
        amounts.append(owed - amounts[0])
    refunds, moves = [], []
    for k, amount in enumerate(amounts, start=1):
        refund, back = _shopify_refund(rec, k, amount)
        refunds.append(refund)
        moves.append(back)
        touch(h, n, **{k: fewer[k] for k in EDITED}, refunds=list(refunds),
              transactions=[*rec["transactions"], *moves],
              displayFinancialStatus="PARTIALLY_REFUNDED")  # fmt: skip
        _, engine = run(h)
        if holder is not None and holder["traps"].outage:  # the worker died after the write
            holder["traps"].outage = False
            due_now(h)
            _, engine = run(h)
        synced(engine, oid)
    books = books_of(h, name)
    assert books["invoiced"] - books["credited"] == total(fewer), books
    assert books["paid"] - books["refunded"] == total(fewer), books
    assert books["refunded"] == owed, books
    assert books["open_credit"] == 0, books  # no phantom customer credit
    assert books["notes"] == 1, books  # the edit's credit note, refunded; no second one
    assert books["invoices"] == 1, books
    [note] = [c for c in h.org.creditnotes.values() if c["reference_number"] == name]
    assert [dec(r) for r in note["_refunds"]] == amounts  # each refund once

    before = (len(h.org.creditnotes), books_of(h, name))
    run(h)  # a re-run writes nothing
    assert (len(h.org.creditnotes), books_of(h, name)) == before


def test_shopify_refund_of_the_money_an_edit_left_owed_refunds_the_edit_credit_note(tmp_path):
    with shopify_to_zoho(tmp_path, orders=30) as h:
        _edited_then_refunded(h)


def test_shopify_two_refunds_of_the_owed_money_share_the_edit_credit_note(tmp_path):
    """The second refund takes what the first left of the note, not the same credit."""
    with shopify_to_zoho(tmp_path, orders=30) as h:
        _edited_then_refunded(h, parts=2)


def test_a_lost_answer_to_the_refund_of_the_edit_credit_note_is_found_again(tmp_path):
    """Zoho records the refund, the answer is lost and the worker dies: the next run finds
    it on the note by its marker (``find_refund``) -- one refund, not two."""
    trap = WriteTrap(
        "POST", rf"{API}/creditnotes/\d+/refunds", lose=True, then_outage=True,
        when=lambda body: "edit_credit:" in str((body or {}).get("description")),
    )  # fmt: skip
    holder: dict = {}
    with shopify_to_zoho(tmp_path, orders=30, wrap_zoho=trapped(holder, trap)) as h:
        _edited_then_refunded(h, holder)
        assert trap.fired


def test_woocommerce_amount_refund_after_an_edit_refunds_the_edit_credit_note(tmp_path: Path):
    with woocommerce_to_zoho(tmp_path, orders=12) as h:
        oid = find(h, "processing")
        original = copy.deepcopy(orders(h)[oid])
        number = str(original["number"])
        more = with_line_added(original, Decimal("4.50"), 2)
        woo_touch(h, oid, **{k: more[k] for k in WOO_EDITED})  # placed with the extra line
        run(h)
        assert books_of(h, number)["invoice_balance"] == 0, books_of(h, number)  # paid

        woo_touch(h, oid, **{k: original[k] for k in WOO_EDITED})  # the admin removes it
        _, engine = run(h)
        synced(engine, str(oid))
        owed = Decimal(more["total"]) - Decimal(original["total"])
        assert books_of(h, number)["open_credit"] == owed

        # The merchant refunds that money: an amount-only refund with the money sent back
        # (``refunded_payment``), one more unit of goodwill on top.
        from ledgerbridge_woocommerce.emulator.data import add_refund

        store = h.source_app.emulator.store
        add_refund(store, orders(h)[oid], "amount", h.source_app.emulator.now(),
                   amount=owed + Decimal("1.00"))  # fmt: skip
        woo_touch(h, oid)
        _, engine = run(h)
        synced(engine, str(oid))
        books = books_of(h, number)
        kept = Decimal(original["total"]) - Decimal("1.00")
        assert books["invoiced"] - books["credited"] == kept, books
        assert books["paid"] - books["refunded"] == kept, books
        assert books["open_credit"] == 0, books
        assert books["notes"] == 2, books  # the edit's, and one for the 1.00 beyond it
        assert books["invoices"] == 1, books

        before = (len(h.org.creditnotes), books_of(h, number))
        run(h)
        assert (len(h.org.creditnotes), books_of(h, number)) == before


def test_shopify_refund_of_a_returned_unit_with_the_owed_money_on_top(tmp_path):
    """One refund returns a unit still on the order (its refund line) and, on top, the money
    the edit left owed: the unit gets its own credit note and refund, the money beyond its
    line is paid back out of the edit's credit note."""
    with shopify_to_zoho(tmp_path, orders=30) as h:
        n = next(
            n for n in single_currency(h, lines=1)
            if int(seeded(h, n)["lineItems"][0]["quantity"]) >= 3 and seeded(h, n)["transactions"]
        )  # fmt: skip
        rec = copy.deepcopy(seeded(h, n))
        name, oid = rec["name"], rec["legacyResourceId"]
        run(h)
        fewer = remove_units(rec, 0, 1)
        touch(h, n, **{k: fewer[k] for k in EDITED})
        _, engine = run(h)
        synced(engine, oid)
        owed = total(rec) - total(fewer)

        money_in = [t for t in rec["transactions"] if t["kind"] in ("SALE", "CAPTURE")][-1]
        refund = refund_of(fewer, 1, [(0, 1, "RETURN")], money_in["id"])
        unit = dec(refund["transactions"][0]["amountSet"]["shopMoney"]["amount"])
        back = txn(rec, 1, "REFUND", unit + owed, parent=money_in["id"])
        refund |= {"transactions": [back], "totalRefundedSet": back["amountSet"]}
        lines = copy.deepcopy(fewer["lineItems"])
        lines[0]["currentQuantity"] -= 1  # the returned unit (refdata: LineItem fields)
        lines[0]["refundableQuantity"] -= 1
        touch(h, n, **{k: fewer[k] for k in EDITED if k != "lineItems"}, lineItems=lines,
              refunds=[refund],
              transactions=[*rec["transactions"], back],
              displayFinancialStatus="PARTIALLY_REFUNDED")  # fmt: skip
        _, engine = run(h)
        synced(engine, oid)
        books = books_of(h, name)
        assert books["invoiced"] - books["credited"] == total(fewer) - unit, books
        assert books["paid"] - books["refunded"] == total(fewer) - unit, books
        assert books["open_credit"] == 0, books
        assert books["notes"] == 2, books  # the edit's and the returned unit's
        assert books["invoices"] == 1, books

        before = (len(h.org.creditnotes), books_of(h, name))
        run(h)
        assert (len(h.org.creditnotes), books_of(h, name)) == before
