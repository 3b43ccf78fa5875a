"""The emulator's catalog writes: ``product.update`` and ``product.variant.update`` (both
``PUT`` with a JSON body; api2cart-openapi ``/product.update.json``,
``/product.variant.update.json``; answer ``result.updated_items``).

Rules and their sources:
- ``id`` is required (a variant's ``product_id`` too): return code 109, "Parameter(s) for
  method is/are incorrect" (shared/docs/platforms/api2cart.md, return codes).
- An id the store does not hold is return code 112, item not found (api2cart.md table).
- ``price``/``special_price``/``quantity`` are numbers (ProductUpdate, ProductVariantUpdate
  schemas); a string, a negative price or a quantity that is not whole is 109 (the
  stricter reading).  ``quantity`` is absolute; ``increase_quantity``/``reduce_quantity``
  move it relatively; sending both kinds at once is 109.
- Only the fields of the request schema are taken; any other is 109.
- An update moves the record's own modification time (``modified_at`` of a product,
  ``modified_time`` of a child), never its parent's (the stricter reading).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

PRODUCT_FIELDS = frozenset({
    "id", "sku", "name", "description", "price", "special_price", "taxable", "tax_class_id",
    "status", "visible", "avail", "store_id", "quantity", "manage_stock", "increase_quantity",
    "reduce_quantity", "warehouse_id", "is_virtual",
})  # fmt: skip
VARIANT_FIELDS = frozenset({
    "id", "product_id", "store_id", "name", "description", "sku", "visible", "status",
    "available_for_sale", "avail", "taxable", "tax_class_id", "is_virtual", "manage_stock",
    "warehouse_id", "quantity", "increase_quantity", "reduce_quantity", "price",
    "special_price",
})  # fmt: skip


class Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _number(body: dict[str, Any], name: str, *, whole: bool = False) -> Decimal | None:
    if name not in body or body[name] is None:
        return None
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise Refused(109, f"Parameter '{name}' must be a number")
    number = Decimal(str(value))
    if number < 0 or (whole and number != number.to_integral_value()):
        raise Refused(109, f"Parameter '{name}' has a wrong value")
    return number


def _apply(
    record: dict[str, Any], body: dict[str, Any], allowed: frozenset[str], stamp_field: str
) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Refused(109, f"Unknown parameter(s): {', '.join(unknown)}")
    relative = {"increase_quantity", "reduce_quantity"} & set(body)
    if relative and "quantity" in body:
        raise Refused(
            109,
            "Parameter(s) for method is/are incorrect (quantity with "
            "increase_quantity or reduce_quantity)",
        )
    staged = dict(record)
    for name in ("price", "special_price"):
        value = _number(body, name)
        if value is not None:
            staged["default_price" if "default_price" in record and name == "price" else name] = (
                value
            )
    quantity = _number(body, "quantity", whole=True)
    if quantity is not None:
        staged["quantity"] = int(quantity)
    for name in ("increase_quantity", "reduce_quantity"):
        step = _number(body, name, whole=True)
        if step is not None:
            sign = 1 if name == "increase_quantity" else -1
            staged["quantity"] = int(staged.get("quantity") or 0) + sign * int(step)
    for name in (
        "name",
        "description",
        "sku",
        "status",
        "taxable",
        "manage_stock",
        "available_for_sale",
        "avail",
    ):
        if name in body:
            staged[name] = body[name]
    if "avail" in body:
        staged["avail_sale"] = bool(body["avail"])
    staged[stamp_field] = {
        "value": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S%z"),
        "format": "Y-m-d\\TH:i:sO",
    }
    record.clear()
    record.update(staged)


def product_update(products: dict[str, dict[str, Any]], body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not body.get("id"):
        raise Refused(109, "Parameter(s) for method is/are incorrect (empty etc.)")
    record = products.get(str(body["id"]))
    if record is None:
        raise Refused(112, "Product not found")
    _apply(record, body, PRODUCT_FIELDS, "modified_at")
    return {"updated_items": 1}


def variant_update(
    products: dict[str, dict[str, Any]], children: dict[str, dict[str, Any]], body: Any
) -> dict[str, Any]:
    if not isinstance(body, dict) or not body.get("id") or not body.get("product_id"):
        raise Refused(109, "Parameter(s) for method is/are incorrect (empty etc.)")
    if str(body["product_id"]) not in products:
        raise Refused(112, "Product not found")
    record = children.get(str(body["id"]))
    if record is None or record.get("parent_id") != str(body["product_id"]):
        raise Refused(112, "Variant not found")
    _apply(record, body, VARIANT_FIELDS, "modified_time")
    return {"updated_items": 1}
