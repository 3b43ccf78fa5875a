"""Sandbox control that stands in for the Shopify admin (not part of Shopify's API).

So a conflict can be tried by hand (`docs/quickstart-sandbox.md`, "Try a conflict"):

    POST /_emulator/orders/{id}   {"note": "changed at the shop"}
        edits order ``id`` (the numeric id, 5000000003 for #1003) as the admin's order page
        would: plain top-level fields of the GraphQL ``Order`` only
        (``ledgerbridge.sandbox.edits``); ``updatedAt`` moves on, so the next
        ``updated_at:>`` search returns it (../shared/docs/platforms/shopify.md §5.3).

Signed ``orders/*`` webhooks are fired by ``POST /_emulator/webhooks`` (``app.py``).
Outside ``/admin``: no access token, no cost, never seen by the contract tests.
"""

from __future__ import annotations

import copy

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ledgerbridge.sandbox.edits import (
    EditRefused,
    answer,
    later,
    plain_changes,
    read_object,
    refused,
)

from .seed import iso
from .shop import ShopData, parse_time

PREFIX = "/_emulator"


def routes(shop: ShopData) -> list[Route]:
    async def edit_order(request: Request) -> Response:
        body = await read_object(request)
        if isinstance(body, Response):
            return body
        raw = request.path_params["id"]
        current = shop.orders.get(int(raw)) if raw.isdigit() and len(raw) < 19 else None
        if current is None:
            return JSONResponse({"error": "no such order"}, status_code=404)
        try:
            changes = plain_changes(current, body)
        except EditRefused as exc:
            return refused(exc)
        record = copy.deepcopy(current)
        record.update(changes)
        record["updatedAt"] = iso(later(parse_time(current["updatedAt"]), shop.now()))
        shop.orders.change(int(raw), record)
        return answer({"order": record})

    return [Route(PREFIX + "/orders/{id}", edit_order, methods=["POST"])]
