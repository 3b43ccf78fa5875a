"""Sandbox controls that stand in for the WordPress admin (not part of WooCommerce's API).

So conflicts and webhooks can be tried by hand (`docs/quickstart-sandbox.md`):

    POST /_emulator/orders/{id}   {"customer_note": "changed at the shop"}
        edits the order as the admin screen would: plain top-level fields only
        (``ledgerbridge.sandbox.edits``), ``date_modified`` moves on, and the store's
        ``order.updated`` webhooks fire.
    POST /_emulator/webhooks      {"topic": "order.updated", "order": 1003,
                                   "delivery_url": "http://.../webhooks/acme/shop",
                                   "secret": "the connection's webhook_secret"}
        sends one delivery of that order, shaped and signed as WooCommerce signs it
        (``X-WC-Webhook-Signature`` = base64 of the HMAC-SHA256 of the raw body with the
        secret: ../shared/docs/platforms/woocommerce.md §7.3, core
        ``generate_signature()``); without ``delivery_url``, to every webhook the store
        registered for the topic.  Answers the receiver's status code.

Outside ``/wp-json``: no consumer key, never seen by the contract tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

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

from .data import dates
from .webhooks import Webhook

if TYPE_CHECKING:
    from .app import Emulator

PREFIX = "/_emulator"
# The order topics a store fires (woocommerce.md §7.1); others are not emulated.
ORDER_TOPICS = ("order.created", "order.updated", "order.deleted")


def routes(emulator: Emulator) -> list[Route]:
    def find(raw: Any) -> dict[str, Any] | None:
        try:
            return emulator.store.orders.get(int(raw))
        except (TypeError, ValueError):
            return None

    async def edit_order(request: Request) -> Response:
        body = await read_object(request)
        if isinstance(body, Response):
            return body
        order = find(request.path_params["id"])
        if order is None:
            return JSONResponse({"error": "no such order"}, status_code=404)
        try:
            changes = plain_changes(order, body)
        except EditRefused as exc:
            return refused(exc)
        previous = datetime.fromisoformat(order["date_modified_gmt"]).replace(tzinfo=UTC)
        order.update(changes)
        order.update(dates("date_modified", later(previous, emulator.now())))
        statuses = await emulator.sender.notify("order.updated", order)
        return answer({"order": order, "webhooks": statuses})

    async def fire_webhook(request: Request) -> Response:
        body = await read_object(request)
        if isinstance(body, Response):
            return body
        topic = str(body.get("topic") or "order.updated")
        if topic not in ORDER_TOPICS:
            return JSONResponse({"error": f"topic must be one of {list(ORDER_TOPICS)}"}, 400)
        order = find(body.get("order"))
        if order is None:
            return JSONResponse({"error": "no such order"}, status_code=404)
        payload = {"id": order["id"]} if topic == "order.deleted" else order
        url = body.get("delivery_url")
        if not url:
            return JSONResponse({"statuses": await emulator.sender.notify(topic, payload)})
        secret = body.get("secret")
        if not isinstance(secret, str) or not secret:
            return JSONResponse({"error": "name the webhook's secret"}, status_code=400)
        hook = Webhook(0, "sandbox", topic, str(url), secret)
        delivery = emulator.sender.delivery(hook, payload)
        status = await emulator.sender.post(hook, delivery)
        return JSONResponse(
            {
                "topic": topic,
                "delivery_id": delivery.headers["X-WC-Webhook-Delivery-ID"],
                "status": status,
            }
        )

    return [
        Route(PREFIX + "/orders/{id}", edit_order, methods=["POST"]),
        Route(PREFIX + "/webhooks", fire_webhook, methods=["POST"]),
    ]
