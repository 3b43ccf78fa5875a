"""The ``fulfilled`` posting trigger, Shopify emulator -> Zoho Books emulator: one invoice
per shipment with exactly what shipped, the invoices adding up to the order to the cent,
one payment applied across them oldest first; books read from the Zoho emulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledgerbridge.store import RecordState

from .harness import shopify_to_zoho
from .shopify_scenarios import (
    refund_of,
    run,
    seeded,
    set_trigger,
    shipments,
    single_currency,
    split_in_parts,
    total,
    touch,
)

pytestmark = pytest.mark.usefixtures("secret_key")


def units(record) -> int:
    return sum(int(i["quantity"]) for i in record["lineItems"])


def test_an_order_shipped_in_three_parts_makes_three_invoices_and_one_payment(tmp_path: Path):
    with shopify_to_zoho(tmp_path, orders=30) as h:
        set_trigger(h, "fulfilled")
        n = next(
            n for n in single_currency(h, lines=2)
            if units(seeded(h, n)) >= 3 and seeded(h, n)["discountApplications"]
        )  # fmt: skip
        rec = seeded(h, n)
        oid, name = rec["legacyResourceId"], rec["name"]
        parts = shipments(rec, split_in_parts(rec, 3))

        def invoices():
            return sorted(
                (d for d in h.documents() if str(d["reference_number"]).startswith(name + "-")),
                key=lambda d: d["reference_number"],
            )

        touch(h, n, fulfillments=[])
        _, engine = run(h)
        [waiting] = [r for r in engine.failures([RecordState.WAITING]) if r.external_id == oid]
        assert "fulfilment" in waiting.reason and not invoices()

        for shipped in (1, 2, 3):
            touch(h, n, fulfillments=parts[:shipped])
            _, engine = run(h)
            [rec_state] = [r for r in engine.failures(list(RecordState)) if r.external_id == oid]
            assert len(invoices()) == shipped, (
                shipped,
                [d["reference_number"] for d in invoices()],
                rec_state.state,
                rec_state.reason,
                rec_state.last_error if hasattr(rec_state, "last_error") else None,
            )
        docs = invoices()
        assert sum(Decimal(str(d["total"])) for d in docs) == total(rec), repr(docs[0])
        # Each invoice holds exactly what its shipment shipped.
        for doc, part in zip(docs, parts, strict=True):
            shipped = sum(int(i["quantity"]) for i in part["fulfillmentLineItems"])
            products = [li for li in doc["line_items"] if li.get("item_id")]
            assert sum(Decimal(str(li["quantity"])) for li in products) == shipped
        # One payment (the seed's one capture), applied across the three, oldest first.
        ids = {d["invoice_id"] for d in docs}
        pays = [
            p for p in h.org.payments.values() if {a["invoice_id"] for a in p["invoices"]} & ids
        ]
        assert len(pays) == 1, pays
        [pay] = pays
        assert [a["invoice_id"] for a in pay["invoices"]] == [d["invoice_id"] for d in docs]
        assert Decimal(str(pay["amount"])) == total(rec)
        assert all(Decimal(str(d["balance"])) == 0 for d in docs)
        # A further run writes nothing.
        before = (len(h.org.invoices), len(h.org.payments))
        run(h)
        assert (len(h.org.invoices), len(h.org.payments)) == before


def _docs(h, kind, name):
    return sorted(
        (d for d in h.documents(kind) if str(d["reference_number"]).startswith(name)),
        key=lambda d: d["reference_number"],
    )


def test_refund_after_partial_shipment_credits_the_invoice_that_shipped_it(tmp_path: Path):
    with shopify_to_zoho(tmp_path, orders=30) as h:
        set_trigger(h, "fulfilled")
        n = next(n for n in single_currency(h, lines=2) if not seeded(h, n)["taxesIncluded"])
        rec = seeded(h, n)
        lines = rec["lineItems"]
        first = [int(x["quantity"]) if j == 0 else 0 for j, x in enumerate(lines)]
        second = [int(x["quantity"]) if j == 1 else 0 for j, x in enumerate(lines)]
        parts = shipments(rec, [first, second])
        sale = rec["transactions"][-1]["id"]
        touch(h, n, fulfillments=parts)
        run(h)
        invoices = _docs(h, "invoices", rec["name"] + "-")
        assert len(invoices) == 2
        returned = refund_of(rec, 2, [(1, 1, "RETURN")], sale)
        touch(h, n, fulfillments=parts, refunds=[returned],
              displayFinancialStatus="PARTIALLY_REFUNDED")  # fmt: skip
        run(h)
        [note] = [c for c in h.org.creditnotes.values() if c["reference_number"] == rec["name"]]
        assert note["invoice_id"] == invoices[1]["invoice_id"]  # the invoice that shipped line 1
        amount = Decimal(returned["totalRefundedSet"]["shopMoney"]["amount"])
        assert Decimal(str(note["total"])) == amount


def test_cancelled_remainder_posts_nothing_more_and_the_payment_keeps_what_stayed(
    tmp_path: Path,
):
    with shopify_to_zoho(tmp_path, orders=30) as h:
        set_trigger(h, "fulfilled")
        n = next(n for n in single_currency(h, lines=2) if not seeded(h, n)["taxesIncluded"])
        rec = seeded(h, n)
        lines = rec["lineItems"]
        only_first = [int(x["quantity"]) if j == 0 else 0 for j, x in enumerate(lines)]
        parts = shipments(rec, [only_first])
        sale = rec["transactions"][-1]["id"]
        touch(h, n, fulfillments=parts)
        run(h)
        [invoice] = _docs(h, "invoices", rec["name"] + "-")
        mine = {invoice["invoice_id"]}

        def payments():
            return [p for p in h.org.payments.values()
                    if {a["invoice_id"] for a in p["invoices"]} & mine]  # fmt: skip

        assert not payments()  # the whole capture waits for the rest to ship
        rest = [(j, int(x["quantity"]), "CANCEL") for j, x in enumerate(lines) if j > 0]
        cancel = refund_of(rec, 2, rest, sale)
        touch(h, n, fulfillments=parts, refunds=[cancel],
              displayFinancialStatus="PARTIALLY_REFUNDED")  # fmt: skip
        run(h)
        assert len(_docs(h, "invoices", rec["name"])) == 1  # nothing more invoiced
        assert not [c for c in h.org.creditnotes.values() if c["reference_number"] == rec["name"]]
        [pay] = payments()
        kept = total(rec) - Decimal(cancel["totalRefundedSet"]["shopMoney"]["amount"])
        assert Decimal(str(pay["amount"])) == kept == Decimal(str(invoice["total"]))
        assert Decimal(str(h.org.invoices[invoice["invoice_id"]]["balance"])) == 0
