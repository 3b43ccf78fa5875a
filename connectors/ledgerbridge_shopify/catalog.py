"""Shopify in a catalog pipeline: products and variants read incrementally, price, tax,
stock, status and titles written through the bulk paths.

Reads: ``products(query: "updated_at:>='T'", sortKey: UPDATED_AT)`` -- oldest first, so the
last product of a page is a safe checkpoint (inclusive: a product at that very second is
read again, harmlessly).  Writes (admin GraphQL 2025-01):

- price and tax: ``productVariantsBulkUpdate``, one per product, up to ``ALIASES`` of them
  aliased in one request (one product per mutation is the mutation's own rule);
- stock: ``inventorySetQuantities`` with up to 250 quantities per call (shopify.md: array
  inputs hold at most 250 items), at the variant's first location, ``ignoreCompareQuantity``
  because the engine compares against what it last read (docs/catalog.md);
- name, description, status: ``productUpdate`` (the product's title, description and
  status: a product's variants share them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
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

STATUS_OUT = {ACTIVE: "ACTIVE", INACTIVE: "DRAFT"}


def _status(value: str | None) -> str | None:
    return None if value is None else (ACTIVE if value == "ACTIVE" else INACTIVE)


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
                price=Money(amount=Decimal(str(v["price"])), currency=currency),
                taxable=bool(v.get("taxable")),
                barcode=v.get("barcode") or None,
                inventory=(
                    (
                        InventoryLevel(
                            variant=v["id"],
                            location=location or "",
                            available=int(v["inventoryQuantity"]),
                        ),
                    )
                    if tracked
                    else ()
                ),
                handles=handles,
            )
        )
    return Product(
        source=SourceRef(
            platform=PLATFORM, store=store, external_id=node["id"], version=node.get("updatedAt")
        ),
        title=node["title"],
        status=_status(node.get("status")),
        description=node.get("descriptionHtml") or None,
        variants=tuple(variants),
    )


class ShopifyCatalog(CatalogConnector):
    def __init__(self, context: ConnectorContext) -> None:
        from .source import ShopifySource

        self.source = ShopifySource(context)
        self.client = self.source.client
        self.store = self.source.store
        self.calls = {"reads": 0, "writes": 0}

    async def aclose(self) -> None:
        await self.source.aclose()

    async def _currency(self) -> str:
        data = await self.client.execute("{ shop { currencyCode } }", operation="shop")
        return str(data["shop"]["currencyCode"])

    async def catalog_changes(self, checkpoint: str | None) -> AsyncIterator[CatalogPage]:
        currency = await self._currency()
        query = f"updated_at:>='{checkpoint}'" if checkpoint else None
        after: str | None = None
        while True:
            self.calls["reads"] += 1
            data = await self.client.execute(
                PRODUCTS,
                {"first": PAGE, "after": after, "query": query},
                operation="catalog products",
            )
            conn = data["products"]
            products: list[Product] = []
            unreadable: dict[str, SyncError] = {}
            for node in conn["nodes"]:
                try:
                    products.append(map_product(node, self.store, currency))
                except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                    unreadable[str(node.get("id"))] = ValidationFailed(
                        f"shopify product {node.get('id')}: {type(exc).__name__}: {exc}",
                        platform=PLATFORM,
                    )
            last = conn["nodes"][-1]["updatedAt"] if conn["nodes"] else checkpoint
            yield CatalogPage(products, last, unreadable)
            if not conn["pageInfo"]["hasNextPage"]:
                return
            after = conn["pageInfo"]["endCursor"]

    async def write_variants(self, writes: Sequence[CatalogWrite]) -> list[WriteResult]:
        errors: dict[str, SyncError] = {}
        await self._variant_fields(writes, errors)
        await self._stock(writes, errors)
        await self._products(writes, errors)
        return [WriteResult(w.key, errors.get(w.key)) for w in writes]

    async def _variant_fields(
        self, writes: Sequence[CatalogWrite], errors: dict[str, SyncError]
    ) -> None:
        by_product: dict[str, list[CatalogWrite]] = {}
        for w in writes:
            if CatalogField.PRICE in w.values or CatalogField.TAX in w.values:
                by_product.setdefault(w.product_id, []).append(w)
        groups = list(by_product.items())
        for start in range(0, len(groups), ALIASES):
            chunk = groups[start : start + ALIASES]
            decl, body = [], []
            variables: dict[str, Any] = {}
            for i, (product_id, items) in enumerate(chunk):
                decl.append(f"$p{i}: ID!, $v{i}: [ProductVariantsBulkInput!]!")
                body.append(
                    f"m{i}: productVariantsBulkUpdate(productId: $p{i}, variants: $v{i}) "
                    "{ userErrors { code field message } }"
                )
                variables[f"p{i}"] = product_id
                variables[f"v{i}"] = [_variant_input(w) for w in items]
            doc = f"mutation CatalogVariants({', '.join(decl)}) {{ {' '.join(body)} }}"
            try:
                self.calls["writes"] += 1
                data = await self.client.execute(doc, variables, operation="catalog variants")
            except SyncError as exc:
                for _, items in chunk:
                    errors.update({w.key: exc for w in items})
                continue
            for i, (_, items) in enumerate(chunk):
                problems = (data.get(f"m{i}") or {}).get("userErrors") or []
                if problems:
                    refused = _user_error("productVariantsBulkUpdate", problems)
                    errors.update({w.key: refused for w in items})

    async def _stock(self, writes: Sequence[CatalogWrite], errors: dict[str, SyncError]) -> None:
        items = [w for w in writes if CatalogField.STOCK in w.values and w.key not in errors]
        for w in items:
            if "inventory_item_id" not in w.handles or "location_id" not in w.handles:
                errors[w.key] = ValidationFailed(
                    f"shopify variant {w.variant_id} has no tracked inventory to set",
                    platform=PLATFORM,
                )
        items = [w for w in items if w.key not in errors]
        for start in range(0, len(items), MAX_QUANTITIES):
            chunk = items[start : start + MAX_QUANTITIES]
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
            try:
                self.calls["writes"] += 1
                data = await self.client.execute(
                    SET_QUANTITIES, {"input": payload}, operation="catalog stock"
                )
            except SyncError as exc:
                errors.update({w.key: exc for w in chunk})
                continue
            problems = data["inventorySetQuantities"]["userErrors"]
            if problems:
                refused = _user_error("inventorySetQuantities", problems)
                errors.update({w.key: refused for w in chunk})

    async def _products(self, writes: Sequence[CatalogWrite], errors: dict[str, SyncError]) -> None:
        fields = {
            CatalogField.NAME: "title",
            CatalogField.DESCRIPTION: "descriptionHtml",
            CatalogField.STATUS: "status",
        }
        by_product: dict[str, dict[str, Any]] = {}
        owners: dict[str, list[CatalogWrite]] = {}
        for w in writes:
            changes = {fields[f]: v for f, v in w.values.items() if f in fields}
            if not changes or w.key in errors:
                continue
            if "status" in changes:
                changes["status"] = STATUS_OUT.get(changes["status"], "DRAFT")
            by_product.setdefault(w.product_id, {}).update(changes)
            owners.setdefault(w.product_id, []).append(w)
        for product_id, changes in by_product.items():
            try:
                self.calls["writes"] += 1
                data = await self.client.execute(
                    PRODUCT_UPDATE,
                    {"product": {"id": product_id, **changes}},
                    operation="catalog product",
                )
            except SyncError as exc:
                errors.update({w.key: exc for w in owners[product_id]})
                continue
            problems = data["productUpdate"]["userErrors"]
            if problems:
                refused = _user_error("productUpdate", problems)
                errors.update({w.key: refused for w in owners[product_id]})


def _variant_input(w: CatalogWrite) -> dict[str, Any]:
    out: dict[str, Any] = {"id": w.variant_id}
    if w.price is not None:
        out["price"] = str(w.price)
    if w.taxable is not None:
        out["taxable"] = w.taxable
    return out


def _user_error(operation: str, problems: list[dict[str, Any]]) -> SyncError:
    first = problems[0]
    return ValidationFailed(
        f"shopify {operation}: {first.get('message')}",
        platform=PLATFORM,
        code=first.get("code"),
        platform_message="; ".join(str(p.get("message")) for p in problems),
    )


def _factory(context: ConnectorContext) -> CatalogConnector:
    return ShopifyCatalog(context)


SPEC = CatalogSpec(
    factory=_factory,
    reads=frozenset(CatalogField),
    writes=frozenset(CatalogField),
    write_paths={
        CatalogField.PRICE: "productVariantsBulkUpdate (per product, aliased)",
        CatalogField.TAX: "productVariantsBulkUpdate (taxable)",
        CatalogField.STOCK: "inventorySetQuantities (250 per call)",
        CatalogField.NAME: "productUpdate (title)",
        CatalogField.DESCRIPTION: "productUpdate (descriptionHtml)",
        CatalogField.STATUS: "productUpdate (status)",
    },
)
