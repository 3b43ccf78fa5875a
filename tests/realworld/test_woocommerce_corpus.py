"""WooCommerce's own documentation orders, served verbatim by the emulator, through the
real connector, engine and mapping into the Zoho Books emulator.

Each order posts to the cent -- document total and tax as the payload states them,
a credit note per refund equal to the refund's amount -- or is parked with a reason
naming a mapping key; that advice is then followed and the order posts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..engine.harness import woocommerce_to_zoho
from .books import ZERO, booked, dec, load, post_following_advice
from .corpus import ENTRIES, Entry, document

pytestmark = [pytest.mark.usefixtures("secret_key")]

WOO = [e for e in ENTRIES if e.platform == "woocommerce"]


@pytest.mark.parametrize("entry", WOO, ids=lambda e: e.name)
def test_documentation_order_posts_to_the_cent(entry: Entry, tmp_path: Path) -> None:
    order = load(entry)
    refunds = [r for f, b, p in entry.refunds for r in document(f, b, p)]
    with woocommerce_to_zoho(tmp_path, orders=0) as h:
        store = h.source_app.emulator.store
        store.orders[int(order["id"])] = order
        if refunds:
            store.refunds[int(order["id"])] = refunds
        record, _followed = post_following_advice(h)
        assert record.state == "synced", (record.state, record.reason, record.missing_key)
        books = booked(h, str(order["number"]))
        doc = books.document
        assert dec(doc["total"]) == dec(order["total"])
        assert books.tax_total() == dec(order["total_tax"])
        assert sorted(dec(n["total"]) for n in books.notes) == sorted(
            dec(r["amount"]) for r in refunds
        )
        paid = sum(books.payments, ZERO)
        assert paid in (ZERO, dec(order["total"]))
        if order.get("date_paid") or order.get("date_paid_gmt"):
            assert paid == dec(order["total"])
