"""The receiver mounted in a host ASGI app, as docs/operations.md shows it: the host's
lifespan enters the receiver's (which sets the store up)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

import ledgerbridge.webhooks
from demo.world import WOO_HOOK_SECRET
from ledgerbridge.store import Store
from ledgerbridge_woocommerce.emulator.webhooks import Webhook, WebhookSender

from .conftest import Operator


def test_a_host_app_mounting_the_receiver_stores_a_signed_delivery(operator: Operator) -> None:
    world = operator.world
    hooks = ledgerbridge.webhooks.app(str(world.config_path))

    @asynccontextmanager
    async def lifespan(_host: Starlette) -> AsyncIterator[None]:
        async with ledgerbridge.webhooks.started(hooks):
            yield

    host = Starlette(routes=[Mount("/ledgerbridge", app=hooks)], lifespan=lifespan)
    oid = next(iter(world.saved.woo.orders))
    sender = WebhookSender()
    hook = Webhook(1, "ledgerbridge", "order.updated", "unused", WOO_HOOK_SECRET)
    signed = sender.delivery(hook, world.saved.woo.orders[oid])
    forged = sender.delivery(
        Webhook(1, "x", "order.updated", "unused", "guessed"), world.saved.woo.orders[oid]
    )

    async def post() -> list[tuple[int, str]]:
        transport = httpx.ASGITransport(app=host)
        async with (
            host.router.lifespan_context(host),  # as the host's server (uvicorn) runs it
            httpx.AsyncClient(transport=transport, base_url="http://host") as client,
        ):
            url = "/ledgerbridge/webhooks/west/shop"
            codes = []
            for delivery in (signed, signed, forged):
                answer = await client.post(url, content=delivery.body, headers=delivery.headers)
                codes.append((answer.status_code, answer.json().get("status", "refused")))
            return codes

    assert anyio.run(post) == [(200, "stored"), (200, "duplicate"), (401, "refused")]
    store = Store(world.database_url)
    try:
        [event] = store.pending_inbox(limit=10)
    finally:
        store.close()
    assert (event.connection_id, event.external_id) == ("west/shop", str(oid))
