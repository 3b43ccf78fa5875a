"""Sandbox control that stands in for a store's admin behind API2Cart (not part of its API).

So a conflict can be tried by hand (`docs/quickstart-sandbox.md`, "Try a conflict"):

    POST /_emulator/orders/{order_id}   {"store_key": "sandbox-store-shopify",
                                          "comment": "changed at the shop"}
        edits the order of that store as its admin would: plain top-level fields only
        (``ledgerbridge.sandbox.edits``); ``modified_at`` moves on, so the next
        ``order.list`` with ``modified_from`` returns it
        (../shared/docs/platforms/api2cart.md §5.2).

Outside ``/v1.1``: no API key, never seen by the contract tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

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

from .seed import stamp

if TYPE_CHECKING:
    from .state import EmulatorState

PREFIX = "/_emulator"


def routes(state: EmulatorState) -> list[Route]:
    async def edit_order(request: Request) -> Response:
        body = await read_object(request)
        if isinstance(body, Response):
            return body
        store = state.stores.get(str(body.get("store_key", "")))
        if store is None:
            return JSONResponse({"error": "name a store_key the sandbox has"}, status_code=404)
        order = store.orders.get(request.path_params["order_id"])
        if order is None:
            return JSONResponse({"error": "no such order in that store"}, status_code=404)
        try:
            changes = plain_changes(order, body, ignore=frozenset({"store_key"}))
        except EditRefused as exc:
            return refused(exc)
        previous = datetime.strptime(order["modified_at"]["value"], "%Y-%m-%dT%H:%M:%S%z")
        order.update(changes)
        order["modified_at"] = stamp(later(previous, datetime.now(UTC).replace(microsecond=0)))
        return answer({"order": order})

    return [Route(PREFIX + "/orders/{order_id}", edit_order, methods=["POST"])]
