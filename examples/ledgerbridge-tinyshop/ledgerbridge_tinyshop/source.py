"""The TinyShop source: changed orders since a checkpoint, one order, signed webhooks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from pydantic import BaseModel, ConfigDict, SecretStr

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.contracts import (
    Change,
    ChangePage,
    ConnectorContext,
    Source,
    WebhookEvent,
    WebhookRequest,
)
from ledgerbridge.contracts.guard import guarded, mapped, record_id
from ledgerbridge.errors import WebhookRejected
from ledgerbridge.http import numbered_pages, verify_hmac_sha256

from .client import tinyshop_client
from .mapper import to_order


class TinyShopSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str
    store: str = "tinyshop"


class TinyShopSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_token: SecretStr
    webhook_secret: SecretStr | None = None


class TinyShopSource(Source):
    def __init__(self, context: ConnectorContext) -> None:
        assert isinstance(context.settings, TinyShopSettings)
        assert isinstance(context.secrets, TinyShopSecrets)
        self.settings, self.secrets, self.context = context.settings, context.secrets, context
        self.client = tinyshop_client(context, self.settings.base_url, self.secrets.api_token)

    async def changes(
        self, entity: EntityType, checkpoint: str | None, *, page_size: int | None = None
    ) -> AsyncIterator[ChangePage]:
        async def page(number: int) -> dict:
            params = {"page": number, "per_page": page_size or 50}
            if checkpoint:
                params["updated_since"] = checkpoint
            return await self.client.get_json("/api/orders", dict, **params)

        # Page 1 always comes back, empty or not: its (unchanged) checkpoint is the answer.
        async for body in numbered_pages(page, total_pages=lambda b: b["pages"], is_empty=never):
            newest = max((raw["updated_at"] for raw in body["orders"]), default=checkpoint)
            yield ChangePage([self._change(raw) for raw in body["orders"]], newest)

    def _change(self, raw: dict) -> Change:
        # The core guard: any failure to map parks this one order (with the reason), never the run.
        return mapped(
            EntityType.ORDER,
            record_id(raw.get("id")),
            raw.get("updated_at"),
            lambda: to_order(raw, self.settings.store, self.context.validation_context),
            platform="tinyshop",
        )

    async def fetch(self, entity: EntityType, external_id: str) -> Order:
        raw = await self.client.get_json(f"/api/orders/{external_id}", dict)
        with guarded("tinyshop", entity, external_id):
            return to_order(raw, self.settings.store, self.context.validation_context)

    def verify_webhook(self, request: WebhookRequest) -> None:
        if self.secrets.webhook_secret is None:
            raise WebhookRejected("TinyShop webhook: set secrets.webhook_secret first")
        verify_hmac_sha256(
            self.secrets.webhook_secret,
            request.body,
            request.header("X-TinyShop-Signature"),
            what="TinyShop webhook",
        )

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent | None:
        body = json.loads(request.body)
        return WebhookEvent(
            delivery_id=request.header("X-TinyShop-Delivery")
            or f"{body['id']}:{body['updated_at']}",
            topic="order.updated",
            entity=EntityType.ORDER,
            external_id=str(body["id"]),
            version=body["updated_at"],
        )

    async def aclose(self) -> None:
        await self.client.aclose()


def never(body: dict) -> bool:
    return False
