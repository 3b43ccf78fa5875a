"""Small readers for API2Cart's JSON shapes (dates, amounts, addresses).

API2Cart returns empty strings where a value is unknown ("email": ""), so the
readers turn blanks into ``None`` instead of passing them on as data.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import Address
from ledgerbridge.canonical.money import parse_amount
from ledgerbridge.contracts.guard import objects
from ledgerbridge.errors import ValidationFailed

from .envelope import PLATFORM


def text(value: Any) -> str | None:
    """A non-blank string, or None."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def amount(value: Any, where: str) -> Decimal | None:
    """An exact amount from a JSON number parsed with ``parse_float=Decimal`` (blank: None).

    The core edge reader refuses floats, booleans, objects, non-finite and out-of-range
    values with a ``ValidationFailed`` naming ``where``.
    """
    if value is None or value == "":
        return None
    return parse_amount(value, where, platform=PLATFORM)


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


def address(raw: Any, email: str | None = None) -> Address | None:
    """A ``Customer_Address`` as a canonical Address; None when it carries nothing."""
    if not isinstance(raw, dict):
        return None
    country = obj(raw.get("country"))
    state = obj(raw.get("state"))
    values = {
        "first_name": text(raw.get("first_name")),
        "last_name": text(raw.get("last_name")),
        "company": text(raw.get("company")),
        "line1": text(raw.get("address1")),
        "line2": text(raw.get("address2")),
        "city": text(raw.get("city")),
        "region": text(state.get("name")),
        "region_code": text(state.get("code")),
        "postal_code": text(raw.get("postcode")),
        "country_code": text(country.get("code2")),
        "phone": text(raw.get("phone")) or text(raw.get("phone_mobile")),
    }
    if not any(values.values()):
        return None
    return Address(**values, email=email)


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (API2Cart sends null for absent)."""
    return value if isinstance(value, dict) else {}
