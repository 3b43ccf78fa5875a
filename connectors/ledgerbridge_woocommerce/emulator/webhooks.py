"""The emulator's webhook sender: deliveries shaped and signed like WooCommerce's.

``generate_signature()`` in core: base64 of the raw HMAC-SHA256 digest of the
body with the webhook secret.  A new webhook is pinged with the unsigned form
body ``webhook_id=N``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .data import SITE

USER_AGENT = "WooCommerce/9.4.0 Hookshot (WordPress/6.7)"


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Webhook:
    id: int
    name: str
    topic: str
    delivery_url: str
    secret: str
    status: str = "active"
    failures: int = 0

    @property
    def resource(self) -> str:
        return self.topic.split(".")[0]

    @property
    def event(self) -> str:
        return self.topic.split(".")[1]


@dataclass
class WebhookSender:
    """Builds and (optionally) posts deliveries; ``transport`` routes them in tests."""

    webhooks: dict[int, Webhook] = field(default_factory=dict)
    transport: httpx.AsyncBaseTransport | None = None
    sent: list[tuple[str, int]] = field(default_factory=list)
    _counter: int = 0

    def delivery_id(self, webhook: Webhook) -> str:
        self._counter += 1
        raw = f"{webhook.id}{time.time_ns()}{self._counter}".encode()
        return hashlib.md5(raw, usedforsecurity=False).hexdigest()

    def ping(self, webhook: Webhook) -> Delivery:
        return Delivery(
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": USER_AGENT,
            },
            body=f"webhook_id={webhook.id}".encode(),
        )

    def delivery(self, webhook: Webhook, payload: dict[str, Any]) -> Delivery:
        body = json.dumps(payload, default=str, separators=(",", ":")).encode()
        return Delivery(
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-WC-Webhook-Source": SITE + "/",
                "X-WC-Webhook-Topic": webhook.topic,
                "X-WC-Webhook-Resource": webhook.resource,
                "X-WC-Webhook-Event": webhook.event,
                "X-WC-Webhook-Signature": sign(body, webhook.secret),
                "X-WC-Webhook-ID": str(webhook.id),
                "X-WC-Webhook-Delivery-ID": self.delivery_id(webhook),
            },
            body=body,
        )

    async def post(self, webhook: Webhook, delivery: Delivery) -> int:
        """POST a delivery; more than 5 consecutive failures disable the webhook (core)."""
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=10) as client:
                response = await client.post(
                    webhook.delivery_url, content=delivery.body, headers=delivery.headers
                )
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        ok = 200 <= status < 300 or status in (301, 302)
        webhook.failures = 0 if ok else webhook.failures + 1
        if webhook.failures > 5:
            webhook.status = "disabled"
        self.sent.append((webhook.topic, status))
        return status

    async def notify(self, topic: str, payload: dict[str, Any]) -> list[int]:
        """Deliver ``payload`` to every active webhook subscribed to ``topic``."""
        results = []
        for webhook in list(self.webhooks.values()):
            if webhook.status == "active" and webhook.topic == topic:
                results.append(await self.post(webhook, self.delivery(webhook, payload)))
        return results
