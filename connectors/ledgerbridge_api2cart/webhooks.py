"""API2Cart webhook deliveries: read as hints, and subscribed to.

API2Cart documents no signature, and a delivery does not say which store key it belongs to.
So the callback URL ends with a per-connection secret token (checked by the source's
``verify_webhook`` in constant time), and a delivery is only a *hint*: the engine re-reads the
record through the API (``fetch``) before acting on it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import WebhookEvent, WebhookRequest
from ledgerbridge.contracts.readers import text
from ledgerbridge.errors import AuthFailed, Conflict, ValidationFailed
from ledgerbridge.webhook_guards import load_json, record_id

from .client import Api2CartClient
from .envelope import PLATFORM
from .fields import timestamp, timestamp_text

_ENTITIES = {e.value: e for e in (EntityType.ORDER, EntityType.CUSTOMER, EntityType.PRODUCT)}


def _record(body: bytes) -> dict[str, Any]:
    try:
        data = load_json(body, "API2Cart webhook") if body.strip() else {}
    except ValueError:
        raise ValidationFailed(
            "API2Cart webhook: the body is not JSON", platform=PLATFORM
        ) from None
    if not isinstance(data, dict):
        return {}
    for key in ("result", "data", "entity"):
        inner = data.get(key)
        if isinstance(inner, dict) and (inner.get("id") or inner.get("order_id")):
            return inner
    return data


def parse_delivery(request: WebhookRequest) -> WebhookEvent | None:
    """What a verified delivery hints at; ``None`` for entities we do not read."""
    error_code = text(request.header("X-Webhook-Error-Code"))
    if error_code and error_code != "0":
        # API2Cart lost the store connection: a connection-health event, not an order event.
        raise AuthFailed(
            "API2Cart reports the store connection is broken: "
            f"{request.header('X-Webhook-Error-Reason') or 'no reason given'} -- "
            f"{request.header('X-Webhook-Error-Message') or 'reconnect the store'} "
            f"(tries left: {request.header('X-Webhook-Error-Try-Count') or '?'}; the webhook "
            "is disabled after five failures: re-enable it with webhook.update active=true)",
            platform=PLATFORM,
            code=error_code,
        )
    entity_name = (request.header("X-Webhook-Entity") or "").lower()
    action = (request.header("X-Webhook-Action") or "").lower()
    store_id = request.header("X-Webhook-Store-Id") or ""
    entity = _ENTITIES.get(entity_name)
    if entity is None:
        return None
    record = _record(request.body)
    raw = record.get("order_id") if entity is EntityType.ORDER else None
    if raw is None or raw == "":
        raw = record.get("id")
    what = f"API2Cart webhook {entity_name}.{action}"
    external_id = None if raw is None or raw == "" else text(record_id(raw, what))
    if external_id is None:
        raise ValidationFailed(f"{what}: the body names no id", platform=PLATFORM)
    stamp = record.get("modified_at") or record.get("modified_time")
    # API2Cart sends no delivery id: the same delivery re-sent hashes to the same id.
    digest = hashlib.sha256(
        b"\x00".join([store_id.encode(), entity_name.encode(), action.encode(), request.body])
    ).hexdigest()
    return WebhookEvent(
        delivery_id=f"api2cart:{digest}",
        topic=f"{entity_name}.{action}",
        entity=entity,
        external_id=external_id,
        version=timestamp_text(stamp),
        occurred_at=timestamp(stamp, "webhook modified_at") if stamp else None,
        deleted=action == "delete",
    )


async def ensure_webhook(
    client: Api2CartClient, *, entity: str, action: str, callback: str, label: str = "ledgerbridge"
) -> int:
    """The id of the webhook delivering ``entity.action`` to ``callback``, created if missing.

    ``webhook.list`` is checked first (the ``idempotency_key`` cache lasts only 15
    minutes); the key makes a retried ``webhook.create`` return the first answer.
    """
    existing = await _find(client, entity, action, callback)
    if existing is not None:
        return existing
    key = hashlib.sha256(f"{entity}.{action} {callback}".encode()).hexdigest()[:32]
    hook = {"entity": entity, "action": action, "callback": callback, "label": label}
    try:
        envelope = await client.post(
            "webhook.create", {**hook, "active": True, "idempotency_key": key}
        )
    except Conflict:
        found = await _find(client, entity, action, callback)
        if found is None:
            raise
        return found
    webhook_id = (envelope.result or {}).get("id")
    if webhook_id is None:
        raise ValidationFailed("API2Cart webhook.create returned no id", platform=PLATFORM)
    return int(webhook_id)


async def _find(client: Api2CartClient, entity: str, action: str, callback: str) -> int | None:
    envelope = await client.get(
        "webhook.list",
        {"entity": entity, "action": action, "params": "id,entity,action,callback,active"},
    )
    for hook in (envelope.result or {}).get("webhook") or []:
        if hook.get("callback") == callback and hook.get("id") is not None:
            return int(hook["id"])
    return None
