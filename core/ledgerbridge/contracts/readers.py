"""Small readers every mapper of platform JSON needs, so none writes them again.

Platforms write "unknown" as ``null``, ``""`` or an absent key, an object as ``null`` when it
is empty, metadata as ``[{key, value}]`` lists, and addresses as flat objects whose field
names differ per platform.  These readers turn each into what the canonical model expects;
amounts go through ``canonical.money.parse_amount`` and arrays of objects through
``guard.objects``, which refuse bad values naming the field.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ..canonical import Address, Money
from ..canonical.money import parse_amount
from ..errors import ValidationFailed

Field = str | Callable[[dict[str, Any]], Any]


def text(value: Any, where: str | None = None, *, platform: str | None = None) -> str | None:
    """A non-blank string (stripped), or None for ``null``/``""``/whitespace.

    An integer longer than Python prints (``sys.get_int_max_str_digits``) is refused naming
    ``where`` -- it was a ``ValueError`` naming no field; without ``where`` it still raises."""
    if value is None:
        return None
    if where is None:
        return str(value).strip() or None
    return printed(value, where, platform=platform).strip() or None


def printed(value: Any, where: str, *, platform: str | None = None) -> str:
    """``str(value)``; an integer longer than Python prints (``sys.get_int_max_str_digits``),
    or a value holding one, is refused naming ``where`` rather than a bare ``ValueError``."""
    try:
        return str(value)
    except ValueError:
        digits = sys.get_int_max_str_digits()
        what = "is an integer" if isinstance(value, int) else "holds an integer"
        raise ValidationFailed(
            f"{where} {what} of more than {digits} digits",
            platform=platform,
            details={"field": where},
        ) from None


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (``null`` for absent)."""
    return value if isinstance(value, dict) else {}


def record(value: Any, where: str, *, platform: str | None = None) -> dict[str, Any]:
    """An object field (blank -- ``null``, ``""``, ``[]`` -- is an empty one); anything else
    is refused naming ``where``, not left to fail as an ``AttributeError`` naming nothing."""
    if value and not isinstance(value, dict):
        what = type(value).__name__
        raise ValidationFailed(
            f"{where} is not an object (got {what})", platform=platform, details={"field": where}
        )
    return value or {}


def optional_amount(value: Any, where: str, *, platform: str | None = None) -> Decimal | None:
    """An amount, or None when blank (``null`` or ``""``); anything else must be one."""
    if value is None or value == "":
        return None
    return parse_amount(value, where, platform=platform)


def money(value: Decimal, currency: str) -> Money:
    return Money(amount=value, currency=currency)


def key_values(
    items: Any, where: str, key: str = "key", value: str = "value", *, platform: str | None = None
) -> dict[str, Any]:
    """``[{key, value}]`` metadata as ``{key: value}`` (the last of a repeated key wins).

    Elements that are not such objects are skipped, and a blank, a string or an object holds
    none; a number or boolean is refused naming ``where`` (it was a ``TypeError``)."""
    result: dict[str, Any] = {}
    if not items or isinstance(items, str | dict):
        return result
    if not isinstance(items, list):
        what = type(items).__name__
        raise ValidationFailed(
            f"{where} is not an array (got {what})", platform=platform, details={"field": where}
        )
    for item in items:
        if isinstance(item, dict) and key in item:
            result[str(item[key])] = item.get(value)
    return result


def address(
    data: Any,
    layout: Mapping[str, Field],
    *,
    where: str | None = None,
    platform: str | None = None,
    **fixed: Any,
) -> Address | None:
    """A canonical Address from a platform's address object, declared as ``layout``:
    canonical field -> the platform's key (read with ``text``, naming ``<where>.<key>`` when
    it refuses) or a function of the object.  None when the object is absent or every
    declared field is blank (``fixed`` values, such as an email known from elsewhere, do not
    make an address)."""
    if not isinstance(data, dict):
        return None
    values = {
        name: (
            text(data.get(source), where and f"{where}.{source}", platform=platform)
            if isinstance(source, str)
            else source(data)
        )
        for name, source in layout.items()
    }
    if not any(values.values()):
        return None
    return Address(**values, **fixed)


__all__ = [
    "address",
    "key_values",
    "money",
    "obj",
    "optional_amount",
    "printed",
    "record",
    "text",
]
