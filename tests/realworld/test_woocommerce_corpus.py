"""WooCommerce's own documentation orders, served verbatim by the emulator, through the
real connector, engine and mapping into the Zoho Books emulator.

Each wc/v3 order posts to the cent -- document total and tax as the payload states
them, a credit note per refund equal to the refund's amount, payment of the total when
the payload says it was paid -- after the mapping advice it is parked with, if any, is
followed.  The wc/v1 documents (another API version's shape) are parked as unreadable,
naming the field, without stopping the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..engine.harness import woocommerce_to_zoho
from .books import ZERO, booked, dec, load, post_following_advice, records, sync
from .corpus import ENTRIES, Entry, document

pytestmark = [pytest.mark.usefixtures("secret_key")]

WOO = [e for e in ENTRIES if e.platform == "woocommerce"]
POSTING = [e for e in WOO if e.expect == "post"]
REFUSED = [e for e in WOO if e.expect != "post"]


@pytest.mark.parametrize("entry", POSTING, ids=lambda e: e.name)
def test_documentation_order_posts_to_the_cent(entry: Entry, tmp_path: Path) -> None:
    order = load(entry)
    refunds = [r for f, b, p in entry.refunds for r in document(f, b, p)]
    with woocommerce_to_zoho(tmp_path, orders=0) as h:
        store = h.source_app.emulator.store
        store.orders[int(order["id"])] = order
        if refunds:
            store.refunds[int(order["id"])] = refunds
        record, _followed = post_following_advice(h, str(order["id"]))
        assert record.state == "synced", (record.state, record.reason, record.missing_key)
        books = booked(h, str(order["number"]))
        assert dec(books.document["total"]) == dec(order["total"])
        assert books.tax_total() == dec(order["total_tax"])
        assert sorted(dec(n["total"]) for n in books.notes) == sorted(
            dec(r["amount"]) for r in refunds
        )
        paid = sum(books.payments, ZERO)
        assert paid in (ZERO, dec(order["total"]))
        if order.get("date_paid_gmt"):
            assert paid == dec(order["total"])


def test_wc_v1_documents_park_naming_the_field_and_the_run_goes_on(tmp_path: Path) -> None:
    """Before: the first dateless record stopped the whole read (ValidationFailed out of
    ``changes``); now each is parked with its reason and the wc/v3 order beside them posts."""
    orders = {str(load(e)["id"]): load(e) for e in REFUSED}
    good = load(POSTING[0])
    with woocommerce_to_zoho(tmp_path, orders=0) as h:
        store = h.source_app.emulator.store
        for oid, order in orders.items():
            store.orders[int(oid)] = order
        store.orders[int(good["id"])] = good
        sync(h)
        found = records(h)
        for oid in orders:
            assert found[oid].state == "failed", (oid, found[oid].state)
            assert "date_created_gmt" in (found[oid].reason or "")
        assert found[str(good["id"])].state in ("synced", "needs_mapping")
