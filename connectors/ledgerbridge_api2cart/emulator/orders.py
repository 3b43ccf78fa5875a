"""The emulator's order methods: ``order.list``, ``order.info``, ``order.status.list``,
``order.shipment.list`` and ``order.transaction.list``.

Each is ``(state, store, store_key, params, body) -> envelope``; ``app`` dispatches to them.
"""

from __future__ import annotations

from typing import Any

from . import shipments, transactions
from .envelope import envelope
from .fieldspec import apply_params, apply_response_fields
from .paging import filtered, page
from .params import DEFAULT_ORDER_PARAMS, MAX_COUNT, read_bool, read_int, stamp_of
from .seed import USER_DEFINED, StoreData
from .state import A2CError, EmulatorState


def order_list(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    def ids() -> list[str]:
        pool = store.deleted if read_bool(params, "is_deleted", False) else store.orders
        wanted = params.get("order_ids") or params.get("ids")
        records = [o for o in pool.values() if not wanted or o["order_id"] in wanted.split(",")]
        ordered = filtered(
            records,
            params,
            "modified_at",
            {
                "order_id": lambda o: o["order_id"],
                "modified_at": lambda o: (stamp_of(o, "modified_at"), o["order_id"]),
                "create_at": lambda o: (stamp_of(o, "create_at"), o["order_id"]),
            },
            "order_id",
        )
        return [o["order_id"] for o in ordered]

    user_defined = read_bool(params, "allow_user_defined_order_statuses", False)
    return page(
        state,
        "order.list",
        store_key,
        params,
        ids,
        lambda i: order_view(store, i, user_defined),
        "order",
        "orders_count",
        DEFAULT_ORDER_PARAMS,
    )


def order_view(store: StoreData, order_id: str, user_defined: bool) -> dict[str, Any] | None:
    """An order (deleted ones too) as a caller sees it: a user-defined status shows blank
    unless the call allows user-defined statuses."""
    order = store.orders.get(order_id) or store.deleted.get(order_id)
    if order is None:
        return None
    if order["status"]["id"] in USER_DEFINED and not user_defined:
        order = {**order, "status": {**order["status"], "id": "", "name": ""}}
    return order


def order_info(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    order_id = params.get("order_id") or params.get("id")
    if not order_id:
        raise A2CError(114, "Parameter 'order_id' or 'id' is required.")
    order = order_view(
        store, order_id, read_bool(params, "allow_user_defined_order_statuses", False)
    )
    if order is None or order_id in store.deleted:
        raise A2CError(112, f"Order with id {order_id} not found")
    precision = read_int(params, "rounding_precision", state.default_precision)
    if "response_fields" in params:
        return apply_response_fields(
            envelope(order, precision=precision), params["response_fields"]
        )
    view = apply_params(order, params.get("params", DEFAULT_ORDER_PARAMS), params.get("exclude"))
    return envelope(view, precision=precision)


def shipment_list(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    order_id = params.get("order_id")
    if not order_id:
        raise A2CError(114, "Parameter 'order_id' is required.")
    if order_id not in store.orders:
        raise A2CError(112, f"Order with id {order_id} not found")
    return envelope(shipments.shipment_list(store, order_id))


def transaction_list(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    # order_ids is required (refdata api2cart-openapi /order.transaction.list.json);
    # a missing one answers 114 like order.shipment.list's order_id.
    if not params.get("order_ids"):
        raise A2CError(114, "Parameter 'order_ids' is required.")
    count = read_int(params, "count", 10)
    if count > MAX_COUNT:  # "Max allowed count=250" (the spec's count parameter)
        raise A2CError(111, f"Max allowed count={MAX_COUNT}")
    return envelope(transactions.transaction_list(store, params))


def order_status_list(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    user_defined = read_bool(params, "allow_user_defined_order_statuses", False)
    statuses = [s for s in store.statuses if user_defined or s["id"] not in USER_DEFINED]
    return envelope({"cart_order_statuses": statuses})
