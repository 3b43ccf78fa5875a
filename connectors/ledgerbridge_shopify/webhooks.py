"""Shopify webhook deliveries: verify the HMAC on the raw body, then say what changed.

A delivery is only a hint that a record changed: the engine re-reads the
record with ``fetch()`` before posting, so a stale, duplicated or reordered
body can never post wrong numbers.  ``delivery_id`` is ``X-Shopify-Webhook-Id``
(the engine's inbox de-duplicates on it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from decimal import Decimal

from pydantic import SecretStr

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import WebhookEvent, WebhookRequest
from ledgerbridge.errors import WebhookRejected
from ledgerbridge.webhook_guards import load_json, record_id

from .mapping_common import legacy_id, moment
from .mapping_rest import utc_stamp

TOPICS: dict[str, EntityType] = {
    "orders/create": EntityType.ORDER,
    "orders/updated": EntityType.ORDER,
    "orders/paid": EntityType.ORDER,
    "orders/cancelled": EntityType.ORDER,
    "orders/edited": EntityType.ORDER,
    "orders/fulfilled": EntityType.ORDER,
    "orders/partially_fulfilled": EntityType.ORDER,
    "orders/delete": EntityType.ORDER,
    "refunds/create": EntityType.ORDER,
    "order_transactions/create": EntityType.ORDER,
    "customers/create": EntityType.CUSTOMER,
    "customers/update": EntityType.CUSTOMER,
    "customers/delete": EntityType.CUSTOMER,
    "products/create": EntityType.PRODUCT,
    "products/update": EntityType.PRODUCT,
    "products/delete": EntityType.PRODUCT,
}
PARENT_ORDER_TOPICS = {"refunds/create", "order_transactions/create"}


def expected_signature(body: bytes, secret: SecretStr) -> bytes:
    digest = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest)


def verify(request: WebhookRequest, secrets: Sequence[SecretStr]) -> None:
    """Raise ``WebhookRejected`` unless one of ``secrets`` signed this exact body.

    More than one secret is accepted during a rotation (Shopify takes up to an
    hour to switch). The comparison is constant-time (``hmac.compare_digest``).
    """
    if not secrets:
        raise WebhookRejected("shopify webhook: no app secret is configured to verify deliveries")
    given = request.header("X-Shopify-Hmac-Sha256")
    if not given:
        raise WebhookRejected("shopify webhook: X-Shopify-Hmac-Sha256 header is missing")
    given_bytes = given.strip().encode()
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(expected_signature(request.body, secret), given_bytes)
    if not matched:
        raise WebhookRejected("shopify webhook: signature does not match the body")


def parse(request: WebhookRequest) -> WebhookEvent | None:
    """The event a verified delivery describes; ``None`` for topics ledgerbridge does not follow."""
    topic = (request.header("X-Shopify-Topic") or "").strip().lower()
    entity = TOPICS.get(topic)
    if entity is None:
        return None
    delivery = request.header("X-Shopify-Webhook-Id")
    if not delivery:
        raise WebhookRejected("shopify webhook: X-Shopify-Webhook-Id header is missing")
    what = f"shopify webhook {topic}"
    try:
        body = load_json(request.body, what, parse_float=Decimal)
        if topic in PARENT_ORDER_TOPICS:
            ident = legacy_id(record_id(body["order_id"], what))
            version = None
        else:
            ident = legacy_id(record_id(body["id"], what))
            version = utc_stamp(body.get("updated_at"))
    except (ValueError, KeyError, TypeError) as exc:
        raise WebhookRejected(f"shopify webhook {topic}: body has no usable id ({exc})") from exc
    return WebhookEvent(
        delivery_id=delivery,
        topic=topic,
        entity=entity,
        external_id=ident,
        version=version,
        occurred_at=moment(request.header("X-Shopify-Triggered-At")),
        deleted=topic.endswith("/delete"),
    )
