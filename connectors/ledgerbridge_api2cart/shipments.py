"""API2Cart shipments (``order.shipment.list``) in canonical fulfilments.

refdata api2cart-openapi ``/order.shipment.list.json`` answers
``result.shipment[]``: ``Shipment{id, items[{order_product_id, quantity}], is_shipped,
created_at{value}}``.  A shipment whose ``is_shipped`` is false has not left; one that
says nothing (null) is taken as shipped -- it exists only once the cart created it.
Shipment ids are the cart's and may repeat across orders, so the fulfilment id is
``<order id>:<shipment id>``.  The order's lines are its ``order_product_id``s.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.canonical.money import parse_amount
from ledgerbridge.contracts.readers import text

from .fields import in_order, rows, timestamp

METHOD = "order.shipment.list"
SHIPPED = "__shipments"  # where the source puts an order's shipments before mapping it


def fulfilments(order_id: str, shipments: Any) -> list[dict[str, Any]]:
    """The order's shipments as fulfilment dicts; a shipment or item that is not an object
    is refused naming it (``API2Cart order 7: shipments[0].items[1] is not an object``)."""
    out = []
    for i, item in enumerate(rows(shipments or [], in_order(order_id, "shipments"))):
        where = in_order(order_id, f"shipments[{i}]")
        items = rows(item.get("items") or [], f"{where}.items")
        out.append(
            {
                "external_id": f"{order_id}:{text(item.get('id')) or i}",
                "status": "pending" if item.get("is_shipped") is False else "shipped",
                "created_at": timestamp(item.get("created_at"), f"{where}.created_at"),
                "lines": [
                    {
                        "line_id": text(line.get("order_product_id")),
                        "quantity": parse_amount(
                            line.get("quantity"), f"{where}.items[{j}].quantity"
                        ),
                    }
                    for j, line in enumerate(items)
                    if text(line.get("order_product_id"))
                ],
            }
        )
    return out
