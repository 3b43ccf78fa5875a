"""JSON encoding and decoding that keeps money exact.

Zoho wants amounts as JSON *numbers*; ``json.dumps`` can only write numbers
from floats, which would lose cents.  ``dumps`` writes a ``Decimal`` as its
exact decimal text instead, and ``loads`` reads numbers back as ``Decimal``.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def loads(raw: bytes | str) -> Any:
    return json.loads(raw, parse_float=Decimal)


def quantize(amount: Decimal, places: int) -> Decimal:
    """``amount`` rounded half-up to ``places`` decimals (the currency's precision)."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def dumps(value: Any) -> str:
    """Compact JSON with ``Decimal`` written as exact numbers (never through float)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite amount")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError(f"refusing to encode float {value!r}: use Decimal for amounts")
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)
