"""A customer who buys in USD and in EUR, through the whole engine: WooCommerce emulator ->
connectors, mapping, engine, SQLite store -> the strict Zoho Books emulator (books in USD).

The EUR order waits in needs_mapping naming ``lookups.currencies.exchange_rates.EUR``
(WooCommerce states no rate); once that key is set, replaying it posts it -- on a EUR
contact of its own, never on the customer's USD contact, at the configured rate.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlmodel import select

from ledgerbridge.store import SyncRecord
from tests.engine.harness import WOO_MAPPING, Harness, woocommerce_to_zoho

pytestmark = pytest.mark.usefixtures("secret_key")


def _engine_run(h: Harness, call: str, **kw: Any) -> Any:
    engine = h.engine()

    async def main() -> Any:
        async with engine:
            return await getattr(engine, call)(**kw)

    return anyio.run(main)


def _mapping(h: Harness, extra: str = "") -> None:
    h.write_mapping(
        WOO_MAPPING.format(
            vat10=h.tax_id("VAT 10"),
            clearing=h.account_id("Stripe Clearing"),
            checking=h.account_id("Business Checking"),
            sales=h.account_id("Sales"),
        )
        + extra
    )


def _record(h: Harness, oid: int) -> SyncRecord:
    with h.store().session() as s:
        return s.exec(select(SyncRecord).where(SyncRecord.external_id == str(oid))).one()


def test_a_customer_in_two_currencies_gets_two_contacts_and_the_advice_posts_it(
    tmp_path: Path,
) -> None:
    with woocommerce_to_zoho(tmp_path, orders=2) as h:
        usd_id, eur_id = sorted(h.source_app.emulator.store.orders)
        orders = h.source_app.emulator.store.orders
        orders[eur_id]["currency"] = "EUR"
        orders[eur_id]["billing"] = dict(orders[usd_id]["billing"])  # the same buyer
        orders[eur_id]["customer_id"] = orders[usd_id]["customer_id"]
        email = orders[usd_id]["billing"]["email"]
        _mapping(h)

        _engine_run(h, "sync")
        parked = _record(h, eur_id)
        assert parked.state == "needs_mapping"
        assert "lookups.currencies.exchange_rates.EUR" in (parked.reason or "")
        assert parked.missing_key == "exchange_rate:EUR"
        assert _record(h, usd_id).state == "synced"
        assert not [d for d in h.documents("invoices") if d["currency_code"] == "EUR"]

        # Follow the advice: set the key it names, then replay what waits.
        _mapping(h, "  currencies:\n    exchange_rates:\n      EUR: 1.08\n")
        _engine_run(h, "replay", state="needs_mapping")
        assert _record(h, eur_id).state == "synced"

        [eur] = [d for d in h.documents("invoices") if d["currency_code"] == "EUR"]
        assert eur["exchange_rate"] == Decimal("1.08")
        assert eur["total"] == Decimal(orders[eur_id]["total"])
        assert eur["bcy_total"] == (eur["total"] * Decimal("1.08")).quantize(Decimal("0.01"))
        contacts = {c["contact_id"]: c for c in h.org.contacts.values() if c["email"] == email}
        assert sorted(c["currency_code"] for c in contacts.values()) == ["EUR", "USD"]
        assert contacts[eur["customer_id"]]["currency_code"] == "EUR"
        [usd] = [
            d
            for d in h.documents("invoices")
            if d.get("custom_field_hash", {}).get("cf_source_order_id") == str(usd_id)
        ]
        assert contacts[usd["customer_id"]]["currency_code"] == "USD"
