"""Editing an emulator's record by hand, over HTTP: the rule every sandbox shares.

A person trying conflicts on the sandboxes edits an order in the store emulator and
the invoice written for it in the Zoho Books emulator (`docs/quickstart-sandbox.md`,
"Try a conflict").  The emulators take those edits under ``/_emulator/`` (outside the
platforms' APIs: no credentials, no rate limit).  What an edit may change is the same
everywhere and deliberately narrow -- the platforms' admin screens validate far more
than an emulator knows, so the stricter reading: only top-level fields the record
already has whose value is plain (text, number, true/false, null), to plain values, and
no amount (computed from lines everywhere).
Nested structures (lines, addresses, totals) stay as the seed made them; an edit that
names anything else is refused whole with the field named.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

PLAIN = (str, int, float, bool, type(None))
# Fields that say which record it is or when it changed: the emulator sets them, not an edit.
FIXED = frozenset(
    {"id", "order_id", "invoice_id", "number", "name", "created_at", "updated_at",
     "updatedAt", "createdAt", "date_created", "date_created_gmt", "date_modified",
     "date_modified_gmt", "modified_at", "created_time", "last_modified_time"}
)  # fmt: skip


# Amounts are computed from lines, taxes and payments on every platform: an edit of one
# alone would leave a record that does not add up, which no admin screen allows.
COMPUTED = ("total", "tax", "price", "amount", "balance", "subtotal")


class EditRefused(ValueError):
    """An edit the sandbox does not make (the message names the field)."""


async def read_object(request: Request) -> dict[str, Any] | Response:
    """The request's JSON object, or the 400 answer saying what is wrong with it."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return JSONResponse({"error": "send a JSON object"}, status_code=400)
    if not isinstance(body, dict):
        return JSONResponse({"error": "send a JSON object"}, status_code=400)
    return body


def plain_changes(
    record: dict[str, Any], body: dict[str, Any], *, ignore: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The changes ``body`` asks of ``record`` (keys in ``ignore`` address the record and
    are not changes); ``EditRefused`` naming the first field the sandbox does not edit."""
    changes = {k: v for k, v in body.items() if k not in ignore}
    if not changes:
        raise EditRefused("name at least one field to change")
    for key, value in changes.items():
        if key in FIXED:
            raise EditRefused(f"{key!r} is set by the platform, not edited")
        if key not in record:
            raise EditRefused(f"the record has no field {key!r}")
        if any(word in key.lower() for word in COMPUTED):
            raise EditRefused(f"{key!r} is computed from the lines, not edited")
        if not isinstance(record[key], PLAIN) or not isinstance(value, PLAIN):
            raise EditRefused(f"{key!r} is not a plain field (text, number, true/false, null)")
    return changes


def answer(data: Any) -> Response:
    """A control's JSON answer (amounts, which emulators hold as ``Decimal``, as strings)."""
    return Response(json.dumps(data, default=str), media_type="application/json")


def refused(exc: EditRefused) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


def later(previous: datetime, now: datetime) -> datetime:
    """``now``, or one second after ``previous`` when the clock has not moved past it:
    an edit always leaves a newer modification time (the platforms' resolution is 1 s)."""
    return now if now >= previous + timedelta(seconds=1) else previous + timedelta(seconds=1)


__all__ = ["EditRefused", "answer", "later", "plain_changes", "read_object", "refused"]
