"""``order.shipment.list`` (refdata api2cart-openapi ``/order.shipment.list.json``).

Parameters: ``order_id`` (required), ``start``, ``count``, ``page_cursor``,
``store_id``, ``created_from``/``created_to``, ``modified_from``/``modified_to``,
``response_fields``, ``params``, ``exclude``.  The answer is
``Model_Response_Order_Shipment_List``: ``result.shipment_count`` and ``result.shipment``,
each a ``Shipment`` (``id``, ``order_id``, ``items[{order_product_id, product_id,
quantity, ...}]``, ``is_shipped``, ``created_at``/``modified_time`` as ``A2CDateTime``,
``tracking_numbers``).  An unknown order answers code 112 like ``order.info``; the
stricter reading, since the spec does not say.  Shipments are held per store in
``StoreData.shipments`` (order id -> list) and added by tests or the sandbox.
"""

from __future__ import annotations

from typing import Any

ALLOWED = {
    "start", "count", "page_cursor", "order_id", "store_id", "created_from", "created_to",
    "modified_from", "modified_to", "response_fields", "params", "exclude",
}  # fmt: skip


def shipment(
    order: dict[str, Any], sid: str, items: list[tuple[str, int]], when: str, shipped: bool = True
) -> dict[str, Any]:
    """A ``Shipment`` of ``items`` (order_product_id, quantity) of ``order``."""
    by_id = {p["order_product_id"]: p for p in order["order_products"]}
    stamp = {"value": when, "format": "Y-m-d\\TH:i:sO"}
    return {
        "id": sid,
        "order_id": order["id"],
        "name": None,
        "warehouse_id": None,
        "shipment_provider": "emulated",
        "tracking_numbers": [{"carrier_id": "ups", "tracking_number": f"1Z{sid}"}],
        "created_at": stamp,
        "modified_time": stamp,
        "items": [_item(by_id[opid], quantity) for opid, quantity in items],
        "is_shipped": shipped,
        "delivered_at": None,
    }


def _item(product: dict[str, Any], quantity: int) -> dict[str, Any]:
    keep = ("order_product_id", "product_id", "variant_id", "model", "name", "price")
    return {**{k: product.get(k) for k in keep}, "quantity": quantity}


def shipment_list(store: Any, order_id: str) -> dict[str, Any]:
    """The ``result`` of ``order.shipment.list`` for ``order_id``."""
    found = list(store.shipments.get(order_id, []))
    return {"shipment_count": len(found), "shipment": found}
