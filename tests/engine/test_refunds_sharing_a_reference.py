"""Two refunds of one order, posted on a pipeline's first run (every create is searched
for first): the second refund's search finds the first refund's credit note -- same
reference, the order number -- and must not take it for its own.

Found by the real-world corpus (WooCommerce's documentation order 723, two refunds):
the second note was adopted, judged 1.00 off and the *first* refund's note voided.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from .harness import woocommerce_to_zoho

pytestmark = [pytest.mark.usefixtures("secret_key")]


def test_second_refund_gets_its_own_credit_note_on_a_first_run(tmp_path: Path) -> None:
    from ledgerbridge_woocommerce.emulator.data import add_refund

    with woocommerce_to_zoho(tmp_path, orders=1) as h:
        store = h.source_app.emulator.store
        [order] = store.orders.values()
        when = datetime(2026, 1, 2, tzinfo=UTC)
        refunds = [add_refund(store, order, kind, when) for kind in ("amount", "partial")]
        engine = h.engine()

        async def run() -> None:
            async with engine:
                [report] = await engine.sync()
                assert report.parked == 0, report.states

        anyio.run(run)
        notes = [
            n
            for n in h.org.creditnotes.values()
            if n["reference_number"] == order["number"] and n.get("status") != "void"
        ]
        assert sorted(Decimal(str(n["total"])) for n in notes) == sorted(
            Decimal(r["amount"]) for r in refunds
        )
        assert len({n["creditnote_id"] for n in notes}) == 2
