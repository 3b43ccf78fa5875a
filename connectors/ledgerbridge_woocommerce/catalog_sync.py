"""WooCommerce in a catalog pipeline: products and variations read incrementally, price,
tax, stock, status and titles written through the batch endpoints.

Reads: ``GET /products?modified_after=…&dates_are_gmt=true&orderby=modified&order=asc``,
100 per page; a variable product's variations through ``GET /products/{id}/variations``
(one call per changed variable product).  Page numbers shift when a product changes
during the walk, so the checkpoint is given with the last page only: the newest product
read (``modified_after`` is exclusive, and every product modified up to it was read), but
never later than the walk's start less a minute of clock skew -- whatever changed while it
ran is read again next time.

Writes: ``POST /products/batch`` (simple products and the parents' name, description and
status) and ``POST /products/{id}/variations/batch`` (a variation's price, tax, stock and
status), up to 100 objects per request (woocommerce.md §1).  Every value is absolute, so a
batch sent twice changes nothing twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

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
from ledgerbridge.errors import SyncError, TransientError, ValidationFailed

from .responses import PLATFORM
from .settings import WooCommerceSettings

PER_PAGE = 100
MAX_BATCH = 100
SKEW = timedelta(minutes=1)
PARENT_FIELDS = {CatalogField.NAME: "name", CatalogField.DESCRIPTION: "description"}


def _status(value: Any) -> str:
    return ACTIVE if value == "publish" else INACTIVE


def _variant(row: dict[str, Any], currency: str, status: str | None) -> ProductVariant:
    vid = str(row["id"])
    price = row.get("regular_price") or row.get("price")
    managed = bool(row.get("manage_stock")) and row.get("stock_quantity") is not None
    return ProductVariant(
        external_id=vid,
        sku=row.get("sku") or None,
        price=Money(amount=Decimal(str(price)), currency=currency) if price else None,
        taxable=row.get("tax_status", "taxable") == "taxable",
        status=status,
        inventory=(
            (InventoryLevel(variant=vid, location="", available=int(row["stock_quantity"])),)
            if managed
            else ()
        ),
    )


def map_product(
    row: dict[str, Any], variations: list[dict[str, Any]], store: str, currency: str
) -> Product:
    if row.get("type") == "variable":
        variants = tuple(_variant(v, currency, _status(v.get("status"))) for v in variations)
    else:
        variants = (_variant(row, currency, None),)
    return Product(
        source=SourceRef(
            platform=PLATFORM,
            store=store,
            external_id=str(row["id"]),
            version=row.get("date_modified_gmt"),
        ),
        title=row["name"],
        description=row.get("description") or None,
        status=_status(row.get("status")),
        variants=variants,
    )


class WooCommerceCatalog(CatalogConnector):
    def __init__(self, context: ConnectorContext) -> None:
        from .source import WooCommerceSource

        self.source = WooCommerceSource(context)
        self.client = self.source.client
        self.settings = cast(WooCommerceSettings, context.settings)
        self.sleep = context.clock.sleep
        self.calls = {"reads": 0, "writes": 0}

    async def aclose(self) -> None:
        await self.source.aclose()

    async def catalog_changes(self, checkpoint: str | None) -> AsyncIterator[CatalogPage]:
        currency = self.settings.currency or "USD"
        started = datetime.now(UTC) - SKEW
        params: dict[str, Any] = {"orderby": "modified", "order": "asc"}
        if checkpoint:
            params.update(modified_after=checkpoint, dates_are_gmt="true")
        newest: datetime | None = None
        page = 1
        while True:
            self.calls["reads"] += 1
            result = await self.client.get_page("/products", params, page, PER_PAGE)
            products: list[Product] = []
            unreadable: dict[str, SyncError] = {}
            for row in result.items:
                try:
                    variations: list[dict[str, Any]] = []
                    if row.get("type") == "variable":
                        variations = await self._variations(int(row["id"]))
                    products.append(map_product(row, variations, self.settings.store_key, currency))
                except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                    unreadable[str(row.get("id"))] = ValidationFailed(
                        f"woocommerce product {row.get('id')}: {type(exc).__name__}: {exc}",
                        platform=PLATFORM,
                    )
                stamp = row.get("date_modified_gmt")
                if stamp:
                    moment = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
                    newest = moment if newest is None or moment > newest else newest
            more = bool(result.items) and result.has_more
            mark = None
            if not more:  # everything up to ``newest`` is read; later edits carry later times
                mark = checkpoint
                if newest is not None:
                    mark = min(newest, started).strftime("%Y-%m-%dT%H:%M:%S")

            yield CatalogPage(products, mark, unreadable)
            if not more:
                return
            page += 1

    async def _variations(self, pid: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            self.calls["reads"] += 1
            result = await self.client.get_page(f"/products/{pid}/variations", {}, page, PER_PAGE)
            rows += result.items
            if not result.items or not result.has_more:
                return rows
            page += 1

    async def write_variants(self, writes: Sequence[CatalogWrite]) -> list[WriteResult]:
        errors: dict[str, SyncError] = {}
        simple: list[tuple[CatalogWrite, dict[str, Any]]] = []
        by_parent: dict[str, list[tuple[CatalogWrite, dict[str, Any]]]] = {}
        parents: dict[str, dict[str, Any]] = {}
        parent_writes: dict[str, list[CatalogWrite]] = {}
        for w in writes:
            own = _variant_update(w)
            parent = {PARENT_FIELDS[f]: v for f, v in w.values.items() if f in PARENT_FIELDS}
            if w.product_id == w.variant_id:  # a simple product is its own variant
                if CatalogField.STATUS in w.values:
                    own["status"] = (
                        "publish" if w.values[CatalogField.STATUS] == ACTIVE else "draft"
                    )
                simple.append((w, {**own, **parent}))
                continue
            if CatalogField.STATUS in w.values:
                own["status"] = "publish" if w.values[CatalogField.STATUS] == ACTIVE else "private"
            if len(own) > 1:
                by_parent.setdefault(w.product_id, []).append((w, own))
            if parent:
                parents.setdefault(w.product_id, {"id": int(w.product_id)}).update(parent)
                parent_writes.setdefault(w.product_id, []).append(w)
        parent_list = [(parent_writes[pid][0], body) for pid, body in parents.items()]
        await self._batches("/products/batch", simple + parent_list, errors)
        for pid in parents:  # a parent's fields fail or pass for all its variants
            first = errors.get(parent_writes[pid][0].key)
            if first is not None:
                errors.update({w.key: first for w in parent_writes[pid]})
        for pid, items in by_parent.items():
            await self._batches(f"/products/{pid}/variations/batch", items, errors)
        return [WriteResult(w.key, errors.get(w.key)) for w in writes]

    async def _batches(
        self,
        path: str,
        items: list[tuple[CatalogWrite, dict[str, Any]]],
        errors: dict[str, SyncError],
    ) -> None:
        for start in range(0, len(items), MAX_BATCH):
            chunk = items[start : start + MAX_BATCH]
            try:
                answer = await self._post(path, {"update": [body for _, body in chunk]})
            except SyncError as exc:
                errors.update({w.key: exc for w, _ in chunk})
                continue
            rows = answer.get("update") if isinstance(answer, dict) else None
            if not isinstance(rows, list) or len(rows) != len(chunk):
                short = TransientError(
                    f"woocommerce {path}: the batch answer does not list every object",
                    platform=PLATFORM,
                )
                errors.update({w.key: short for w, _ in chunk})
                continue
            for (w, _), row in zip(chunk, rows, strict=True):
                problem = row.get("error") if isinstance(row, dict) else None
                if problem:
                    errors[w.key] = ValidationFailed(
                        f"woocommerce {path}: {problem.get('message')}",
                        platform=PLATFORM,
                        code=problem.get("code"),
                        platform_message=problem.get("message"),
                    )

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        """One batch through the source's kit client (auth, error classes, retries): every
        value is absolute, so a batch whose answer was lost is sent again safely."""
        self.calls["writes"] += 1
        _, answer = await self.client.kit.request(
            "POST", path, json=body, expect=dict, idempotent=True
        )
        return answer


def _variant_update(w: CatalogWrite) -> dict[str, Any]:
    out: dict[str, Any] = {"id": int(w.variant_id)}
    if w.price is not None:  # a price as the store shows it: "8.00", not "8"
        cents = w.price.quantize(Decimal("0.01"))
        out["regular_price"] = str(cents if cents == w.price else w.price)
    if w.taxable is not None:
        out["tax_status"] = "taxable" if w.taxable else "none"
    if w.stock is not None:
        out["manage_stock"] = True
        out["stock_quantity"] = w.stock
    return out


def _factory(context: ConnectorContext) -> CatalogConnector:
    return WooCommerceCatalog(context)


SPEC = CatalogSpec(
    factory=_factory,
    reads=frozenset(CatalogField),
    writes=frozenset(CatalogField),
    write_paths={
        CatalogField.PRICE: "products/batch, products/{id}/variations/batch (100 per request)",
        CatalogField.TAX: "products/batch, variations/batch (tax_status)",
        CatalogField.STOCK: "products/batch, variations/batch (manage_stock, stock_quantity)",
        CatalogField.STATUS: "products/batch, variations/batch (status)",
        CatalogField.NAME: "products/batch (the product's name)",
        CatalogField.DESCRIPTION: "products/batch (the product's description)",
    },
)
