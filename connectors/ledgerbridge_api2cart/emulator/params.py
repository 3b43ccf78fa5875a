"""How the emulator reads a call's query parameters: which each method accepts (an unknown
one is refused, as API2Cart does), and booleans, integers and dates in API2Cart's formats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import shipments, transactions
from .state import A2CError

DEFAULT_ORDER_PARAMS = "order_id,customer,totals,address,items,bundles,status"
MAX_COUNT = 250


def read_bool(params: dict[str, str], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if value not in ("true", "false", "1", "0"):
        raise A2CError(109, f"Parameter '{name}' must be boolean")
    return value in ("true", "1")


def read_int(params: dict[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not value.lstrip("-").isdigit():
        raise A2CError(109, f"Parameter '{name}' must be integer")
    return int(value)


def read_when(text: str, name: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise A2CError(109, f"Parameter '{name}' has a wrong date format") from None


def stamp_of(record: dict[str, Any], name: str) -> datetime:
    return datetime.strptime(record[name]["value"], "%Y-%m-%dT%H:%M:%S%z")


ALLOWED: dict[str, set[str]] = {
    "order.list": {
        "start", "count", "page_cursor", "ids", "order_ids", "modified_from", "modified_to",
        "created_from", "created_to", "is_deleted", "sort_by", "sort_direction", "params",
        "response_fields", "exclude", "rounding_precision", "allow_user_defined_order_statuses",
    },
    "order.info": {
        "id", "order_id", "params", "response_fields", "exclude", "rounding_precision",
        "allow_user_defined_order_statuses",
    },
    "order.status.list": {"allow_user_defined_order_statuses", "response_fields", "action"},
    "customer.list": {
        "start", "count", "page_cursor", "ids", "modified_from", "modified_to", "include_guests",
        "sort_by", "sort_direction", "params", "response_fields", "exclude",
    },
    "product.list": {
        "start", "count", "page_cursor", "product_ids", "modified_from", "modified_to",
        "sort_by", "sort_direction", "params", "response_fields", "exclude",
    },
    "product.child_item.list": {
        "start", "count", "page_cursor", "product_id", "product_ids", "params",
        "response_fields", "exclude",
    },
    "cart.info": {"params", "response_fields", "exclude"},
    "webhook.list": {"start", "count", "entity", "action", "active", "ids", "params"},
    "webhook.create": set(),
    "product.update": set(),  # a PUT: its parameters are in the JSON body (catalog.py)
    "product.variant.update": set(),
    "order.shipment.list": shipments.ALLOWED,
    "order.transaction.list": transactions.ALLOWED,
}  # fmt: skip
