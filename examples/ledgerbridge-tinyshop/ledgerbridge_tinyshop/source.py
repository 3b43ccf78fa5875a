"""The TinyShop source: changed orders since a checkpoint, one order, signed webhooks."""

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from functools import partial
from operator import itemgetter

from pydantic import BaseModel, SecretStr

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.contracts import ConnectorContext, Source
from ledgerbridge.contracts.guard import guarded
from ledgerbridge.contracts.source import ChangePage, WebhookEvent, WebhookRequest
from ledgerbridge.http import BearerAuth, ErrorTable, KitClient, numbered_pages, verify_hmac_sha256
from ledgerbridge.incremental import Listing, poll

from .mapper import to_order

# HTTP's statuses map by the kit's defaults; TinyShop only adds advice for a refused token.
ERRORS = ErrorTable("tinyshop", advice={401: "TinyShop refused the API token: create a new one"})
# An order's id and version, `updated_at` (the instant the checkpoint moves on).  A list may
# lag a write: each read starts 5 minutes before the newest change already read (the overlap).
ORDERS = Listing(EntityType.ORDER, "tinyshop", "id", "updated_at", overlap=timedelta(minutes=5))


class TinyShopSettings(BaseModel, extra="forbid"):
    base_url: str
    store: str = "tinyshop"


class TinyShopSecrets(BaseModel, extra="forbid"):
    api_token: SecretStr
    webhook_secret: SecretStr | None = None


class TinyShopSource(Source):
    def __init__(self, context: ConnectorContext) -> None:
        settings, self.secrets = context.settings, context.secrets
        assert isinstance(settings, TinyShopSettings) and isinstance(self.secrets, TinyShopSecrets)
        auth = BearerAuth(self.secrets.api_token)
        self.client = KitClient(context, settings.base_url, ERRORS, auth=auth)
        self.map = partial(to_order, store=settings.store, context=context.validation_context)

    def changes(
        self, entity: EntityType, checkpoint: str | None, *, page_size: int | None = None
    ) -> AsyncIterator[ChangePage]:
        pages = partial(self._pages, per_page=page_size or 50)
        return poll(ORDERS, checkpoint, "orders", pages, self.map)

    async def _pages(self, since: datetime | None, per_page: int) -> AsyncIterator[list[dict]]:
        query = {"per_page": per_page, "updated_since": since.isoformat() if since else None}
        get = partial(self.client.get_json, "/api/orders", dict, **query)
        async for body in numbered_pages(lambda n: get(page=n), total_pages=itemgetter("pages")):
            yield body["orders"]

    async def fetch(self, entity: EntityType, external_id: str) -> Order:
        raw = await self.client.get_json(f"/api/orders/{external_id}", dict)
        with guarded("tinyshop", entity, external_id):
            return self.map(raw)

    def verify_webhook(self, request: WebhookRequest) -> None:
        signature, secret = request.header("X-TinyShop-Signature"), self.secrets.webhook_secret
        verify_hmac_sha256(secret, request.body, signature, what="TinyShop webhook")

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent:
        return ORDERS.event(json.loads(request.body), "order.updated")

    async def aclose(self) -> None:
        await self.client.aclose()
