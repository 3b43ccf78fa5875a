"""The TinyShop source: changed orders since a checkpoint, one order, signed webhooks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from functools import partial

from pydantic import BaseModel, SecretStr

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.contracts import (
    ChangePage,
    ConnectorContext,
    Source,
    WebhookEvent,
    WebhookRequest,
)
from ledgerbridge.contracts.guard import guarded
from ledgerbridge.http import numbered_pages, verify_hmac_sha256
from ledgerbridge.incremental import Listing, parse_instant, poll

from .client import tinyshop_client
from .mapper import to_order

# Where an order sits on the watermark.  `updated_since` is exclusive and a list may lag a
# write, so each read starts five minutes before the newest change handed over (the overlap).
ORDERS = Listing(
    EntityType.ORDER,
    "tinyshop",
    identify=lambda raw: raw.get("id"),
    version=lambda raw: raw.get("updated_at"),
    moment=lambda raw: parse_instant(raw["updated_at"]),
    overlap=timedelta(minutes=5),
)


class TinyShopSettings(BaseModel, extra="forbid"):
    base_url: str
    store: str = "tinyshop"


class TinyShopSecrets(BaseModel, extra="forbid"):
    api_token: SecretStr
    webhook_secret: SecretStr | None = None


class TinyShopSource(Source):
    def __init__(self, context: ConnectorContext) -> None:
        assert isinstance(context.settings, TinyShopSettings)
        assert isinstance(context.secrets, TinyShopSecrets)
        self.settings, self.secrets, self.context = context.settings, context.secrets, context
        self.client = tinyshop_client(context, self.settings.base_url, self.secrets.api_token)

    def changes(
        self, entity: EntityType, checkpoint: str | None, *, page_size: int | None = None
    ) -> AsyncIterator[ChangePage]:
        pages = partial(self._pages, per_page=page_size or 50)
        return poll(ORDERS, checkpoint, "orders", pages, self._order)

    async def _pages(self, since: datetime | None, per_page: int) -> AsyncIterator[list[dict]]:
        query = {"per_page": per_page, "updated_since": since.isoformat() if since else None}

        async def page(number: int) -> dict:
            return await self.client.get_json("/api/orders", dict, page=number, **query)

        async for body in numbered_pages(page, total_pages=lambda body: body["pages"]):
            yield body["orders"]

    def _order(self, raw: dict) -> Order:
        return to_order(raw, self.settings.store, self.context.validation_context)

    async def fetch(self, entity: EntityType, external_id: str) -> Order:
        raw = await self.client.get_json(f"/api/orders/{external_id}", dict)
        with guarded("tinyshop", entity, external_id):
            return self._order(raw)

    def verify_webhook(self, request: WebhookRequest) -> None:
        signature = request.header("X-TinyShop-Signature")
        verify_hmac_sha256(
            self.secrets.webhook_secret, request.body, signature, what="TinyShop webhook"
        )

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent:
        body = json.loads(request.body)
        delivery = request.header("X-TinyShop-Delivery") or f"{body['id']}:{body['updated_at']}"
        return WebhookEvent(
            delivery, "order.updated", EntityType.ORDER, str(body["id"]), body["updated_at"]
        )

    async def aclose(self) -> None:
        await self.client.aclose()
