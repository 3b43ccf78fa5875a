"""Small readers for API2Cart's JSON shapes (dates, amounts, addresses).

API2Cart returns empty strings where a value is unknown ("email": ""), so the readers turn
blanks into ``None`` instead of passing them on as data; amounts and arrays of objects go
through the core edge readers, which refuse bad values naming ``where``.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from ledgerbridge.canonical import Address
from ledgerbridge.contracts import readers
from ledgerbridge.contracts.guard import objects
from ledgerbridge.contracts.readers import obj, text
from ledgerbridge.errors import ValidationFailed

from .envelope import PLATFORM

amount = partial(readers.optional_amount, platform=PLATFORM)  # (value, where); blank: None
rows = partial(objects, platform=PLATFORM)  # (value, where): an array of objects
record = partial(readers.record, platform=PLATFORM)  # (value, where): an object, blank: {}
T = TypeVar("T")


def in_order(order_id: str, path: str) -> str:
    """The field path of an order's field, as messages and parked reasons name it."""
    return f"API2Cart order {order_id}: {path}"


def required(value: T | None, order_id: str, what: str) -> T:
    """``value``, or the order refused as having no ``what``."""
    if value is None:
        raise ValidationFailed(in_order(order_id, f"no {what}"), platform=PLATFORM)
    return value


def objects_in(value: Any, where: str) -> list[dict[str, Any]]:
    """The objects an array field lists, other elements skipped; blank, a string or an object
    lists none (read so since the first release).  A number or boolean there is refused
    naming ``where`` -- it was a ``TypeError`` naming nothing."""
    if not value or isinstance(value, str | dict):
        return []
    if not isinstance(value, list):
        what = type(value).__name__
        raise ValidationFailed(
            f"{where} is not an array (got {what})", platform=PLATFORM, details={"field": where}
        )
    return [item for item in value if isinstance(item, dict)]


def timestamp_text(value: Any) -> str | None:
    """The raw ``value`` of an ``A2CDateTime`` ``{value, format}`` (the record version)."""
    return text(value.get("value") if isinstance(value, dict) else value)


def timestamp(value: Any, where: str) -> datetime | None:
    """An ``A2CDateTime`` (or a bare string) as an aware datetime."""
    raw = timestamp_text(value)
    if raw is None:
        return None
    try:  # "Y-m-d\\TH:i:sO" (2024-08-01T02:18:42+0000) is ISO 8601 to Python 3.11
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"{where}: {raw!r} is not a date-time", platform=PLATFORM) from None
    if parsed.tzinfo is None:
        raise ValidationFailed(f"{where}: {raw!r} has no UTC offset", platform=PLATFORM)
    return parsed


def _part(key: str, field: str) -> readers.Field:
    return lambda raw: text(obj(raw.get(key)).get(field))


ADDRESS: dict[str, readers.Field] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "line1": "address1",
    "line2": "address2",
    "city": "city",
    "region": _part("state", "name"),
    "region_code": _part("state", "code"),
    "postal_code": "postcode",
    "country_code": _part("country", "code2"),
    "phone": lambda raw: text(raw.get("phone")) or text(raw.get("phone_mobile")),
}


def address(raw: Any, email: str | None = None) -> Address | None:
    """A ``Customer_Address`` as a canonical Address; None when it carries nothing."""
    return readers.address(raw, ADDRESS, email=email)
