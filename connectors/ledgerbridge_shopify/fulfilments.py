"""Shopify fulfilments (``Order.fulfillments``) in canonical terms.

Shopify's ``FulfillmentStatus`` (refdata shopify-graphql-schema 2025-01): SUCCESS is a
shipment that left; PENDING/OPEN are not shipped yet; CANCELLED/ERROR/FAILURE never
shipped.  Each fulfilment names its line items and quantities
(``fulfillmentLineItems``), which is what an invoice per shipment books.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.errors import ValidationFailed

from .mapping_common import PLATFORM, decimal, legacy_id, moment

_STATUS = {"SUCCESS": "shipped", "PENDING": "pending", "OPEN": "pending"}
_STATUS |= dict.fromkeys(("CANCELLED", "ERROR", "FAILURE"), "cancelled")


def rest_fulfilments(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The same from a REST order's ``fulfillments`` (status lower case, ``line_items``
    with ``id`` and ``quantity``: refdata shopify-examples rest_fixture_order.json)."""
    return fulfilments(
        {
            "fulfillments": [
                {
                    "id": f.get("id"),
                    "status": str(f.get("status") or "").upper(),
                    "createdAt": f.get("created_at"),
                    "fulfillmentLineItems": {
                        "nodes": [
                            {"quantity": li.get("quantity"), "lineItem": {"id": li.get("id")}}
                            for li in f.get("line_items") or []
                        ]
                    },
                }
                for f in data.get("fulfillments") or []
            ]
        }
    )


def fulfilments(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The canonical ``Fulfilment`` fields of an order's ``fulfillments``, oldest first."""
    out: list[dict[str, Any]] = []
    for i, item in enumerate(data.get("fulfillments") or []):
        where = f"fulfillments[{i}]"
        connection = item.get("fulfillmentLineItems") or {}
        if (connection.get("pageInfo") or {}).get("hasNextPage"):
            # Booking part of a shipment would invoice less than shipped: park instead.
            raise ValidationFailed(
                f"{where} lists more line items than one page holds; its invoice cannot be "
                "built from a partial list",
                platform=PLATFORM,
            )
        lines = [
            {
                "line_id": legacy_id(node["lineItem"]["id"]),
                "quantity": decimal(node.get("quantity") or 0, f"{where}.quantity"),
            }
            for node in connection.get("nodes") or []
        ]
        out.append(
            {
                "external_id": legacy_id(item.get("legacyResourceId") or item["id"]),
                "status": _STATUS.get(str(item.get("status")), "unknown"),
                "created_at": moment(item.get("createdAt")),
                "lines": lines,
            }
        )
    out.sort(key=lambda f: (f["created_at"] is None, f["created_at"], f["external_id"]))
    return out
