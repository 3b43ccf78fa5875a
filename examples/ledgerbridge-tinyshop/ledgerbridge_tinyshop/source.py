"""The TinyShop source: changed orders since a checkpoint, one order, signed webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
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

from .client import TinyShopClient
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
        self.client = TinyShopClient(
            self.settings.base_url, self.secrets.api_token.get_secret_value(), context.transport
        )

    async def changes(
        self, entity: EntityType, checkpoint: str | None, *, page_size: int | None = None
    ) -> AsyncIterator[ChangePage]:
        page, pages = 1, 1
        while page <= pages:
            params = {"page": page, "per_page": page_size or 50}
            if checkpoint:
                params["updated_since"] = checkpoint
            body = await self.client.get("/api/orders", **params)
            pages = body["pages"]
            changes = [self._change(raw) for raw in body["orders"]]
            newest = max((raw["updated_at"] for raw in body["orders"]), default=checkpoint)
            yield ChangePage(changes, newest)
            page += 1

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
        raw = await self.client.get(f"/api/orders/{external_id}")
        with guarded("tinyshop", entity, external_id):
            return to_order(raw, self.settings.store, self.context.validation_context)

    def verify_webhook(self, request: WebhookRequest) -> None:
        secret = self.secrets.webhook_secret
        given = request.header("X-TinyShop-Signature")
        if secret is None or given is None:
            raise WebhookRejected("missing TinyShop signature or webhook secret")
        expected = base64.b64encode(
            hmac.new(secret.get_secret_value().encode(), request.body, hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected, given):
            raise WebhookRejected("TinyShop signature does not match")

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
