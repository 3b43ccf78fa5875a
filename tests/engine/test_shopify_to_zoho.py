"""The engine's headline run: 1,000 varied Shopify orders into Zoho Books over real HTTP.

Refunds, cancellations, discounts, tax-inclusive shops, presentment currencies, several tax
rates, test orders, gift cards -- every posted order's Zoho total equals the source to the
cent, every payment and refund is there once, and a second run writes nothing.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.store import RecordState

from .harness import shopify_to_zoho

pytestmark = [pytest.mark.usefixtures("secret_key"), pytest.mark.slow]

ORDERS = 1000


def xref(engine, entity, external_id, kind):
    return engine.store.get_xref("acme", "acme/shop", entity, external_id, "acme/books", kind)


def test_thousand_varied_orders_post_to_the_cent_and_a_second_run_writes_nothing(tmp_path: Path):
    with shopify_to_zoho(tmp_path, orders=ORDERS, daily_quota=200_000) as h:
        engine = h.engine()

        async def run_and_read():
            async with engine:
                [report] = await engine.sync()
                source = engine.source("acme", "shop")
                orders = [
                    c.record
                    async for page in source.changes(EntityType.ORDER, None)
                    for c in page.changes
                ]
                return report, orders

        report, orders = anyio.run(run_and_read)
        by_id: dict[str, Order] = {o.source.external_id: o for o in orders if o is not None}
        assert report.read == ORDERS and len(by_id) == ORDERS

        # The data really is varied.
        assert sum(1 for o in by_id.values() if o.refunds) >= 20
        assert sum(1 for o in by_id.values() if o.is_cancelled) >= 20
        assert (
            sum(1 for o in by_id.values() if o.discounts or any(line.discount for line in o.lines))
            >= 50
        )
        assert len({o.presentment_currency for o in by_id.values()}) >= 2
        assert len({t.title for o in by_id.values() for t in o.all_tax_lines()}) >= 2
        assert any(o.taxes_included for o in by_id.values())

        states = Counter(r.state for r in engine.failures(list(RecordState)))
        assert states["failed"] == states["needs_mapping"] == states["retrying"] == 0, states
        assert states["synced"] + states["skipped"] == ORDERS

        posted = 0
        for order_id, order in by_id.items():
            invoice = xref(engine, "order", order_id, "invoice")
            if invoice is None:
                continue
            posted += 1
            doc = h.org.invoices[invoice.target_id]
            assert Decimal(str(doc["total"])) == order.totals.total.amount, order.number
            paid = sum(
                (
                    Decimal(str(h.org.payments[p.target_id]["amount"]))
                    for pay in order.payments
                    if pay.is_money_in
                    if (p := xref(engine, "payment", pay.external_id, "customer_payment"))
                ),
                Decimal(0),
            )
            assert paid == order.amount_received.amount, order.number
            for refund in order.refunds:
                if refund.credit_total.amount <= 0:
                    continue
                note = xref(engine, "refund", refund.source.external_id, "credit_note")
                assert note is not None, (order.number, refund.source.external_id)
                total = Decimal(str(h.org.creditnotes[note.target_id]["total"]))
                assert total == refund.credit_total.amount, (
                    order.number,
                    refund.source.external_id,
                )
        assert posted >= ORDERS * 0.8
        # One document per order, never two.
        references = Counter(d["reference_number"] for d in h.org.invoices.values())
        assert all(n == 1 for ref, n in references.items() if not ref.startswith("SEED-"))

        counts = {
            k: len(getattr(h.org, k))
            for k in ("invoices", "payments", "creditnotes", "contacts", "items")
        }
        second = h.engine()

        async def again():
            async with second:
                return await second.sync()

        [report2] = anyio.run(again)
        assert report2.writes == 0
        assert {k: len(getattr(h.org, k)) for k in counts} == counts
