"""Shopify in a catalog pipeline: products and variants read incrementally, price, tax,
stock, status and titles written through the bulk paths (admin GraphQL 2025-01).

Reads: ``products(query: "updated_at:>='T'", sortKey: UPDATED_AT)`` -- oldest first, so the
last product of a page is a safe checkpoint (inclusive: a product at that very second is
read again, harmlessly).  Writes:

- price and tax: ``productVariantsBulkUpdate``, one per product (the mutation's own rule), up
  to ``ALIASES`` of them aliased in one request;
- stock: ``inventorySetQuantities``, 250 quantities per call (shopify.md: array inputs hold at
  most 250 items), at the variant's first location, ``ignoreCompareQuantity`` because the
  engine compares against what it last read (docs/catalog.md);
- name, description, status: ``productUpdate`` (a product's variants share them).

A mutation's ``userErrors`` fail the writes of its product or chunk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ledgerbridge.canonical import Product, ProductVariant
from ledgerbridge.catalog_kit import (
    Column,
    FieldTable,
    KitCatalog,
    Outcomes,
    PageOfProducts,
    ProductWrite,
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
from ledgerbridge.errors import SyncError, ValidationFailed
from ledgerbridge.http import connection_pages

from .mapping_common import PLATFORM

PAGE = 15  # products per read page: 15 x (10 variants with their inventory) stays under 1,000
ALIASES = 25  # productVariantsBulkUpdate mutations per request (10 points each)
MAX_QUANTITIES = 250

PRODUCTS = """
query CatalogProducts($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id title status descriptionHtml updatedAt
      variants(first: 10) {
        pageInfo { hasNextPage }
        nodes {
          id sku barcode price taxable inventoryQuantity
          inventoryItem { id tracked inventoryLevels(first: 1) { nodes { location { id } } } }
        }
      }
    }
  }
}
"""

SET_QUANTITIES = """
mutation CatalogStock($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { userErrors { code field message } }
}
"""

PRODUCT_UPDATE = """
mutation CatalogProduct($product: ProductUpdateInput!) {
  productUpdate(product: $product) { userErrors { field message } }
}
"""

STATUS = StatusWords(active="ACTIVE", inactive="DRAFT")
F = CatalogField
VARIANT = FieldTable(  # ProductVariantsBulkInput
    Column(F.PRICE, "price", lambda w: None if w.price is None else str(w.price)),
    Column(F.TAX, "taxable", lambda w: w.taxable),
)
PRODUCT = FieldTable(  # ProductUpdateInput
    Column(F.NAME, "title"),
    Column(F.DESCRIPTION, "descriptionHtml"),
    Column(F.STATUS, "status", lambda w: STATUS.write(w.values[F.STATUS])),
    in_write_order=True,
)


def map_product(node: dict[str, Any], store: str, currency: str) -> Product:
    if node["variants"].get("pageInfo", {}).get("hasNextPage"):
        raise ValueError("more than 10 variants: read the product through the bulk path")
    variants = []
    for v in node["variants"]["nodes"]:
        item = v.get("inventoryItem") or {}
        levels = (item.get("inventoryLevels") or {}).get("nodes") or []
        location = levels[0]["location"]["id"] if levels else None
        tracked = bool(item.get("tracked")) and v.get("inventoryQuantity") is not None
        handles = {"inventory_item_id": item["id"]} if item.get("id") else {}
        if location:
            handles["location_id"] = location
        variants.append(
            ProductVariant(
                external_id=v["id"],
                sku=v.get("sku") or None,
                price=money(v["price"], currency),
                taxable=bool(v.get("taxable")),
                barcode=v.get("barcode") or None,
                inventory=stock(
                    v["id"], int(v["inventoryQuantity"]) if tracked else None, location or ""
                ),
                handles=handles,
            )
        )
    status = node.get("status")
    return catalog_product(
        platform=PLATFORM,
        store=store,
        external_id=node["id"],
        version=node.get("updatedAt"),
        title=node["title"],
        description=node.get("descriptionHtml") or None,
        status=None if status is None else STATUS.read(status),
        variants=variants,
    )


class ShopifyCatalog(KitCatalog):
    def __init__(self, context: ConnectorContext) -> None:
        from .source import ShopifySource

        self.source = ShopifySource(context)
        super().__init__(self.source)
        self.client = self.source.client
        self.store = self.source.store

    async def _currency(self) -> str:
        data = await self.client.execute("{ shop { currencyCode } }", operation="shop")
        return str(data["shop"]["currencyCode"])

    async def catalog_changes(self, checkpoint: str | None) -> AsyncIterator[CatalogPage]:
        currency = await self._currency()
        query = f"updated_at:>='{checkpoint}'" if checkpoint else None

        async def products(after: str | None) -> Any:
            self.read_call()
            variables = {"first": PAGE, "after": after, "query": query}
            data = await self.client.execute(PRODUCTS, variables, operation="catalog products")
            return data["products"]

        async for conn in connection_pages(products, platform=PLATFORM):
            page, nodes = PageOfProducts("shopify product", PLATFORM), conn["nodes"]
            for node in nodes:
                with page.mapping(node.get("id")):
                    page.add(map_product(node, self.store, currency))
            yield page.done(nodes[-1]["updatedAt"] if nodes else checkpoint)

    async def write_variants(self, writes: Sequence[CatalogWrite]) -> list[WriteResult]:
        outcomes = Outcomes(writes)
        await self._variant_fields(writes, outcomes)
        await self._stock(writes, outcomes)
        await self._products(writes, outcomes)
        return outcomes.results()

    async def _variant_fields(self, writes: Sequence[CatalogWrite], outcomes: Outcomes) -> None:
        by_product: dict[str, list[CatalogWrite]] = {}
        for w in writes:
            if F.PRICE in w.values or F.TAX in w.values:
                by_product.setdefault(w.product_id, []).append(w)

        def send(chunk: list[tuple[str, list[CatalogWrite]]]) -> Any:
            decl, body = [], []
            variables: dict[str, Any] = {}
            for i, (product_id, items) in enumerate(chunk):
                decl.append(f"$p{i}: ID!, $v{i}: [ProductVariantsBulkInput!]!")
                body.append(
                    f"m{i}: productVariantsBulkUpdate(productId: $p{i}, variants: $v{i}) "
                    "{ userErrors { code field message } }"
                )
                variables[f"p{i}"] = product_id
                variables[f"v{i}"] = [{"id": w.variant_id, **VARIANT.body(w)} for w in items]
            doc = f"mutation CatalogVariants({', '.join(decl)}) {{ {' '.join(body)} }}"
            self.write_call()
            return self.client.execute(doc, variables, operation="catalog variants")

        groups = list(by_product.items())
        async for chunk, data in outcomes.sent(groups, ALIASES, send, lambda g: g[1]):
            for i, (_, items) in enumerate(chunk):
                problems = (data.get(f"m{i}") or {}).get("userErrors") or []
                if problems:
                    outcomes.fail(items, _refused("productVariantsBulkUpdate", problems))

    async def _stock(self, writes: Sequence[CatalogWrite], outcomes: Outcomes) -> None:
        items = [w for w in writes if F.STOCK in w.values and not outcomes.failed(w)]
        for w in items:
            if "inventory_item_id" not in w.handles or "location_id" not in w.handles:
                untracked = f"shopify variant {w.variant_id} has no tracked inventory to set"
                outcomes.fail([w], ValidationFailed(untracked, platform=PLATFORM))
        items = [w for w in items if not outcomes.failed(w)]

        def send(chunk: list[CatalogWrite]) -> Any:
            payload = {
                "name": "available",
                "reason": "correction",
                "ignoreCompareQuantity": True,
                "quantities": [
                    {
                        "inventoryItemId": w.handles["inventory_item_id"],
                        "locationId": w.handles["location_id"],
                        "quantity": w.stock,
                    }
                    for w in chunk
                ],
            }
            self.write_call()
            return self.client.execute(
                SET_QUANTITIES, {"input": payload}, operation="catalog stock"
            )

        async for chunk, data in outcomes.sent(items, MAX_QUANTITIES, send, lambda w: [w]):
            problems = data["inventorySetQuantities"]["userErrors"]
            if problems:
                outcomes.fail(chunk, _refused("inventorySetQuantities", problems))

    async def _products(self, writes: Sequence[CatalogWrite], outcomes: Outcomes) -> None:
        def send(chunk: list[ProductWrite]) -> Any:
            (product,) = chunk
            self.write_call()
            return self.client.execute(
                PRODUCT_UPDATE,
                {"product": {"id": product.product_id, **product.body}},
                operation="catalog product",
            )

        products = per_product(writes, PRODUCT, skip=outcomes.failed)
        async for chunk, data in outcomes.sent(products, 1, send, lambda p: p.writes):
            problems = data["productUpdate"]["userErrors"]
            if problems:
                outcomes.fail(chunk[0].writes, _refused("productUpdate", problems))


def _refused(operation: str, problems: list[dict[str, Any]]) -> SyncError:
    return refusal(f"shopify {operation}", problems, platform=PLATFORM)


SPEC = CatalogSpec(
    factory=ShopifyCatalog,
    write_paths={
        F.PRICE: "productVariantsBulkUpdate (per product, aliased)",
        F.TAX: "productVariantsBulkUpdate (taxable)",
        F.STOCK: "inventorySetQuantities (250 per call)",
        F.NAME: "productUpdate (title)",
        F.DESCRIPTION: "productUpdate (descriptionHtml)",
        F.STATUS: "productUpdate (status)",
    },
)
