"""What a WooCommerce order says about shipping, in canonical fulfilments.

WooCommerce core has no shipment object (``shared/docs/platforms/woocommerce.md`` §8.2
lists the statuses; §4 the order's ``date_completed_gmt``): ``completed`` is the status a
merchant sets once the order is fulfilled -- the stricter reading, since nothing else
in core says what shipped.  So a completed order is
one shipment of the whole order (``whole_order``: the source cannot say which lines);
anything else has shipped nothing.  What WooCommerce cannot tell -- partial shipments
(shipment-tracking plugins keep them in their own meta), authorisations and partial
captures (one ``date_paid`` per order), gift-card redemptions (extensions) -- is listed in
docs/engine.md, "Posting triggers".
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.canonical import Fulfilment, FulfilmentStatus

from .fields import gmt


def fulfilments(data: dict[str, Any], order_id: str) -> tuple[Fulfilment, ...]:
    if data.get("status") != "completed":
        return ()
    when = gmt(data.get("date_completed_gmt"), f"order {order_id}.date_completed_gmt")
    return (
        Fulfilment(
            external_id=f"{order_id}:completed",
            status=FulfilmentStatus.SHIPPED,
            created_at=when,
            whole_order=True,
        ),
    )
