"""The shape of a REST order (webhook body, ``fetch_api: rest``), checked before it is read.

The guard names an unforeseen exception's field from a path local (``where``/``at``) of the
innermost mapper frame; a frame that reads a top-level field has none for it.  Checking each
top-level field's type up front refuses a malformed one under its own name.

Only a value the mapper could never read is refused, so every payload that mapped before
maps the same: a falsy value stays "absent", as the mapper's ``x or {}`` reads it.  The types
are those of the vendor's REST samples (refdata shopify-examples ``rest_fixture_order.json``,
``rest_fixture_orders_partially_refunded_full.json``) and, for texts, of the GraphQL ``Order``
fields they are read as (refdata shopify-graphql-schema: ``name: String!``, ``note: String``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NoReturn

# The top-level fields of an order by how the mapper reads them.
OBJECTS: tuple[str, ...] = ("original_total_duties_set", "total_price_set", "subtotal_price_set")
OBJECTS += ("total_discounts_set", "total_tax_set", "total_shipping_price_set")
OBJECTS += ("billing_address", "shipping_address", "customer")
ARRAYS: tuple[str, ...] = ("line_items", "shipping_lines", "discount_applications", "tax_lines")
ARRAYS += ("transactions", "refunds", "fulfillments", "note_attributes", "discount_codes")
TEXTS: tuple[str, ...] = ("name", "note", "source_name", "presentment_currency", "email")
TEXTS += ("contact_email", "cancel_reason", "financial_status")
MOMENTS = ("created_at", "updated_at", "processed_at", "cancelled_at", "closed_at")
REQUIRED = ("id", "currency", "created_at")
REFUND_ARRAYS = ("refund_line_items", "refund_shipping_lines", "order_adjustments", "transactions")
"""A refund's fields the mapper reads as arrays of objects."""

_CURRENCY = re.compile("[A-Z]{3}")
"""A currency code as the canonical ``Money`` takes it (ISO 4217, ``^[A-Z]{3}$``)."""


def refuse(where: str, problem: str) -> NoReturn:
    """Refuse the value at ``where``.  ``ValueError`` (as ``decimal`` raises) lets ``build``
    name the record; ``where`` is this frame's path local, so the guard names the field."""
    raise ValueError(f"{where} {problem}")


def check_order(data: Any) -> None:
    """Refuse a REST order any of whose top-level fields has a shape the mapper cannot read."""
    if not isinstance(data, dict):
        refuse("order", f"is not an object (got {type(data).__name__})")
    for key in REQUIRED:
        if data.get(key) in (None, ""):
            refuse(key, "is missing")
    for keys, check in ((OBJECTS, check_object), (ARRAYS, check_objects), (TEXTS, check_text)):
        for key in keys:
            check(data.get(key), key)
    for i, fulfilment in enumerate(data.get("fulfillments") or []):
        check_objects(fulfilment.get("line_items"), f"fulfillments[{i}].line_items")
    currency = data["currency"]
    if not (isinstance(currency, str) and _CURRENCY.fullmatch(currency)):
        refuse("currency", "is not a three-letter currency code")
    for key in MOMENTS:
        check_moment(data.get(key), key)
    names = data.get("payment_gateway_names")
    if names and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        refuse("payment_gateway_names", "is not an array of names")


def check_refund(data: dict[str, Any], where: str) -> None:
    """Refuse a REST refund whose line arrays, note or times the mapper cannot read."""
    for key in REFUND_ARRAYS:
        check_objects(data.get(key), f"{where}.{key}")
    check_text(data.get("note"), f"{where}.note")
    for key in ("created_at", "processed_at"):
        check_moment(data.get(key), f"{where}.{key}")


def check_text(value: Any, where: str, *, required: bool = False) -> None:
    """Text, or (unless ``required``) absent: a falsy value reads as absent, as ``x or ...``."""
    if required and value is None:
        refuse(where, "is missing")
    if (value or required) and not isinstance(value, str):
        refuse(where, f"is not text (got {type(value).__name__})")


def check_object(value: Any, where: str) -> None:
    if value and not isinstance(value, dict):
        refuse(where, f"is not an object (got {type(value).__name__})")


def check_objects(value: Any, where: str) -> None:
    if not value:
        return
    if not isinstance(value, list):
        refuse(where, f"is not an array of objects (got {type(value).__name__})")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            refuse(f"{where}[{i}]", f"is not an object (got {type(item).__name__})")


def check_moment(value: Any, where: str) -> None:
    """A time the mapper's ``moment`` can read: absent, or ISO 8601 text."""
    if not value:
        return
    if not isinstance(value, str):
        refuse(where, f"is not a time (got {type(value).__name__})")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        refuse(where, "is not an ISO 8601 time")
