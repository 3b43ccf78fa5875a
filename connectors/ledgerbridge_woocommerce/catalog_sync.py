"""WooCommerce in a catalog pipeline: products and variations read incrementally; price, tax,
stock, status and titles written through the batch endpoints (woocommerce.md §1).

Reads: ``GET /products`` by ``modified`` ascending, 100 per page, a variable product's
variations with it.  Page numbers shift when a product changes during the walk, so the
checkpoint comes with the last page only (``catalog_kit.NewestSeen``; ``modified_after`` is
exclusive).  Writes: ``POST /products/batch`` (simple products, parents' name, description
and status) and ``/products/{id}/variations/batch``, up to 100 objects each; every value is
absolute, so a batch sent twice changes nothing twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import Product, ProductVariant
from ledgerbridge.catalog_kit import (
    Column,
    FieldTable,
    KitCatalog,
    NewestSeen,
    Outcomes,
    PageOfProducts,
    StatusWords,
    catalog_product,
    money,
    per_product,
    refusal,
    stock,
)
from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.contracts.catalog import (
    CatalogField,
    CatalogPage,
    CatalogSpec,
    CatalogWrite,
    WriteResult,
)
from ledgerbridge.errors import TransientError
from ledgerbridge.http import has_more_pages

from .responses import PLATFORM

PER_PAGE = 100
MAX_BATCH = 100
PRODUCT_STATUS = StatusWords(active="publish", inactive="draft")
VARIATION_STATUS = StatusWords(active="publish", inactive="private")
F = CatalogField


def _price(w: CatalogWrite) -> str | None:
    """A price as the store shows it: "8.00", not "8" (a longer fraction kept whole)."""
    if w.price is None:
        return None
    cents = w.price.quantize(Decimal("0.01"))
    return str(cents if cents == w.price else w.price)


# A variant's own fields; a simple product takes its status as a product, a variation its own.
_OWN = (
    Column(F.PRICE, "regular_price", _price),
    Column(F.TAX, "tax_status", lambda w: "taxable" if w.taxable else "none"),
    Column(F.STOCK, "manage_stock", lambda w: True),
    Column(F.STOCK, "stock_quantity", lambda w: w.stock),
)
SIMPLE = FieldTable(
    *_OWN, Column(F.STATUS, "status", lambda w: PRODUCT_STATUS.write(w.values[F.STATUS]))
)
VARIATION = FieldTable(
    *_OWN, Column(F.STATUS, "status", lambda w: VARIATION_STATUS.write(w.values[F.STATUS]))
)
PARENT = FieldTable(  # a product's own name and description, a simple one's or a parent's
    Column(F.NAME, "name"), Column(F.DESCRIPTION, "description"), in_write_order=True
)

Item = tuple[list[CatalogWrite], dict[str, Any]]  # one object of a batch, the writes it carries


def _variant(row: dict[str, Any], currency: str, status: str | None) -> ProductVariant:
    vid = str(row["id"])
    price = row.get("regular_price") or row.get("price")
    managed = bool(row.get("manage_stock")) and row.get("stock_quantity") is not None
    return ProductVariant(
        external_id=vid,
        sku=row.get("sku") or None,
        price=money(price, currency) if price else None,
        taxable=row.get("tax_status", "taxable") == "taxable",
        status=status,
        inventory=stock(vid, int(row["stock_quantity"]) if managed else None),
    )


def map_product(
    row: dict[str, Any], variations: list[dict[str, Any]], store: str, currency: str
) -> Product:
    if row.get("type") == "variable":
        variants = [
            _variant(v, currency, VARIATION_STATUS.read(v.get("status"))) for v in variations
        ]
    else:
        variants = [_variant(row, currency, None)]
    return catalog_product(
        platform=PLATFORM,
        store=store,
        external_id=str(row["id"]),
        version=row.get("date_modified_gmt"),
        title=row["name"],
        description=row.get("description") or None,
        status=PRODUCT_STATUS.read(row.get("status")),
        variants=variants,
    )


def _more(result: Any) -> bool:
    return bool(result.items) and result.has_more


class WooCommerceCatalog(KitCatalog):
    def __init__(self, context: ConnectorContext) -> None:
        from .source import WooCommerceSource

        self.source = WooCommerceSource(context)
        super().__init__(self.source)
        self.client = self.source.client
        self.settings = self.source.settings

    async def _pages(self, path: str, params: dict[str, Any]) -> AsyncIterator[Any]:
        async def fetch(number: int) -> Any:
            self.read_call()
            return await self.client.get_page(path, params, number, PER_PAGE)

        async for result in has_more_pages(fetch, _more):
            yield result

    async def catalog_changes(self, checkpoint: str | None) -> AsyncIterator[CatalogPage]:
        currency = self.settings.currency or "USD"
        mark = NewestSeen(  # a ``*_gmt`` stamp is UTC written without an offset
            checkpoint,
            "%Y-%m-%dT%H:%M:%S",
            parse=lambda s: datetime.fromisoformat(s).replace(tzinfo=UTC),
        )
        params: dict[str, Any] = {"orderby": "modified", "order": "asc"}
        if checkpoint:
            params.update(modified_after=checkpoint, dates_are_gmt="true")
        async for result in self._pages("/products", params):
            page = PageOfProducts("woocommerce product", PLATFORM)
            for row in result.items:
                with page.mapping(row.get("id")):
                    variations: list[dict[str, Any]] = []
                    if row.get("type") == "variable":
                        path = f"/products/{int(row['id'])}/variations"
                        variations = [v async for p in self._pages(path, {}) for v in p.items]
                    page.add(map_product(row, variations, self.settings.store_key, currency))
                mark.note(row.get("date_modified_gmt"))
            yield page.done(mark.after(_more(result)))

    async def write_variants(self, writes: Sequence[CatalogWrite]) -> list[WriteResult]:
        outcomes = Outcomes(writes)
        simple: list[Item] = []
        by_parent: dict[str, list[Item]] = {}
        for w in writes:
            if w.product_id == w.variant_id:  # a simple product is its own variant
                simple.append(([w], {"id": int(w.variant_id), **SIMPLE.body(w), **PARENT.body(w)}))
                continue
            own = {"id": int(w.variant_id), **VARIATION.body(w)}
            if len(own) > 1:
                by_parent.setdefault(w.product_id, []).append(([w], own))
        # A parent's fields, merged over its variations' writes, fail or pass for all of them.
        variations = [w for w in writes if w.product_id != w.variant_id]
        parents = per_product(variations, PARENT, head=lambda w: {"id": int(w.product_id)})
        parent_items: list[Item] = [(p.writes, p.body) for p in parents]
        await self._batches("/products/batch", simple + parent_items, outcomes)
        for pid, items in by_parent.items():
            await self._batches(f"/products/{pid}/variations/batch", items, outcomes)
        return outcomes.results()

    async def _batches(self, path: str, items: list[Item], outcomes: Outcomes) -> None:
        async def send(chunk: list[Item]) -> Any:
            """Through the source's kit client (auth, error classes, retries): every value
            is absolute, so a batch whose answer was lost is sent again safely."""
            self.write_call()
            body = {"update": [body for _, body in chunk]}
            _, answer = await self.client.kit.request(
                "POST", path, json=body, expect=dict, idempotent=True
            )
            return answer

        async for chunk, answer in outcomes.sent(items, MAX_BATCH, send, lambda i: i[0]):
            rows = answer.get("update") if isinstance(answer, dict) else None
            if not isinstance(rows, list) or len(rows) != len(chunk):
                short = TransientError(
                    f"woocommerce {path}: the batch answer does not list every object",
                    platform=PLATFORM,
                )
                outcomes.fail((w for ws, _ in chunk for w in ws), short)
                continue
            for (ws, _), row in zip(chunk, rows, strict=True):
                problem = row.get("error") if isinstance(row, dict) else None
                if problem:
                    outcomes.fail(ws, refusal(f"woocommerce {path}", [problem], platform=PLATFORM))


SPEC = CatalogSpec(
    factory=WooCommerceCatalog,
    write_paths={
        F.PRICE: "products/batch, products/{id}/variations/batch (100 per request)",
        F.TAX: "products/batch, variations/batch (tax_status)",
        F.STOCK: "products/batch, variations/batch (manage_stock, stock_quantity)",
        F.STATUS: "products/batch, variations/batch (status)",
        F.NAME: "products/batch (the product's name)",
        F.DESCRIPTION: "products/batch (the product's description)",
    },
)
