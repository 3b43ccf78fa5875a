"""Signed webhooks end to end: the emulator delivers over real HTTP to a receiver that uses
the connector's verify/parse, as the engine's inbox would."""

from __future__ import annotations

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import WebhookRequest
from ledgerbridge.errors import WebhookRejected
from ledgerbridge.sandbox import serve
from ledgerbridge_woocommerce.emulator import DEFAULT_KEY, DEFAULT_SECRET, sign

from .conftest import make_source

SECRET = "whsec-test"


def receiver(source, events, rejected):
    async def hook(request: Request) -> Response:
        delivery = WebhookRequest(headers=dict(request.headers), body=await request.body())
        try:
            source.verify_webhook(delivery)
        except WebhookRejected as exc:
            rejected.append(str(exc))
            return Response(status_code=401)
        event = source.parse_webhook(delivery)
        if event is not None:
            events.append(event)
        return Response(status_code=200)

    return Starlette(routes=[Route("/hooks/woo", hook, methods=["POST"])])


def test_ping_is_acknowledged_and_not_recorded_then_updates_are(app):
    emulator = app.emulator
    source = make_source(app)
    events, rejected = [], []
    with serve(receiver(source, events, rejected)) as hooks:

        async def scenario():
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app),
                base_url="https://shop.test/wp-json/wc/v3",
                auth=(DEFAULT_KEY, DEFAULT_SECRET),
            ) as admin:
                for topic in ("order.updated", "order.deleted"):
                    created = await admin.post(
                        "/webhooks",
                        json={
                            "topic": topic,
                            "delivery_url": f"{hooks.url}/hooks/woo",
                            "secret": SECRET,
                        },
                    )
                    assert created.status_code == 201
            pings = list(emulator.sender.sent)
            oid = sorted(emulator.store.orders)[2]
            await emulator.touch_order(oid, status="completed")
            await emulator.touch_order(oid, status="completed")
            await emulator.delete_order(oid)
            return pings, oid

        pings, oid = anyio.run(scenario)
    assert pings == [("order.updated", 200), ("order.deleted", 200)]  # answered 200
    assert rejected == []
    updated_1, updated_2, deleted = events  # the two pings recorded nothing
    assert (updated_1.topic, updated_1.entity, updated_1.external_id) == (
        "order.updated",
        EntityType.ORDER,
        str(oid),
    )
    assert updated_1.delivery_id and updated_1.delivery_id != updated_2.delivery_id
    assert updated_1.version.startswith(updated_1.occurred_at.strftime("%Y-%m-%dT%H:%M:%S;"))
    assert not updated_1.deleted
    assert (deleted.topic, deleted.external_id, deleted.deleted) == (
        "order.deleted",
        str(oid),
        True,
    )


def delivery(body: bytes, topic="order.updated", signature=None, **extra):
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": signature if signature is not None else sign(body, SECRET),
        "X-WC-Webhook-Delivery-ID": "d41d8cd98f00b204e9800998ecf8427e",
        **extra,
    }
    return WebhookRequest(headers=headers, body=body)


def test_signature_is_checked_on_the_raw_bytes(app):
    source = make_source(app)
    body = b'{"id":727,"date_modified_gmt":"2017-03-22T19:28:08","total":"29.35"}'
    source.verify_webhook(delivery(body))
    event = source.parse_webhook(delivery(body))
    assert event.delivery_id == "d41d8cd98f00b204e9800998ecf8427e"
    assert event.version.startswith("2017-03-22T19:28:08;s=") and event.external_id == "727"
    # the same JSON re-serialised (a space) no longer matches the signature
    respaced = body.replace(b'"total":', b'"total": ')
    with pytest.raises(WebhookRejected, match="does not match"):
        source.verify_webhook(delivery(respaced, signature=sign(body, SECRET)))
    with pytest.raises(WebhookRejected, match="does not match"):
        source.verify_webhook(delivery(body, signature=sign(body, "other-secret")))
    with pytest.raises(WebhookRejected, match="no X-WC-Webhook-Signature"):
        source.verify_webhook(delivery(body, signature=""))
    with pytest.raises(WebhookRejected, match="no webhook secret is configured"):
        make_source(app, webhook_secret=None).verify_webhook(delivery(body))


def test_ping_shapes_and_topics_without_records(app):
    source = make_source(app)
    ping = WebhookRequest(
        headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"webhook_id=142"
    )
    source.verify_webhook(ping)  # unsigned, yet acknowledged
    assert source.parse_webhook(ping) is None
    # a "ping" body claiming a topic is not a ping: it must be signed
    fake = WebhookRequest(headers={"X-WC-Webhook-Topic": "order.updated"}, body=b"webhook_id=142")
    with pytest.raises(WebhookRejected):
        source.verify_webhook(fake)
    coupon = delivery(b'{"id":5}', topic="coupon.updated")
    source.verify_webhook(coupon)
    assert source.parse_webhook(coupon) is None
    customer = source.parse_webhook(
        delivery(b'{"id":25,"date_modified_gmt":"2017-03-21T19:09:30"}', topic="customer.updated")
    )
    assert (customer.entity, customer.external_id) == (EntityType.CUSTOMER, "25")
    bare = source.parse_webhook(delivery(b'{"id":9}', topic="order.updated"))
    assert bare.deleted  # only {id}: the deleted-order shape


def test_a_failing_receiver_gets_the_webhook_disabled_after_five_failures(app):
    emulator = app.emulator
    source = make_source(app, webhook_secret="not-the-secret")
    events, rejected = [], []
    with serve(receiver(source, events, rejected)) as hooks:

        async def scenario():
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app),
                base_url="https://shop.test/wp-json/wc/v3",
                auth=(DEFAULT_KEY, DEFAULT_SECRET),
            ) as admin:
                await admin.post(
                    "/webhooks",
                    json={
                        "topic": "order.updated",
                        "delivery_url": f"{hooks.url}/hooks/woo",
                        "secret": SECRET,
                    },
                )
            oid = sorted(emulator.store.orders)[0]
            for _ in range(6):
                await emulator.touch_order(oid)

        anyio.run(scenario)
    assert events == [] and len(rejected) == 6
    (hook,) = emulator.sender.webhooks.values()
    assert hook.status == "disabled"
