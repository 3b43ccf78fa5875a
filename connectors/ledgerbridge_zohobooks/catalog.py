"""Zoho Books in a catalog pipeline: items read since a checkpoint, items written back.

Reads: ``GET /items`` with ``last_modified_time`` (the changed-since filter the catalog
relies on; shared/docs/platforms/zoho-books.md §6 lists it as unconfirmed for items: were
it ignored, every page is read -- more calls, never a missed change, because the engine
diffs what it reads against what it stored), 200 per page, following
``page_context.has_more_page``.  Items list in name order, not by modification, so the
checkpoint (the newest ``last_modified_time`` seen) is given with the last page only.
Stock is ``stock_on_hand`` where the organisation tracks inventory for the item
(``item_type: inventory``); elsewhere it is unknown, never zero.

Writes: ``PUT /items/{item_id}`` (name, description, rate) and ``POST
/items/{item_id}/active|inactive`` (status), one item per call: Books has no batch item
update (zoho-books.md §7.2).  Stock is not written: Books moves stock through inventory
adjustments, not item updates, so a catalog cannot give stock to the other side.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import InventoryLevel, Money, Product, ProductVariant, SourceRef
from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.contracts.catalog import (
    ACTIVE,
    INACTIVE,
    CatalogConnector,
    CatalogField,
    CatalogPage,
    CatalogSpec,
    CatalogWrite,
    WriteResult,
)
from ledgerbridge.errors import SyncError, ValidationFailed

from .directory import ALL_ITEMS

PLATFORM = "zohobooks"
PER_PAGE = 200
TIME = "%Y-%m-%dT%H:%M:%S%z"
SKEW = timedelta(minutes=1)  # clocks of this host and Zoho's may differ this much


def map_item(row: dict[str, Any], org: str, currency: str) -> Product:
    item_id = str(row["item_id"])
    stock = row.get("stock_on_hand")
    tracked = row.get("item_type") == "inventory" and stock is not None
    variant = ProductVariant(
        external_id=item_id,
        sku=row.get("sku") or None,
        price=Money(amount=Decimal(str(row["rate"])), currency=currency),
        taxable=bool(row.get("tax_id"))
        if row.get("is_taxable") is None
        else bool(row["is_taxable"]),
        barcode=row.get("upc") or row.get("ean") or None,
        status=ACTIVE if row.get("status", "active") == "active" else INACTIVE,
        inventory=(
            (InventoryLevel(variant=item_id, location="", available=int(Decimal(str(stock)))),)
            if tracked
            else ()
        ),
    )
    return Product(
        source=SourceRef(
            platform=PLATFORM, store=org, external_id=item_id, version=row.get("last_modified_time")
        ),
        title=row["name"],
        description=row.get("description") or None,
        status=variant.status,
        variants=(variant,),
    )


class ZohoBooksCatalog(CatalogConnector):
    def __init__(self, context: ConnectorContext) -> None:
        from .target import ZohoBooksTarget

        self.target = ZohoBooksTarget(context)
        self.client = self.target.client
        self.org = str(getattr(context.settings, "organization_id", "") or "")
        self.calls = {"reads": 0, "writes": 0}

    async def aclose(self) -> None:
        await self.target.aclose()

    async def catalog_changes(self, checkpoint: str | None) -> AsyncIterator[CatalogPage]:
        identity = await self.target.identity()
        currency = identity.base_currency or "USD"
        params: dict[str, Any] = {**ALL_ITEMS, "per_page": PER_PAGE}
        if checkpoint:
            params["last_modified_time"] = checkpoint
        newest: str | None = None
        started = datetime.now(UTC) - SKEW
        page = 1
        while True:
            self.calls["reads"] += 1
            body = await self.client.call("GET", "/items", params={**params, "page": page})
            products: list[Product] = []
            unreadable: dict[str, SyncError] = {}
            for row in body.get("items") or []:
                try:
                    products.append(map_item(row, self.org, currency))
                except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                    unreadable[str(row.get("item_id"))] = ValidationFailed(
                        f"zohobooks item {row.get('item_id')}: {type(exc).__name__}: {exc}",
                        platform=PLATFORM,
                    )
                stamp = row.get("last_modified_time")
                if stamp and (newest is None or _time(stamp) > _time(newest)):
                    newest = stamp
            context = body.get("page_context") or {}
            if isinstance(context, list):
                context = context[0] if context else {}
            more = bool(context.get("has_more_page"))
            yield CatalogPage(
                products, None if more else _next(checkpoint, newest, started), unreadable
            )
            if not more:
                return
            page += 1

    async def write_variants(self, writes: Sequence[CatalogWrite]) -> list[WriteResult]:
        results = []
        for w in writes:
            try:
                await self._write(w)
                results.append(WriteResult(w.key))
            except SyncError as exc:
                results.append(WriteResult(w.key, exc))
        return results

    async def _write(self, w: CatalogWrite) -> None:
        body: dict[str, Any] = {}
        if CatalogField.NAME in w.values:
            body["name"] = w.values[CatalogField.NAME]
        if CatalogField.DESCRIPTION in w.values:
            body["description"] = w.values[CatalogField.DESCRIPTION]
        if w.price is not None:
            body["rate"] = w.price
        if body:
            self.calls["writes"] += 1
            await self.client.call("PUT", f"/items/{w.variant_id}", body=body)
        status = w.values.get(CatalogField.STATUS)
        if status is not None:
            self.calls["writes"] += 1
            action = "active" if status == ACTIVE else "inactive"
            await self.client.call("POST", f"/items/{w.variant_id}/{action}", idempotent=True)


def _time(text: str) -> datetime:
    return datetime.strptime(text, TIME)


def _next(checkpoint: str | None, newest: str | None, started: datetime) -> str | None:
    """Where the next walk starts, once this one has read every page.

    Everything modified up to ``newest`` was read; anything modified after the walk began
    carries a later time.  So the next walk may start a second past ``newest`` -- no item
    read now is read again, however many share its second -- unless ``newest`` is within
    the clock-skew margin of the walk's start: then at the start less the margin."""
    if newest is None:
        return checkpoint
    after = _time(newest) + timedelta(seconds=1)
    return (after if after <= started else started).strftime(TIME)


def _factory(context: ConnectorContext) -> CatalogConnector:
    return ZohoBooksCatalog(context)


SPEC = CatalogSpec(
    factory=_factory,
    reads=frozenset(CatalogField),
    writes=frozenset(
        {CatalogField.NAME, CatalogField.DESCRIPTION, CatalogField.PRICE, CatalogField.STATUS}
    ),
    write_paths={
        CatalogField.NAME: "PUT /items/{item_id} (one item per call)",
        CatalogField.DESCRIPTION: "PUT /items/{item_id}",
        CatalogField.PRICE: "PUT /items/{item_id} (rate)",
        CatalogField.STATUS: "POST /items/{item_id}/active | /inactive",
    },
)
