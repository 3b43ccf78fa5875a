"""API2Cart in a catalog pipeline: ``product.list`` walked like the source's (``walk``) with
each page's children, written with ``product.update`` and ``product.variant.update``.

A child's change does not move its parent's ``modified_at`` on every cart, so a storefront
edit of a child may be seen late (the engine's own writes never come back as changes).
Writes are one call per product or child: the ``product.update`` family has no batch.  Stock
is written as absolute ``quantity`` (with ``manage_stock``): API2Cart recommends relative
changes on busy stores, but only an absolute value makes a repeated write harmless.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import EntityType, Product, ProductVariant
from ledgerbridge.catalog_kit import (
    Column,
    FieldTable,
    KitCatalog,
    PageOfProducts,
    catalog_product,
    money,
    stock,
)
from ledgerbridge.contracts import Change, ConnectorContext
from ledgerbridge.contracts.catalog import (
    ACTIVE,
    INACTIVE,
    CatalogField,
    CatalogPage,
    CatalogSpec,
    CatalogWrite,
)
from ledgerbridge.contracts.readers import text
from ledgerbridge.errors import ValidationFailed

from .catalog import barcode_of, price_of, sku_of
from .checkpoint import Checkpoint
from .envelope import PLATFORM
from .fields import timestamp_text
from .source import Api2CartSource, listed

PRODUCT_FIELDS = listed(
    "products_count",
    "product",
    "id,type,u_model,u_sku,name,description,price,avail_sale,quantity,manage_stock,taxable,"
    "modified_at",
)
CHILD_FIELDS = listed(
    "total_count",
    "children",
    "id,parent_id,sku,name,default_price,upc,ean,gtin,quantity,manage_stock,taxable,status,"
    "modified_time",
)
PAGE = 100
F = CatalogField
_OWN = (
    Column(F.PRICE, "price", lambda w: w.price),
    Column(F.TAX, "taxable", lambda w: w.taxable),
    Column(F.STOCK, "quantity", lambda w: w.stock),
    Column(F.STOCK, "manage_stock", lambda w: True),
)
_PARENT = (Column(F.NAME, "name"), Column(F.DESCRIPTION, "description"))
SIMPLE = FieldTable(  # product.update of a product that is its own variant
    *_OWN, *_PARENT, Column(F.STATUS, "avail", lambda w: w.values[F.STATUS] == ACTIVE)
)
CHILD = FieldTable(  # product.variant.update
    *_OWN, Column(F.STATUS, "available_for_sale", lambda w: w.values[F.STATUS] == ACTIVE)
)
PARENT = FieldTable(*_PARENT)  # product.update of a child's parent


def _count(value: Any, where: str) -> int | None:
    """A stock ``quantity`` as whole units (a fraction cut off); None when not reported.
    Text that is no number (``"abc"``, ``NaN``) is refused naming ``where``."""
    if value is None:
        return None
    try:
        return int(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        raise ValidationFailed(
            f"{where} is {value!r}, not a stock count", platform=PLATFORM, details={"field": where}
        ) from None


def _variant(raw: Mapping[str, Any], currency: str, status: str | None) -> ProductVariant:
    vid, price = str(raw["id"]), price_of(raw)
    return ProductVariant(
        external_id=vid,
        sku=sku_of(raw),
        price=money(price, currency) if price is not None else None,
        taxable=raw.get("taxable") is not False,
        barcode=barcode_of(raw),
        status=status,
        inventory=stock(vid, _count(raw.get("quantity"), f"variant {vid}: quantity")),
    )


def _child_status(value: Any) -> str | None:
    return None if value is None else ACTIVE if value in ("enabled", "active", True) else INACTIVE


def map_catalog_product(
    raw: Mapping[str, Any], children: Sequence[Mapping[str, Any]], store: str, currency: str
) -> Product:
    status = ACTIVE if raw.get("avail_sale", True) else INACTIVE
    variants = [_variant(c, currency, _child_status(c.get("status"))) for c in children] or [
        _variant(raw, currency, None)
    ]
    return catalog_product(
        platform=PLATFORM,
        store=store,
        external_id=str(raw["id"]),
        version=timestamp_text(raw.get("modified_at")),
        title=text(raw.get("name")) or f"Product {raw['id']}",
        description=text(raw.get("description")),
        status=status,
        variants=variants,
    )


class Api2CartCatalog(KitCatalog):
    def __init__(self, context: ConnectorContext) -> None:
        self.source = Api2CartSource(context)
        super().__init__(self.source)
        self.currency = self.source.settings.currency or "USD"

    async def catalog_changes(self, checkpoint: str | None) -> AsyncIterator[CatalogPage]:
        page = PageOfProducts("API2Cart product", PLATFORM)

        async def build(items: list[dict[str, Any]]) -> list[Change]:
            self.read_call()
            ids = [str(i["id"]) for i in items if i.get("id")]
            children = await self.source.children(ids, CHILD_FIELDS, self.read_call)
            for item in items:
                with page.mapping(item.get("id")):
                    found = children.of(item.get("id"))
                    page.add(map_catalog_product(item, found, self.source.store, self.currency))
            # one placeholder change per page, so the walk hands its checkpoint over
            return [Change(EntityType.PRODUCT, "page", None)]

        walk = self.source.walk(
            EntityType.PRODUCT, {"response_fields": PRODUCT_FIELDS}, Checkpoint.loads(checkpoint),
            PAGE, build,
        )  # fmt: skip
        async for walked in walk:
            yield page.done(walked.checkpoint)
            page = PageOfProducts("API2Cart product", PLATFORM)

    async def write_one(self, write: CatalogWrite) -> None:
        product = {"id": write.product_id}
        if write.product_id == write.variant_id:  # a simple product is its own variant
            calls = [(SIMPLE, "product.update", product)]
        else:
            child = {"id": write.variant_id, "product_id": write.product_id}
            calls = [(CHILD, "product.variant.update", child), (PARENT, "product.update", product)]
        for table, method, ids in calls:
            if body := table.body(write):
                self.write_call()
                await self.source.client.put(method, {**ids, **body})


SPEC = CatalogSpec(
    factory=Api2CartCatalog,
    write_paths={
        F.PRICE: "product.update / product.variant.update (one per call)",
        F.TAX: "product.update / product.variant.update (taxable)",
        F.STOCK: "product.update / product.variant.update (quantity, absolute)",
        F.STATUS: "product.update (avail) / product.variant.update (available_for_sale)",
        F.NAME: "product.update (name)",
        F.DESCRIPTION: "product.update (description)",
    },
)
