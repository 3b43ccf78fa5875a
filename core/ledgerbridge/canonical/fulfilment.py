"""Canonical fulfilments: what of an order has shipped, and when.

A pipeline with the ``fulfilled`` posting trigger books what has shipped: one
invoice per fulfilment with exactly its lines and quantities.  The model here
only states the facts a source reports (Shopify ``Order.fulfillments``, an
API2Cart ``order.shipment.list`` entry, WooCommerce's ``completed`` status);
how an order is cut into invoices is the planner's job (``engine/fulfilments.py``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from .common import CanonicalModel
from .money import ExactDecimal


class FulfilmentStatus(StrEnum):
    """Shopify's ``FulfillmentStatus`` less its transient values: only SUCCESS has shipped."""

    SHIPPED = "shipped"  # SUCCESS: the goods left
    PENDING = "pending"  # PENDING / OPEN: not shipped yet
    CANCELLED = "cancelled"  # CANCELLED / ERROR / FAILURE: never shipped
    UNKNOWN = "unknown"


class FulfilmentLine(CanonicalModel):
    """A quantity of one order line (``OrderLine.line_id``) in one fulfilment."""

    line_id: str
    quantity: ExactDecimal


class Fulfilment(CanonicalModel):
    """One shipment of an order.

    ``external_id`` is unique within the source connection (a connector whose
    shipment ids are per order prefixes them with the order id).  ``lines`` empty
    with ``whole_order`` set means the source cannot say which lines shipped and
    reports the whole order as shipped (WooCommerce ``completed``).
    """

    external_id: str
    status: FulfilmentStatus
    created_at: datetime | None = None
    lines: tuple[FulfilmentLine, ...] = ()
    whole_order: bool = False
    tracking: str | None = None

    @property
    def shipped(self) -> bool:
        return self.status is FulfilmentStatus.SHIPPED


__all__ = ["Fulfilment", "FulfilmentLine", "FulfilmentStatus"]
