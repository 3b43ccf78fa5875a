"""Small readers for API2Cart's JSON shapes (dates, amounts, addresses).

API2Cart returns empty strings where a value is unknown ("email": ""), so the
readers turn blanks into ``None`` instead of passing them on as data.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import Address
from ledgerbridge.contracts import readers
from ledgerbridge.contracts.guard import objects
from ledgerbridge.contracts.readers import obj, text
from ledgerbridge.errors import ValidationFailed

from .envelope import PLATFORM


def in_order(order_id: str, path: str) -> str:
    """The field path of an order's field, as messages and parked reasons name it."""
    return f"API2Cart order {order_id}: {path}"


def amount(value: Any, where: str) -> Decimal | None:
    """An exact amount from a JSON number parsed with ``parse_float=Decimal`` (blank: None).

    The core edge reader refuses floats, booleans, objects, non-finite and out-of-range
    values with a ``ValidationFailed`` naming ``where``.
    """
    return readers.optional_amount(value, where, platform=PLATFORM)


def rows(value: Any, where: str) -> list[dict[str, Any]]:
    """An array of objects (``order_products``, ``refunds`` ...), its shape checked at the edge."""
    return objects(value, where, platform=PLATFORM)


def timestamp(value: Any, where: str) -> datetime | None:
    """An ``A2CDateTime`` ``{value, format}`` (or a bare string) as an aware datetime."""
    if isinstance(value, dict):
        value = value.get("value")
    raw = text(value)
    if raw is None:
        return None
    try:  # "Y-m-d\\TH:i:sO" (2024-08-01T02:18:42+0000) is ISO 8601 to Python 3.11
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"{where}: {raw!r} is not a date-time", platform=PLATFORM) from None
    if parsed.tzinfo is None:
        raise ValidationFailed(f"{where}: {raw!r} has no UTC offset", platform=PLATFORM)
    return parsed


def timestamp_text(value: Any) -> str | None:
    """The raw ``value`` of an ``A2CDateTime`` (used as the record version)."""
    if isinstance(value, dict):
        value = value.get("value")
    return text(value)


ADDRESS: dict[str, readers.Field] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "line1": "address1",
    "line2": "address2",
    "city": "city",
    "region": lambda raw: text(obj(raw.get("state")).get("name")),
    "region_code": lambda raw: text(obj(raw.get("state")).get("code")),
    "postal_code": "postcode",
    "country_code": lambda raw: text(obj(raw.get("country")).get("code2")),
    "phone": lambda raw: text(raw.get("phone")) or text(raw.get("phone_mobile")),
}


def address(raw: Any, email: str | None = None) -> Address | None:
    """A ``Customer_Address`` as a canonical Address; None when it carries nothing."""
    return readers.address(raw, ADDRESS, email=email)
