"""WooCommerce webhook deliveries: verify the signature, then say what changed.

* ``X-WC-Webhook-Signature`` is base64(HMAC-SHA256(raw body, webhook secret)), checked by the
  kit in constant time on the bytes as received.
* Creating a webhook makes WooCommerce POST the unsigned form body ``webhook_id=N`` with no
  WooCommerce headers: it is answered 200 and recorded as nothing (``parse`` returns None).
* ``*.deleted`` deliveries carry only ``{"id": N}``.  A delivery is a hint: the engine re-reads
  the record, and its inbox de-duplicates on ``X-WC-Webhook-Delivery-ID``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from decimal import Decimal

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import WebhookEvent, WebhookRequest
from ledgerbridge.errors import WebhookRejected
from ledgerbridge.http import verify_hmac_sha256
from ledgerbridge.webhook_guards import load_json, record_id

from .fields import MappingError, gmt, version_of

PING = re.compile(rb"^webhook_id=\d+$")
RESOURCES = {e.value: e for e in (EntityType.ORDER, EntityType.CUSTOMER, EntityType.PRODUCT)}


def is_ping(request: WebhookRequest) -> bool:
    """WooCommerce's creation ping: unsigned ``webhook_id=N``, no topic."""
    return (
        request.header("X-WC-Webhook-Signature") is None
        and request.header("X-WC-Webhook-Topic") is None
        and PING.match(request.body.strip()) is not None
    )


def verify(request: WebhookRequest, secret: str | None) -> None:
    """Raise WebhookRejected unless the delivery is authentic (or the harmless ping).  No
    secret configured refuses every delivery, saying so; a mismatch is a wrong secret, an
    altered body, or a site filter that changed the algorithm."""
    if is_ping(request):
        return
    given = request.header("X-WC-Webhook-Signature")
    if not given:
        raise WebhookRejected("woocommerce webhook: no X-WC-Webhook-Signature header")
    verify_hmac_sha256(secret, request.body, given, what="woocommerce webhook")


def parse(request: WebhookRequest) -> WebhookEvent | None:
    """The event of a verified delivery; None for the ping and for topics we do not read."""
    if is_ping(request):
        return None
    topic = (request.header("X-WC-Webhook-Topic") or "").strip()
    resource, _, event = topic.partition(".")
    entity = RESOURCES.get(resource)
    if entity is None or not event:
        return None  # coupon.*, action.*: acknowledged, nothing to read
    try:
        payload = load_json(request.body, f"woocommerce webhook {topic}", parse_float=Decimal)
    except ValueError:
        raise WebhookRejected(f"woocommerce webhook {topic}: body is not JSON") from None
    if not isinstance(payload, dict) or payload.get("id") in (None, ""):
        raise WebhookRejected(f"woocommerce webhook {topic}: body has no resource id")
    # Older sites send no delivery id: one derived from the body collapses redeliveries.
    delivery_id = request.header("X-WC-Webhook-Delivery-ID") or (
        "sha256:" + hashlib.sha256(topic.encode() + request.body).hexdigest()
    )
    deleted = event == "deleted" or set(payload) == {"id"}
    version = occurred = None
    if not deleted and payload.get("date_modified_gmt"):
        is_order = entity is EntityType.ORDER
        version = version_of(payload) if is_order else str(payload["date_modified_gmt"])
        with contextlib.suppress(MappingError):
            occurred = gmt(payload.get("date_modified_gmt"), "webhook date_modified_gmt")
    return WebhookEvent(
        delivery_id=delivery_id,
        topic=topic,
        entity=entity,
        external_id=record_id(payload["id"], f"woocommerce webhook {topic}"),
        version=version,
        occurred_at=occurred,
        deleted=deleted,
    )
