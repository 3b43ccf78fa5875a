"""The emulator's catalog writes: ``productVariantsBulkUpdate``, ``inventorySetQuantities``
and ``productUpdate`` (admin GraphQL 2025-01, refdata shopify-graphql-schema).

Rules and their sources:
- Array inputs hold at most 250 items (shared/docs/platforms/shopify.md §"Array inputs are
  limited to 250 items"): more is a top-level error, nothing written.
- ``productVariantsBulkUpdate`` takes variants of one product only
  (schema description: "Updates multiple variants in a single product"); a variant of
  another product is ``MUST_BE_FOR_THIS_PRODUCT``, an unknown one
  ``PRODUCT_VARIANT_DOES_NOT_EXIST``, a negative price ``NEGATIVE_PRICE_VALUE``
  (``ProductVariantsBulkUpdateUserErrorCode``).  Without ``allowPartialUpdates`` one error
  writes nothing (the stricter reading).  A written variant moves its product's
  ``updatedAt`` (shopify.md: products/update "also fires on ... variant changes").
- ``inventorySetQuantities`` sets absolute quantities; unless ``ignoreCompareQuantity`` is
  true every quantity needs ``compareQuantity`` equal to the stored one (schema
  description: ``COMPARE_QUANTITY_REQUIRED`` / ``COMPARE_QUANTITY_STALE``); ``name`` is
  ``available`` or ``on_hand`` (``INVALID_NAME``), ``reason`` one of Shopify's reasons
  (``INVALID_REASON``), one location (``INVALID_LOCATION``), no negative quantity (the
  stricter reading of ``INVALID_QUANTITY_NEGATIVE``), one item at most once
  (``NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR``); any error writes nothing.  Stock
  does not move the product's ``updatedAt`` (unknown on Shopify: the stricter reading
  for a reader relying on it).
- ``write_products`` / ``write_inventory`` scopes are required (shopify.md access scopes).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLError

from .seed import PRODUCT_BASE, iso
from .shop import ShopData, parse_time

MAX_ARRAY = 250
LOCATION = "gid://shopify/Location/1"
REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
MAX_QUANTITY = 1_000_000_000


def _number(value: str, kind: str) -> int | None:
    prefix = f"gid://shopify/{kind}/"
    if not isinstance(value, str) or not value.startswith(prefix):
        return None
    try:
        return int(value[len(prefix) :])
    except ValueError:
        return None


def _too_many(field: str, count: int) -> GraphQLError:
    return GraphQLError(
        f"The input array size of {count} is greater than the maximum allowed of {MAX_ARRAY}.",
        extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
    )


def _touch(shop: ShopData, pid: int, record: dict[str, Any]) -> dict[str, Any]:
    stamp = shop.now()
    previous = parse_time(record["updatedAt"])
    if stamp <= previous:
        stamp = previous + timedelta(seconds=1)
    record["updatedAt"] = iso(stamp)
    shop.products.change(pid, record)
    return record


def _copy(product: dict[str, Any]) -> dict[str, Any]:
    return {**product, "variants": [dict(v) for v in product["variants"]]}


def variants_bulk_update(
    shop: ShopData, product_id: str, variants: list[dict[str, Any]], partial: bool
) -> dict[str, Any]:
    if len(variants) > MAX_ARRAY:
        raise _too_many("variants", len(variants))
    pid = _number(product_id, "Product")
    current = shop.products.get(pid) if pid is not None else None
    if current is None:
        return {
            "product": None,
            "productVariants": None,
            "userErrors": [
                {
                    "code": "PRODUCT_DOES_NOT_EXIST",
                    "field": ["productId"],
                    "message": "Product does not exist",
                }
            ],
        }
    product = _copy(current)
    by_id = {v["id"]: v for v in product["variants"]}
    errors: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for i, change in enumerate(variants):
        vid = change.get("id")
        if not vid:
            errors.append(
                {
                    "code": "PRODUCT_VARIANT_ID_MISSING",
                    "field": ["variants", str(i), "id"],
                    "message": "Product variant is missing ID attribute",
                }
            )
            continue
        target = by_id.get(vid)
        if target is None:
            number = _number(vid, "ProductVariant")
            other = shop.products.get(number // 10) if number is not None else None
            code = (
                "MUST_BE_FOR_THIS_PRODUCT"
                if other is not None and any(v["id"] == vid for v in other["variants"])
                else "PRODUCT_VARIANT_DOES_NOT_EXIST"
            )
            errors.append(
                {
                    "code": code,
                    "field": ["variants", str(i), "id"],
                    "message": "Product variant does not exist"
                    if code.startswith("PRODUCT")
                    else "Product variant must be for this product",
                }
            )
            continue
        if "price" in change and change["price"] is not None:
            try:
                price = Decimal(str(change["price"]))
            except InvalidOperation:
                errors.append(
                    {
                        "code": "INVALID_INPUT",
                        "field": ["variants", str(i), "price"],
                        "message": "Price is invalid",
                    }
                )
                continue
            if price < 0:
                errors.append(
                    {
                        "code": "NEGATIVE_PRICE_VALUE",
                        "field": ["variants", str(i), "price"],
                        "message": "Price must be greater than or equal to 0",
                    }
                )
                continue
            target["price"] = str(price.quantize(Decimal("0.01")))
        for key in ("taxable", "barcode"):
            if key in change and change[key] is not None:
                target[key] = change[key]
        changed.append(target)
    if errors and not partial:
        return {"product": None, "productVariants": None, "userErrors": errors}
    if changed:
        assert pid is not None
        product = _touch(shop, pid, product)
    return {"product": product, "productVariants": changed, "userErrors": errors}


def set_quantities(shop: ShopData, data: dict[str, Any]) -> dict[str, Any]:
    quantities = data.get("quantities") or []
    if len(quantities) > MAX_ARRAY:
        raise _too_many("quantities", len(quantities))
    errors: list[dict[str, Any]] = []

    def refuse(code: str, field: list[str], message: str) -> None:
        errors.append({"code": code, "field": ["input", *field], "message": message})

    if data.get("name") not in ("available", "on_hand"):
        refuse("INVALID_NAME", ["name"], "The quantity name must be 'available' or 'on_hand'.")
    if data.get("reason") not in REASONS:
        refuse("INVALID_REASON", ["reason"], "The specified reason is invalid.")
    ignore = bool(data.get("ignoreCompareQuantity"))
    seen: set[str] = set()
    updates: list[tuple[int, dict[str, Any], int, int]] = []  # product id, record, index, qty
    staged: dict[int, dict[str, Any]] = {}
    for i, q in enumerate(quantities):
        at = ["quantities", str(i)]
        item = _number(q["inventoryItemId"], "InventoryItem")
        if q["locationId"] != LOCATION:
            refuse("INVALID_LOCATION", [*at, "locationId"], "The specified location is invalid.")
            continue
        if q["inventoryItemId"] in seen:
            refuse(
                "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                at,
                "The combination of inventoryItemId and locationId must be unique.",
            )
            continue
        seen.add(q["inventoryItemId"])
        pid = item // 10 if item is not None else None
        product = staged.get(pid) if pid is not None else None
        if product is None and pid is not None:
            found = shop.products.get(pid)
            product = _copy(found) if found is not None else None
        variant = next(
            (
                v
                for v in (product or {}).get("variants", [])
                if v["inventoryItem"]["id"] == q["inventoryItemId"]
            ),
            None,
        )
        if variant is None or product is None or pid is None:
            refuse(
                "INVALID_INVENTORY_ITEM",
                [*at, "inventoryItemId"],
                "The specified inventory item could not be found.",
            )
            continue
        if q["quantity"] < 0:
            refuse(
                "INVALID_QUANTITY_NEGATIVE", [*at, "quantity"], "The quantity can't be negative."
            )
            continue
        if q["quantity"] > MAX_QUANTITY:
            refuse("INVALID_QUANTITY_TOO_HIGH", [*at, "quantity"], "The quantity is too high.")
            continue
        if not ignore:
            if q.get("compareQuantity") is None:
                refuse(
                    "COMPARE_QUANTITY_REQUIRED",
                    [*at, "compareQuantity"],
                    "The compareQuantity argument must be given to each quantity or "
                    "ignored using ignoreCompareQuantity.",
                )
                continue
            if q["compareQuantity"] != variant.get("inventoryQuantity"):
                refuse(
                    "COMPARE_QUANTITY_STALE",
                    [*at, "compareQuantity"],
                    "The compareQuantity value does not match persisted value.",
                )
                continue
        staged[pid] = product
        updates.append((pid, variant, i, q["quantity"]))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    for _, variant, _, quantity in updates:
        variant["inventoryQuantity"] = quantity
    for pid, product in staged.items():
        shop.products.change(pid, product)  # updatedAt unchanged (see the module's notes)
    return {
        "inventoryAdjustmentGroup": {
            "id": f"gid://shopify/InventoryAdjustmentGroup/{len(updates)}",
            "reason": data.get("reason"),
        },
        "userErrors": [],
    }


def product_update(shop: ShopData, data: dict[str, Any]) -> dict[str, Any]:
    pid = _number(str(data.get("id") or ""), "Product")
    current = shop.products.get(pid) if pid is not None else None
    if current is None or pid is None:
        return {
            "product": None,
            "userErrors": [{"field": ["id"], "message": "Product does not exist"}],
        }
    product = _copy(current)
    if "title" in data and data["title"] is not None:
        if not str(data["title"]).strip():
            return {
                "product": None,
                "userErrors": [{"field": ["title"], "message": "Title can't be blank"}],
            }
        product["title"] = data["title"]
    for key in ("descriptionHtml", "status"):
        if key in data and data[key] is not None:
            product[key] = data[key]
    return {"product": _touch(shop, pid, product), "userErrors": []}


__all__ = ["LOCATION", "PRODUCT_BASE", "product_update", "set_quantities", "variants_bulk_update"]
