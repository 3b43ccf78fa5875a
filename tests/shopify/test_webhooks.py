"""Webhooks: HMAC on the raw body (constant-time), topics -> events, nothing stored when forged."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.contracts import WebhookRequest
from ledgerbridge.errors import WebhookRejected
from ledgerbridge.sandbox import serve
from ledgerbridge.store import Store
from ledgerbridge.store.models import InboxEvent
from ledgerbridge_shopify import webhooks
from ledgerbridge_shopify.emulator import WebhookSender, create_app
from ledgerbridge_shopify.emulator.webhooks import rest_order, rest_refund
from tests.conftest import refdata

from .helpers import APP_SECRET, ScaledClock, make_source


def request(headers: dict[str, str], body: bytes) -> WebhookRequest:
    return WebhookRequest(headers=headers, body=body)


def test_signed_order_webhook_verifies_and_parses() -> None:
    body = refdata(
        "shopify-examples", "rest_fixture_orders_partially_refunded_full.json"
    ).read_bytes()
    order = json.loads(body)["orders"][0]
    headers, raw = WebhookSender(APP_SECRET).build("orders/updated", order, webhook_id="wh-1")
    source = make_source()
    req = request(headers, raw)
    source.verify_webhook(req)
    event = source.parse_webhook(req)
    assert event is not None
    assert (event.delivery_id, event.topic, event.entity, event.external_id) == (
        "wh-1",
        "orders/updated",
        EntityType.ORDER,
        "450789469",
    )
    # the same form as GraphQL's updatedAt, so a webhook and a poll of one change agree
    assert event.version == "2008-01-10T16:00:00Z" and not event.deleted


@pytest.mark.parametrize(
    ("topic", "payload", "entity", "ident", "deleted"),
    [
        ("orders/create", {"id": 1, "updated_at": None}, EntityType.ORDER, "1", False),
        ("orders/paid", {"id": 2}, EntityType.ORDER, "2", False),
        ("orders/cancelled", {"id": 3}, EntityType.ORDER, "3", False),
        ("orders/delete", {"id": 4}, EntityType.ORDER, "4", True),
        ("refunds/create", {"id": 99, "order_id": 5}, EntityType.ORDER, "5", False),
        ("customers/update", {"id": 6}, EntityType.CUSTOMER, "6", False),
        ("customers/delete", {"id": 7}, EntityType.CUSTOMER, "7", True),
        ("products/create", {"id": 8}, EntityType.PRODUCT, "8", False),
        ("products/delete", {"id": 9}, EntityType.PRODUCT, "9", True),
    ],
)
def test_topics(topic: str, payload: dict, entity: EntityType, ident: str, deleted: bool) -> None:
    headers, raw = WebhookSender(APP_SECRET).build(topic, payload)
    event = webhooks.parse(request(headers, raw))
    assert event is not None and (event.entity, event.external_id, event.deleted) == (
        entity,
        ident,
        deleted,
    )


def test_unfollowed_topic_is_acknowledged_only() -> None:
    headers, raw = WebhookSender(APP_SECRET).build("app/uninstalled", {"id": 1})
    assert webhooks.parse(request(headers, raw)) is None


def test_forged_tampered_or_unsigned_deliveries_are_rejected() -> None:
    headers, raw = WebhookSender(APP_SECRET).build("orders/updated", {"id": 1})
    secret = [SecretStr(APP_SECRET)]
    webhooks.verify(request(headers, raw), secret)
    with pytest.raises(WebhookRejected, match="does not match"):
        webhooks.verify(request(headers, raw.replace(b'"id": 1', b'"id": 2')), secret)
    forged, raw2 = WebhookSender("not-the-secret").build("orders/updated", {"id": 1})
    with pytest.raises(WebhookRejected, match="does not match"):
        webhooks.verify(request(forged, raw2), secret)
    unsigned = {k: v for k, v in headers.items() if k != "X-Shopify-Hmac-Sha256"}
    with pytest.raises(WebhookRejected, match="missing"):
        webhooks.verify(request(unsigned, raw), secret)
    with pytest.raises(WebhookRejected, match="no app secret"):
        webhooks.verify(request(headers, raw), [])
    # re-serialised JSON is not the raw body: verification must use the bytes as received
    reserialised = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    with pytest.raises(WebhookRejected):
        webhooks.verify(request(headers, reserialised), secret)
    # during a secret rotation the previous secret is still accepted
    webhooks.verify(request(forged, raw2), [SecretStr(APP_SECRET), SecretStr("not-the-secret")])


def test_delivery_over_real_http_records_once_and_rereads(store: Store) -> None:
    """The emulator signs and sends; a receiver verifies, records in the inbox, and the record is re-read."""
    clock = ScaledClock(5000)
    app = create_app(orders=10, clock=clock.now)
    source = make_source(app=app, clock=clock)

    async def receive(req: Request) -> PlainTextResponse:
        incoming = WebhookRequest(headers=dict(req.headers), body=await req.body())
        try:
            source.verify_webhook(incoming)
        except WebhookRejected as exc:
            return PlainTextResponse(str(exc), status_code=401)
        event = source.parse_webhook(incoming)
        assert event is not None
        fresh = store.add_inbox_event(
            InboxEvent(
                tenant_id="t1",
                connection_id="c1",
                delivery_id=event.delivery_id,
                topic=event.topic,
                entity=event.entity.value,
                external_id=event.external_id,
                version=event.version,
                deleted=event.deleted,
            )
        )
        return PlainTextResponse("ok" if fresh else "duplicate")

    receiver = Starlette(routes=[Route("/hooks", receive, methods=["POST"])])
    order = app.shop.orders.get(5_000_000_007)
    assert order is not None
    with serve(receiver) as server:
        address = f"{server.url}/hooks"
        good = WebhookSender(APP_SECRET)
        first = good.send(address, "orders/updated", rest_order(order), webhook_id="d-1")
        again = good.send(
            address, "orders/updated", rest_order(order), webhook_id="d-1"
        )  # Shopify retry
        refund = good.send(
            address, "refunds/create", rest_refund(order, order["refunds"][0]), webhook_id="d-2"
        )
        forged = WebhookSender("shpss_attacker").send(
            address, "orders/updated", rest_order(order), webhook_id="d-3"
        )
    assert (first.status_code, first.text) == (200, "ok")
    assert (again.status_code, again.text) == (200, "duplicate")
    assert refund.status_code == 200
    assert forged.status_code == 401
    events = store.pending_inbox("c1")
    assert [(e.delivery_id, e.topic, e.external_id) for e in events] == [
        ("d-1", "orders/updated", "5000000007"),
        ("d-2", "refunds/create", "5000000007"),
    ]
    # a webhook is a hint: the authoritative record is read back through the API
    fresh_order = asyncio.run(source.fetch(EntityType.ORDER, events[0].external_id))
    assert (
        isinstance(fresh_order, Order) and fresh_order.refunds and fresh_order.discrepancies() == []
    )
    asyncio.run(source.aclose())


def test_emulator_sender_endpoint_delivers_signed_webhooks() -> None:
    got: list[bytes] = []

    async def receive(req: Request) -> PlainTextResponse:
        body = await req.body()
        webhooks.verify(
            WebhookRequest(headers=dict(req.headers), body=body), [SecretStr(APP_SECRET)]
        )
        got.append(body)
        return PlainTextResponse("ok")

    app = create_app(orders=3)
    receiver = Starlette(routes=[Route("/h", receive, methods=["POST"])])
    with serve(receiver) as target, serve(app) as emulator:
        response = httpx.post(
            f"{emulator.url}/_emulator/webhooks",
            json={
                "address": f"{target.url}/h",
                "secret": APP_SECRET,
                "topic": "orders/create",
                "order": 1,
            },
        )
    assert response.json() == {"status": 200}
    assert json.loads(got[0])["id"] == 5_000_000_001
