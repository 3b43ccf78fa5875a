"""Shopify webhook deliveries: verify the HMAC on the raw body, then say what changed.

A delivery is only a hint that a record changed: the engine re-reads the
record with ``fetch()`` before posting, so a stale, duplicated or reordered
body can never post wrong numbers.  ``delivery_id`` is ``X-Shopify-Webhook-Id``
(the engine's inbox de-duplicates on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from pydantic import SecretStr

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import WebhookEvent, WebhookRequest
from ledgerbridge.errors import WebhookRejected
from ledgerbridge.http.signatures import verify_hmac_sha256
from ledgerbridge.webhook_guards import load_json, record_id

from .mapping_common import legacy_id, moment
from .mapping_rest import utc_stamp

_ORDER, _CUSTOMER, _PRODUCT = EntityType.ORDER, EntityType.CUSTOMER, EntityType.PRODUCT
TOPICS: dict[str, EntityType] = {
    **{f"orders/{event}": _ORDER for event in ("create", "updated", "paid", "cancelled")},
    **{f"orders/{event}": _ORDER for event in ("edited", "fulfilled", "partially_fulfilled")},
    **{"orders/delete": _ORDER, "refunds/create": _ORDER, "order_transactions/create": _ORDER},
    **{f"customers/{event}": _CUSTOMER for event in ("create", "update", "delete")},
    **{f"products/{event}": _PRODUCT for event in ("create", "update", "delete")},
}
PARENT_ORDER_TOPICS = {"refunds/create", "order_transactions/create"}


def verify(request: WebhookRequest, configured: Sequence[SecretStr | None]) -> None:
    """Raise ``WebhookRejected`` unless one of the ``configured`` secrets signed this exact body
    (the kit's constant-time HMAC-SHA256 check of ``X-Shopify-Hmac-Sha256``, base64).  More than
    one is accepted during a rotation (Shopify takes up to an hour to switch)."""
    secrets = tuple(secret for secret in configured if secret is not None)
    if not secrets:
        raise WebhookRejected("shopify webhook: no app secret is configured to verify deliveries")
    given = request.header("X-Shopify-Hmac-Sha256")
    verify_hmac_sha256(secrets, request.body, given, what="shopify webhook")


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
