"""Webhook deliveries (URL-token auth, hints) and the subscription helper."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import WebhookRequest
from ledgerbridge.errors import AuthFailed, TransientError, ValidationFailed, WebhookRejected
from ledgerbridge_api2cart.webhooks import ensure_webhook

from .conftest import GENERIC, Harness

TOKEN = "hook-token-4b1e"
PATH = f"/hooks/api2cart/tenant-a/{TOKEN}"


def delivery(body, path=PATH, **headers):
    base = {"X-Webhook-Store-Id": "1", "X-Webhook-Action": "update", "X-Webhook-Entity": "order"}
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WebhookRequest(headers=base, body=raw, path=path)


def test_the_url_token_authenticates_a_delivery(harness: Harness):
    source = harness.source()
    source.verify_webhook(delivery({"order_id": "1001"}))
    for path in ("/hooks/api2cart/tenant-a/wrong", "/hooks/api2cart/tenant-a", ""):
        with pytest.raises(WebhookRejected):
            source.verify_webhook(delivery({"order_id": "1001"}, path=path))
    source.secrets.webhook_token = None
    with pytest.raises(WebhookRejected, match="webhook_token"):
        source.verify_webhook(delivery({"order_id": "1001"}))


def test_a_delivery_is_a_hint_naming_the_record(harness: Harness):
    source = harness.source()
    body = {"order_id": "1001", "modified_at": {"value": "2026-01-05T10:00:00+0000"}}
    event = source.parse_webhook(delivery(body))
    assert event.entity is EntityType.ORDER and event.external_id == "1001"
    assert event.topic == "order.update" and not event.deleted
    assert event.version == "2026-01-05T10:00:00+0000"
    # a re-delivery of the same thing is the same delivery id; another change is not
    assert source.parse_webhook(delivery(body)).delivery_id == event.delivery_id
    other = source.parse_webhook(delivery({**body, "modified_at": "2026-01-05T11:00:00+0000"}))
    assert other.delivery_id != event.delivery_id
    gone = source.parse_webhook(
        delivery({"id": "77"}, X_Webhook_Action="delete", X_Webhook_Entity="product")
    )
    assert gone.deleted and gone.entity is EntityType.PRODUCT and gone.external_id == "77"
    assert source.parse_webhook(delivery({"id": "3"}, X_Webhook_Entity="category")) is None
    with pytest.raises(ValidationFailed, match="names no id"):
        source.parse_webhook(delivery({"name": "x"}))


def test_a_lost_connection_callback_flags_the_connection(harness: Harness):
    source = harness.source()
    request = delivery(
        b"",
        X_Webhook_Error_Code="4",
        X_Webhook_Error_Reason="incorrect store key",
        X_Webhook_Error_Message="Reconnect the store",
        X_Webhook_Error_Try_Count="3",
    )
    with pytest.raises(AuthFailed, match="incorrect store key") as caught:
        source.parse_webhook(request)
    assert caught.value.needs_operator


def test_the_hinted_order_is_read_back_through_the_api(harness: Harness):
    source = harness.source()
    order_id = next(iter(harness.state.stores[GENERIC].orders))
    event = source.parse_webhook(delivery({"order_id": order_id}))

    async def read_back():
        try:
            return await source.fetch(event.entity, event.external_id)
        finally:
            await source.aclose()

    order = anyio.run(read_back)
    assert order.number == order_id and harness.state.calls("order.info")


def test_subscribing_checks_the_list_first_and_creates_once(harness: Harness):
    callback = f"https://ledgerbridge.example/hooks/api2cart/tenant-a/{TOKEN}"
    source = harness.source()

    async def subscribe_twice():
        first = await ensure_webhook(
            source.client, entity="order", action="update", callback=callback
        )
        second = await ensure_webhook(
            source.client, entity="order", action="update", callback=callback
        )
        await source.aclose()
        return first, second

    first, second = anyio.run(subscribe_twice)
    assert first == second
    hooks = harness.state.stores[GENERIC].webhooks
    assert len(hooks) == 1 and hooks[first]["callback"] == callback
    assert len(harness.state.calls("webhook.create")) == 1
    assert len(harness.state.calls("webhook.list")) == 2


def test_a_create_whose_answer_was_lost_is_not_duplicated(harness: Harness):
    """The write commits, the answer is lost, the retry carries the same idempotency key."""
    callback = f"https://ledgerbridge.example/hooks/api2cart/tenant-a/{TOKEN}"
    harness.app.config.lose_next_responses = 1
    source = harness.source()

    async def subscribe():
        try:
            return await ensure_webhook(
                source.client, entity="order", action="add", callback=callback
            )
        finally:
            await source.aclose()

    webhook_id = anyio.run(subscribe)
    assert len(harness.state.stores[GENERIC].webhooks) == 1
    assert webhook_id in harness.state.stores[GENERIC].webhooks
    bodies = [r for r in harness.transports[0].requests if r.url.path.endswith("create.json")]
    keys = {json.loads(r.content)["idempotency_key"] for r in bodies}
    assert len(bodies) == 2 and len(keys) == 1


def test_transport_failures_are_transient(harness: Harness):
    source = harness.source(inner=httpx.AsyncHTTPTransport(), base_url="http://127.0.0.1:9/v1.1")
    source.client.kit.policy = type(source.client.kit.policy)(attempts=1)

    async def call():
        try:
            await source.status_book()
        finally:
            await source.aclose()

    with pytest.raises(TransientError, match="connection failed"):
        anyio.run(call)
