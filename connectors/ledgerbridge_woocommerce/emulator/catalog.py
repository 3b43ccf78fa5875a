"""The emulator's catalog writes: ``POST /products/batch`` and
``POST /products/{id}/variations/batch`` (updates; creates and deletes are not emulated).

Rules and their sources:
- At most 100 objects per batch request, creates, updates and deletes together
  (shared/docs/platforms/woocommerce.md §1 ".../batch ... at most 100 objects"); more is
  refused whole: HTTP 413 ``rest_request_entity_too_large`` (WooCommerce core
  ``WC_REST_Controller::check_batch_limit``).
- Each update is answered in place, in order: the object as updated, or ``{"id": N,
  "error": {"code", "message", "data": {"status"}}}`` -- one bad object never fails the
  others (core ``batch_items``).  An unknown id is ``woocommerce_rest_product_invalid_id``
  (variations: ``woocommerce_rest_product_variation_invalid_id``), 400.
- Prices are strings (``regular_price``; woocommerce.md §8.5); a number or a value that is
  not a decimal is refused with ``rest_invalid_param`` (the stricter reading of the
  schema's ``type: string``).  ``stock_quantity`` is an integer and counts only with
  ``manage_stock`` (docs ``_products.md``).  ``status`` is one of WordPress's post statuses.
- An update moves ``date_modified``; a variation's update does not move its parent's (the
  stricter reading of woocommerce.md open question 5).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .data import dates, money

if TYPE_CHECKING:
    from .app import Emulator

MAX_BATCH = 100
STATUSES = frozenset({"draft", "pending", "private", "publish"})
PRODUCT_FIELDS = frozenset({
    "id", "name", "description", "short_description", "regular_price", "sale_price",
    "status", "tax_status", "tax_class", "manage_stock", "stock_quantity", "sku",
})  # fmt: skip


class Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _apply(item: dict[str, Any], change: dict[str, Any], emulator: Emulator) -> None:
    staged = dict(item)
    for key, value in change.items():
        if key == "id":
            continue
        if key in ("regular_price", "sale_price"):
            if not isinstance(value, str):
                raise Invalid(
                    "rest_invalid_param", f"Invalid parameter(s): {key} is not of type string."
                )
            if value != "":
                try:
                    Decimal(value)
                except InvalidOperation:
                    raise Invalid("rest_invalid_param", f"Invalid parameter(s): {key}") from None
            staged[key] = value
        elif key == "stock_quantity":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise Invalid(
                    "rest_invalid_param",
                    "Invalid parameter(s): stock_quantity is not of type integer.",
                )
            staged[key] = value
        elif key == "manage_stock":
            if not isinstance(value, bool):
                raise Invalid(
                    "rest_invalid_param",
                    "Invalid parameter(s): manage_stock is not of type boolean.",
                )
            staged[key] = value
        elif key == "status":
            if value not in STATUSES:
                raise Invalid("rest_invalid_param", "Invalid parameter(s): status")
            staged[key] = value
        elif key == "tax_status":
            if value not in ("taxable", "shipping", "none"):
                raise Invalid("rest_invalid_param", "Invalid parameter(s): tax_status")
            staged[key] = value
        elif key in PRODUCT_FIELDS:
            staged[key] = value
        # other keys: WordPress ignores what the schema does not declare
    if "regular_price" in change or "sale_price" in change:
        price = staged.get("sale_price") or staged.get("regular_price") or ""
        staged["price"] = money(Decimal(price)) if price else ""
    if staged.get("manage_stock") and staged.get("stock_quantity") is not None:
        staged["stock_status"] = "instock" if staged["stock_quantity"] > 0 else "outofstock"
    staged.update(dates("date_modified", emulator.now()))
    item.clear()
    item.update(staged)


def _batch(request_body: Any, find: Any, invalid_code: str, emulator: Emulator) -> Response:
    from .app import error, respond

    if not isinstance(request_body, dict):
        return error("rest_invalid_json", "Invalid JSON body passed.", 400)
    updates = request_body.get("update") or []
    count = sum(len(request_body.get(k) or []) for k in ("create", "update", "delete"))
    if count > MAX_BATCH:
        return error(
            "rest_request_entity_too_large",
            f"Unable to accept more than {MAX_BATCH} items for this request.",
            413,
        )
    if request_body.get("create") or request_body.get("delete"):
        return error("rest_invalid_param", "The emulator batches updates only.", 400)
    answered = []
    for change in updates:
        item = find(change.get("id")) if isinstance(change, dict) else None
        if item is None:
            answered.append(
                {
                    "id": (change or {}).get("id", 0) if isinstance(change, dict) else 0,
                    "error": {
                        "code": invalid_code,
                        "message": "Invalid ID.",
                        "data": {"status": 400},
                    },
                }
            )
            continue
        try:
            _apply(item, change, emulator)
        except Invalid as exc:
            answered.append(
                {
                    "id": item["id"],
                    "error": {"code": exc.code, "message": exc.message, "data": {"status": 400}},
                }
            )
            continue
        answered.append(item)
    return respond({"update": answered})


async def products_batch(emulator: Emulator, request: Request) -> Response:
    from .app import error

    try:
        body = await request.json()
    except ValueError:
        return error("rest_invalid_json", "Invalid JSON body passed.", 400)

    def find(pid: Any) -> dict[str, Any] | None:
        return emulator.store.products.get(pid) if isinstance(pid, int) else None

    return _batch(body, find, "woocommerce_rest_product_invalid_id", emulator)


async def variations_batch(emulator: Emulator, request: Request) -> Response:
    from .app import error

    pid = int(request.path_params["id"])
    if pid not in emulator.store.products:
        return error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
    try:
        body = await request.json()
    except ValueError:
        return error("rest_invalid_json", "Invalid JSON body passed.", 400)
    rows = {v["id"]: v for v in emulator.store.variations.get(pid, [])}

    def find(vid: Any) -> dict[str, Any] | None:
        return rows.get(vid) if isinstance(vid, int) else None

    return _batch(body, find, "woocommerce_rest_product_variation_invalid_id", emulator)
