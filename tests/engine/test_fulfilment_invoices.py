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
