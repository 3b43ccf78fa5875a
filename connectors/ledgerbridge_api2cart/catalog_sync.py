"""API2Cart in a catalog pipeline: products and their children read by ``modified_at``,
price, tax, stock, status and titles written with ``product.update`` and
``product.variant.update``.

Reads walk ``product.list`` sorted by ``modified_at`` from the checkpoint, with the source's
own overlap window and cursor paging (``Api2CartSource._walk``); each page's children come
from ``product.child_item.list`` in one call per page.  A child's change does not move its
parent's ``modified_at`` on every platform, so a storefront-side child edit may be seen
late; the engine keeps what it wrote as the child's state, so its own writes never come
back as changes.

Writes are one call per product or child: API2Cart has no batch update in the
``product.update`` family the catalog uses.  Stock is written as absolute ``quantity``
(with ``manage_stock``): API2Cart recommends relative changes on busy stores, but an
absolute value is what makes a repeated write harmless.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import (
    EntityType,
    InventoryLevel,
    Money,
    Product,
    ProductVariant,
    SourceRef,
)
from ledgerbridge.contracts import Change, ConnectorContext
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
from ledgerbridge.contracts.readers import text
from ledgerbridge.errors import SyncError, ValidationFailed

from .checkpoint import Checkpoint
from .envelope import PLATFORM
from .fields import timestamp_text

PRODUCT_FIELDS = (
    "{return_code,return_message,pagination,result{products_count,product{id,type,u_model,"
    "u_sku,name,description,price,avail_sale,quantity,manage_stock,taxable,modified_at}}}"
)
CHILD_FIELDS = (
    "{return_code,return_message,pagination,result{total_count,children{id,parent_id,sku,"
    "name,default_price,upc,ean,gtin,quantity,manage_stock,taxable,status,modified_time}}}"
)
PAGE = 100


def _variant(raw: Mapping[str, Any], currency: str, status: str | None) -> ProductVariant:
    vid = str(raw["id"])
    price = raw.get("default_price", raw.get("price"))
    quantity = raw.get("quantity")
    return ProductVariant(
        external_id=vid,
        sku=text(raw.get("sku")) or text(raw.get("u_sku")) or text(raw.get("u_model")),
        price=Money(amount=Decimal(str(price)), currency=currency) if price is not None else None,
        taxable=raw.get("taxable") is not False,
        barcode=text(raw.get("upc")) or text(raw.get("ean")) or text(raw.get("gtin")),
        status=status,
        inventory=(
            (InventoryLevel(variant=vid, location="", available=int(Decimal(str(quantity)))),)
            if quantity is not None
            else ()
        ),
    )


def map_catalog_product(
    raw: Mapping[str, Any], children: Sequence[Mapping[str, Any]], store: str, currency: str
) -> Product:
    status = ACTIVE if raw.get("avail_sale", True) else INACTIVE
    variants = tuple(
        _variant(
            c,
            currency,
            None
            if c.get("status") is None
            else (ACTIVE if c.get("status") in ("enabled", "active", True) else INACTIVE),
        )
        for c in children
    ) or (_variant(raw, currency, None),)
    return Product(
        source=SourceRef(
            platform=PLATFORM,
            store=store,
            external_id=str(raw["id"]),
            version=timestamp_text(raw.get("modified_at")),
        ),
        title=text(raw.get("name")) or f"Product {raw['id']}",
        description=text(raw.get("description")),
        status=status,
        variants=variants,
    )


class Api2CartCatalog(CatalogConnector):
    def __init__(self, context: ConnectorContext) -> None:
        from .source import Api2CartSource

        self.source = Api2CartSource(context)
        self.client = self.source.client
        self.currency = self.source.settings.currency or "USD"
        self.calls = {"reads": 0, "writes": 0}

    async def aclose(self) -> None:
        await self.source.aclose()

    async def catalog_changes(self, checkpoint: str | None) -> AsyncIterator[CatalogPage]:
        pending: list[Product] = []
        unreadable: dict[str, SyncError] = {}

        async def build(items: list[dict[str, Any]]) -> list[Change]:
            self.calls["reads"] += 1
            children = await self._children([str(i["id"]) for i in items if i.get("id")])
            for item in items:
                try:
                    pending.append(
                        map_catalog_product(
                            item,
                            children.get(str(item.get("id")), []),
                            self.source.store,
                            self.currency,
                        )
                    )
                except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                    unreadable[str(item.get("id"))] = ValidationFailed(
                        f"API2Cart product {item.get('id')}: {type(exc).__name__}: {exc}",
                        platform=PLATFORM,
                    )
            # one placeholder change per page, so the walk hands its checkpoint over
            return [Change(EntityType.PRODUCT, "page", None)]

        walk = self.source._walk(
            EntityType.PRODUCT, {"response_fields": PRODUCT_FIELDS}, Checkpoint.loads(checkpoint),
            PAGE, build,
        )  # fmt: skip
        async for page in walk:
            yield CatalogPage(list(pending), page.checkpoint, dict(unreadable))
            pending.clear()
            unreadable.clear()

    async def _children(self, product_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        from .pagination import CursorPaginator

        grouped: dict[str, list[dict[str, Any]]] = {}
        if not product_ids:
            return grouped
        params: dict[str, str | int | bool] = {
            "product_ids": ",".join(product_ids),
            "response_fields": CHILD_FIELDS,
            "count": 250,
        }
        async for children in CursorPaginator(
            self.client, "product.child_item.list", params, "children"
        ).pages():
            self.calls["reads"] += 1
            for child in children:
                grouped.setdefault(str(child.get("parent_id")), []).append(child)
        return grouped

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
        if w.price is not None:
            body["price"] = w.price
        if w.taxable is not None:
            body["taxable"] = w.taxable
        if w.stock is not None:
            body.update(quantity=w.stock, manage_stock=True)
        status = w.values.get(CatalogField.STATUS)
        parent: dict[str, Any] = {}
        if CatalogField.NAME in w.values:
            parent["name"] = w.values[CatalogField.NAME]
        if CatalogField.DESCRIPTION in w.values:
            parent["description"] = w.values[CatalogField.DESCRIPTION]
        if w.product_id == w.variant_id:  # a simple product is its own variant
            body.update(parent)
            if status is not None:
                body["avail"] = status == ACTIVE
            if body:
                await self._put("product.update", {"id": w.product_id, **body})
            return
        if status is not None:
            body["available_for_sale"] = status == ACTIVE
        if body:
            await self._put(
                "product.variant.update", {"id": w.variant_id, "product_id": w.product_id, **body}
            )
        if parent:
            await self._put("product.update", {"id": w.product_id, **parent})

    async def _put(self, method: str, body: dict[str, Any]) -> None:
        """One ``PUT`` through the client's kit (pacing, account gate, envelope, retries by
        class -- absolute values, so sent again safely); the body's prices go out as exact
        JSON numbers (never through float)."""
        client = self.client
        self.calls["writes"] += 1
        await client.kit.request(
            "PUT", f"{method}.json", content=_dumps(body).encode(),
            headers={"content-type": "application/json"}, idempotent=True,
            before=client._pace, read=lambda response: client._open(method, response),
        )  # fmt: skip


def _dumps(value: Any) -> str:
    """Compact JSON with ``Decimal`` written as its exact text."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite amount")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError(f"refusing to encode float {value!r}: use Decimal for amounts")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_dumps(v) for v in value) + "]"
    return json.dumps(value)


def _factory(context: ConnectorContext) -> CatalogConnector:
    return Api2CartCatalog(context)


SPEC = CatalogSpec(
    factory=_factory,
    reads=frozenset(CatalogField),
    writes=frozenset(CatalogField),
    write_paths={
        CatalogField.PRICE: "product.update / product.variant.update (one per call)",
        CatalogField.TAX: "product.update / product.variant.update (taxable)",
        CatalogField.STOCK: "product.update / product.variant.update (quantity, absolute)",
        CatalogField.STATUS: "product.update (avail) / product.variant.update (available_for_sale)",
        CatalogField.NAME: "product.update (name)",
        CatalogField.DESCRIPTION: "product.update (description)",
    },
)
