"""A record parked ``failed`` at source version V waits for a new version or ``replay``:
the same V delivered again writes nothing.  A line tax the target would compute otherwise
parks the order before any write.

WooCommerce emulator -> real connectors, engine, mapping and SQLite store -> Zoho Books
emulator over loopback; every count is read from the Zoho emulator's own state.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlmodel import delete, select

from ledgerbridge.store import Checkpoint, RecordState, SyncRecord
from ledgerbridge_zohobooks.emulator.state import Tax

from .harness import WOO_MAPPING, Harness, woocommerce_to_zoho

pytestmark = pytest.mark.usefixtures("secret_key")


def sync(h: Harness, **kw: Any) -> Any:
    engine = h.engine()

    async def main() -> Any:
        async with engine:
            return await engine.sync(**kw)

    [report] = anyio.run(main)
    return report


def replay_failed(h: Harness) -> Any:
    engine = h.engine()

    async def main() -> Any:
        async with engine:
            return await engine.replay(state="failed")

    return anyio.run(main)


def invoices_for(h: Harness, oid: int) -> list[dict[str, Any]]:
    return [
        doc
        for doc in h.documents("invoices")
        if doc.get("custom_field_hash", {}).get("cf_source_order_id") == str(oid)
    ]


def statuses(h: Harness, oid: int) -> list[str]:
    return sorted(doc["status"] for doc in invoices_for(h, oid))


def record(h: Harness, oid: int) -> SyncRecord:
    with h.store().session() as s:
        return s.exec(select(SyncRecord).where(SyncRecord.external_id == str(oid))).one()


def record_state(h: Harness, oid: int) -> tuple[str, str | None]:
    row = record(h, oid)
    return row.state, row.error_class


def redeliver_everything(h: Harness) -> None:
    """A backstop poll from the start: every order comes again at the version already seen."""
    with h.store().session() as s:
        s.exec(delete(Checkpoint))  # type: ignore[call-overload]


def mapping_with_state_tax_to(h: Harness, tax_id: str) -> None:
    h.write_mapping(
        WOO_MAPPING.format(
            vat10=tax_id,
            clearing=h.account_id("Stripe Clearing"),
            checking=h.account_id("Business Checking"),
            sales=h.account_id("Sales"),
        )
    )


def test_a_failure_at_one_version_is_not_rewritten_when_that_version_comes_again(
    tmp_path: Path,
) -> None:
    with woocommerce_to_zoho(tmp_path, orders=1) as h:
        # The mapping says "State Tax 10% -> this tax", but the merchant's Zoho tax is 12%:
        # nothing before the write can tell, Zoho's total comes out wrong, the invoice is voided.
        wrong = Tax(h.zoho.emulator.state.ids.next(), "Wrong 12", Decimal("12"))
        h.org.taxes[wrong.tax_id] = wrong
        mapping_with_state_tax_to(h, wrong.tax_id)
        [oid] = list(h.source_app.emulator.store.orders)

        sync(h)
        assert record_state(h, oid) == (RecordState.FAILED.value, "ValidationFailed")
        assert statuses(h, oid) == ["void"]

        redeliver_everything(h)
        again = sync(h)
        assert statuses(h, oid) == ["void"], "the same version wrote the same failure again"
        assert again.read == 1 and again.unchanged == 1 and again.writes == 0

        # a new version at the source is a new attempt (still wrong: voided again) ...
        anyio.run(lambda: h.source_app.emulator.touch_order(oid, customer_note="gift wrap"))
        sync(h)
        assert statuses(h, oid) == ["void", "void"]
        assert record_state(h, oid)[0] == RecordState.FAILED.value

        # ... and once the mapping is mended, `replay` posts it at the version it is parked at.
        mapping_with_state_tax_to(h, h.tax_id("VAT 10"))
        [replayed] = replay_failed(h)
        assert replayed.states["synced"] == 1
        [live] = [d for d in invoices_for(h, oid) if d["status"] != "void"]
        order = h.source_app.emulator.store.orders[oid]
        assert Decimal(str(live["total"])) == Decimal(order["total"])


def _overstate_first_line_tax(order: dict[str, Any], extra: Decimal) -> None:
    """The shop states 5.00 more tax on the first line than 10% of it -- and charges it, so
    the order still adds up to its total."""

    def more(obj: dict[str, Any], key: str) -> None:
        obj[key] = str(Decimal(obj[key]) + extra)

    line = order["line_items"][0]
    more(line, "total_tax")
    more(line["taxes"][0], "total")
    more(order["tax_lines"][0], "tax_total")
    for key in ("cart_tax", "total_tax", "total"):
        more(order, key)


def test_a_line_tax_the_target_would_compute_otherwise_parks_before_any_write(
    tmp_path: Path,
) -> None:
    with woocommerce_to_zoho(tmp_path, orders=3) as h:
        orders = h.source_app.emulator.store.orders
        bad, *good = sorted(orders)
        _overstate_first_line_tax(orders[bad], Decimal("5.00"))

        report = sync(h)
        state, error = record_state(h, bad)
        assert (state, error) == (RecordState.FAILED.value, "TotalsMismatch")
        assert invoices_for(h, bad) == [], "nothing written: no invoice, not even a voided one"
        reason = record(h, bad).reason or ""
        assert "tax stated" in reason and "before anything was written" in reason, reason
        # the other orders are posted as usual
        for oid in good:
            [doc] = invoices_for(h, oid)
            assert Decimal(str(doc["total"])) == Decimal(orders[oid]["total"])
        assert report.states["synced"] == len(good)
