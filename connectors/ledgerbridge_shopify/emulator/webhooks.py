"""Signed webhook deliveries, shaped like Shopify's (REST-shaped body, X-Shopify-* headers)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx


def sign(body: bytes, secret: str) -> str:
    """base64(HMAC-SHA256(raw body, app secret)) -- the ``X-Shopify-Hmac-Sha256`` value."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _amount(bag: dict[str, Any]) -> str:
    return str(bag["shopMoney"]["amount"])


def rest_order(order: dict[str, Any]) -> dict[str, Any]:
    """The order as a REST/webhook body carries it (the fields a notification needs)."""
    return {
        "id": int(order["legacyResourceId"]),
        "admin_graphql_api_id": order["id"],
        "name": order["name"],
        "email": order.get("email"),
        "created_at": order["createdAt"],
        "updated_at": order["updatedAt"],
        "cancelled_at": order.get("cancelledAt"),
        "cancel_reason": (order.get("cancelReason") or "").lower() or None,
        "currency": order["currencyCode"],
        "presentment_currency": order["presentmentCurrencyCode"],
        "taxes_included": order["taxesIncluded"],
        "total_price": _amount(order["totalPriceSet"]),
        "subtotal_price": _amount(order["subtotalPriceSet"]),
        "total_tax": _amount(order["totalTaxSet"]),
        "financial_status": (order.get("displayFinancialStatus") or "").lower(),
        "test": order["test"],
    }


def rest_refund(order: dict[str, Any], refund: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(refund["legacyResourceId"]),
        "order_id": int(order["legacyResourceId"]),
        "admin_graphql_api_id": refund["id"],
        "created_at": refund["createdAt"],
        "note": refund.get("note"),
    }


class WebhookSender:
    """Delivers signed webhooks to a receiver, as Shopify does (and can deliver twice)."""

    def __init__(
        self, secret: str, shop_domain: str = "emulated.myshopify.com", api_version: str = "2025-01"
    ) -> None:
        self.secret = secret
        self.shop_domain = shop_domain
        self.api_version = api_version

    def build(
        self, topic: str, payload: dict[str, Any], *, webhook_id: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        body = json.dumps(
            payload, default=lambda v: str(v) if isinstance(v, Decimal) else v
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(body, self.secret),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
        }
        return headers, body

    def send(
        self, address: str, topic: str, payload: dict[str, Any], *, webhook_id: str | None = None
    ) -> httpx.Response:
        headers, body = self.build(topic, payload, webhook_id=webhook_id)
        return httpx.post(address, content=body, headers=headers, timeout=5.0)
