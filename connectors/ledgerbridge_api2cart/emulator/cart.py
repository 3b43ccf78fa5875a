"""The emulator's store-level methods: ``cart.info``, ``customer.list`` and the webhook
subscriptions (``webhook.list``, ``webhook.create`` with its idempotency key).

Each is ``(state, store, store_key, params, body) -> envelope``; ``app`` dispatches to them.
"""

from __future__ import annotations

from typing import Any

from .envelope import envelope
from .paging import filtered, page
from .params import read_bool, stamp_of
from .seed import StoreData
from .state import A2CError, EmulatorState


def cart_info(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    return envelope(
        {
            "name": store.cart_id,
            "url": "https://store.example.com",
            "version": "1.0",
            "default_rounding_precision": state.default_precision,
        }
    )


def customer_list(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    def ids() -> list[str]:
        guests = read_bool(params, "include_guests", False)
        wanted = params.get("ids")
        records = [
            c
            for c in store.customers.values()
            if (guests or not c["is_guest"]) and (not wanted or c["id"] in wanted.split(","))
        ]
        ordered = filtered(
            records,
            params,
            "modified_time",
            {
                "created_time": lambda c: (stamp_of(c, "created_time"), c["id"]),
                "modified_time": lambda c: (stamp_of(c, "modified_time"), c["id"]),
                "id": lambda c: c["id"],
            },
            "created_time",
        )
        return [c["id"] for c in ordered]

    return page(
        state,
        "customer.list",
        store_key,
        params,
        ids,
        store.customers.get,
        "customer",
        "customers_count",
        "id,email,first_name,last_name",
    )


def webhook_list(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    hooks = [
        h
        for h in store.webhooks.values()
        if all(params.get(k) in (None, h[k]) for k in ("entity", "action"))
    ]
    return envelope({"webhook": hooks})


def webhook_create(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise A2CError(109, "A JSON body is required")
    for name in ("entity", "action", "callback"):
        if not body.get(name):
            raise A2CError(114, f"Parameter '{name}' is required.")
    key = body.get("idempotency_key")
    if key and f"{store_key}:{key}" in state.idempotency:
        return state.idempotency[f"{store_key}:{key}"]
    webhook_id = max(store.webhooks, default=0) + 1
    store.webhooks[webhook_id] = {
        "id": webhook_id,
        "entity": body["entity"],
        "action": body["action"],
        "callback": body["callback"],
        "label": body.get("label"),
        "active": body.get("active", True),
    }
    answer = envelope({"id": webhook_id})
    if key:
        state.idempotency[f"{store_key}:{key}"] = answer
    return answer
