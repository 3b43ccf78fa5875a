"""API2Cart's envelope, rendered: ``return_code``, ``return_message``, ``pagination`` and
``result``, with amounts rounded to ``rounding_precision`` and written as exact numbers."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from starlette.responses import Response

_DEC = re.compile(r'"__dec__(-?[0-9.E+-]+)__"')


def _plain(value: Any, quantum: Decimal, places: int) -> Any:
    """Amounts rounded half-up to ``places`` decimals and marked for exact rendering."""
    kind = type(value)
    if kind is dict:
        return {k: _plain(v, quantum, places) for k, v in value.items()}
    if kind is list:
        return [_plain(v, quantum, places) for v in value]
    if kind is Decimal:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places:
            value = value.quantize(quantum, ROUND_HALF_UP)
        return f"__dec__{value}__"
    return value


def envelope(
    result: Any, *, code: int = 0, message: str = "", pagination: Any = None, precision: int = 2
) -> dict[str, Any]:
    body: dict[str, Any] = {"return_code": code, "return_message": message}
    if pagination is not None:
        body["pagination"] = pagination
    body["result"] = result
    rendered: dict[str, Any] = _plain(body, Decimal(1).scaleb(-precision), precision)
    return rendered


def render(body: dict[str, Any]) -> Response:
    """JSON with amounts written as exact numbers (never through float)."""
    text = _DEC.sub(lambda m: m.group(1), json.dumps(body, ensure_ascii=False))
    return Response(text, media_type="application/json")
