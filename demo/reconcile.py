"""The reconciliation table: what each shop sold against what landed in Zoho Books.

Source totals are read from the emulated shops' *raw* data (each platform's own
field), Zoho totals from the emulated organisations' invoices -- the two sides a
merchant's accountant would compare -- joined through the store's cross-references.
Nothing here goes through the engine, so the table can catch the engine out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import col, select

from ledgerbridge.store import CrossReference, Store, SyncRecord

from .world import DAILY_PIPELINE, ORGS, SOURCE_OF, TENANTS, Running


@dataclass
class Row:
    source: str
    currency: str
    orders: int = 0
    source_total: Decimal = Decimal("0.00")
    zoho_total: Decimal = Decimal("0.00")
    held: int = 0
    skipped: int = 0

    @property
    def difference(self) -> Decimal:
        return self.zoho_total - self.source_total


def _shopify(world: Running, external_id: str) -> tuple[str, Decimal] | None:
    order = world.shopify.shop.orders.get(int(external_id.rsplit("/", 1)[-1]))
    if order is None:
        return None
    money = order["totalPriceSet"]["shopMoney"]
    return order["currencyCode"], Decimal(str(money["amount"]))


def _woocommerce(world: Running, external_id: str) -> tuple[str, Decimal] | None:
    order = world.saved.woo.orders.get(int(external_id))
    if order is None:
        return None
    return order["currency"], Decimal(str(order["total"]))


def _api2cart(world: Running, external_id: str) -> tuple[str, Decimal] | None:
    for store in world.saved.api2cart.stores.values():
        order = store.orders.get(external_id)
        if order is not None:
            return order["currency"]["iso3"], Decimal(str(order["total"]["total"]))
    return None


SOURCE_TOTAL: dict[str, Callable[[Running, str], tuple[str, Decimal] | None]] = {
    "shopify": _shopify,
    "woocommerce": _woocommerce,
    "api2cart": _api2cart,
}


def reconcile(world: Running) -> list[Row]:
    """One row per source and currency over every order the store knows."""
    store = Store(world.database_url)
    rows: dict[tuple[str, str], Row] = {}
    try:
        with store.session() as s:
            records = list(
                s.exec(
                    select(SyncRecord)
                    .where(SyncRecord.entity == "order")
                    # the daily summaries have their own check (demo/daily.py)
                    .where(SyncRecord.pipeline_id != DAILY_PIPELINE)
                    .order_by(col(SyncRecord.id))
                )
            )
            xrefs = {
                (x.tenant_id, x.external_id): x.target_id
                for x in s.exec(
                    select(CrossReference).where(
                        CrossReference.entity == "order", CrossReference.target_kind == "invoice"
                    )
                )
            }
    finally:
        store.close()
    for record in records:
        tenant = record.tenant_id
        if tenant not in TENANTS:
            continue
        platform = SOURCE_OF[tenant]
        found = SOURCE_TOTAL[platform](world, record.external_id)
        if found is None:  # deleted at the source
            continue
        currency, source_total = found
        row = rows.setdefault((platform, currency), Row(platform, currency))
        invoice_id = xrefs.get((tenant, record.external_id))
        if invoice_id is None:
            if record.state == "skipped":
                row.skipped += 1
            else:
                row.held += 1
            continue
        invoice: dict[str, Any] = world.saved.zoho.organizations[ORGS[tenant]].invoices[invoice_id]
        row.orders += 1
        row.source_total += source_total
        row.zoho_total += Decimal(str(invoice["total"]))
    return sorted(rows.values(), key=lambda r: (r.source, r.currency))
