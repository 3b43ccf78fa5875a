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

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import Product, ProductVariant
from ledgerbridge.catalog_kit import (
    Column,
    FieldTable,
    KitCatalog,
    NewestSeen,
    PageOfProducts,
    StatusWords,
    catalog_product,
    money,
    stock,
)
from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.contracts.catalog import CatalogField, CatalogPage, CatalogSpec, CatalogWrite
from ledgerbridge.http import has_more_pages

from .client import more_pages
from .directory import ALL_ITEMS

PLATFORM = "zohobooks"
PER_PAGE = 200
TIME = "%Y-%m-%dT%H:%M:%S%z"
STEP = timedelta(seconds=1)  # ``last_modified_time`` includes its own second
STATUS = StatusWords(active="active", inactive="inactive")
F = CatalogField
ITEM = FieldTable(  # PUT /items/{item_id}
    Column(F.NAME, "name"),
    Column(F.DESCRIPTION, "description"),
    Column(F.PRICE, "rate", lambda w: w.price),
)


def map_item(row: dict[str, Any], org: str, currency: str) -> Product:
    item_id = str(row["item_id"])
    on_hand = row.get("stock_on_hand")
    tracked = row.get("item_type") == "inventory" and on_hand is not None
    variant = ProductVariant(
        external_id=item_id,
        sku=row.get("sku") or None,
        price=money(row["rate"], currency),
        taxable=bool(row.get("tax_id"))
        if row.get("is_taxable") is None
        else bool(row["is_taxable"]),
        barcode=row.get("upc") or row.get("ean") or None,
        status=STATUS.read(row.get("status", "active")),
        inventory=stock(item_id, int(Decimal(str(on_hand))) if tracked else None),
    )
    return catalog_product(
        platform=PLATFORM,
        store=org,
        external_id=item_id,
        version=row.get("last_modified_time"),
        title=row["name"],
        description=row.get("description") or None,
        status=variant.status,
        variants=[variant],
    )


class ZohoBooksCatalog(KitCatalog):
    def __init__(self, context: ConnectorContext) -> None:
        from .target import ZohoBooksTarget

        self.target = ZohoBooksTarget(context)
        super().__init__(self.target)
        self.client = self.target.client
        self.org = str(getattr(context.settings, "organization_id", "") or "")

    async def catalog_changes(self, checkpoint: str | None) -> AsyncIterator[CatalogPage]:
        identity = await self.target.identity()
        currency = identity.base_currency or "USD"
        params: dict[str, Any] = {**ALL_ITEMS, "per_page": PER_PAGE}
        if checkpoint:
            params["last_modified_time"] = checkpoint
        mark = NewestSeen(checkpoint, TIME, step=STEP)

        async def fetch(number: int) -> dict[str, Any]:
            self.read_call()
            return await self.client.call("GET", "/items", params={**params, "page": number})

        async for body in has_more_pages(fetch, more_pages):
            page = PageOfProducts("zohobooks item", PLATFORM)
            for row in body.get("items") or []:
                with page.mapping(row.get("item_id")):
                    page.add(map_item(row, self.org, currency))
                mark.note(row.get("last_modified_time"))
            yield page.done(mark.after(more_pages(body)))

    async def write_one(self, write: CatalogWrite) -> None:
        body = ITEM.body(write)
        if body:
            self.write_call()
            await self.client.call("PUT", f"/items/{write.variant_id}", body=body)
        status = write.values.get(F.STATUS)
        if status is not None:
            self.write_call()
            action = STATUS.write(status)  # POST /items/{item_id}/active | /inactive
            await self.client.call("POST", f"/items/{write.variant_id}/{action}", idempotent=True)


SPEC = CatalogSpec(
    factory=ZohoBooksCatalog,
    write_paths={
        F.NAME: "PUT /items/{item_id} (one item per call)",
        F.DESCRIPTION: "PUT /items/{item_id}",
        F.PRICE: "PUT /items/{item_id} (rate)",
        F.STATUS: "POST /items/{item_id}/active | /inactive",
    },
)
