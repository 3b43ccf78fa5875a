"""Payments a source writes down from what an order says, not from a transaction it read.

Most platforms do not list an order's money movements with the order: WooCommerce has one
``date_paid`` per order, API2Cart a financial status.  The books still need a payment for
the invoice and a refund payment for the credit note, so a source *synthesizes* them -- and
the rules for that are the same on every platform, written here once:

* the id depends only on what never changes between reads (the order's id, the refund's
  id), so re-reading or editing an order never makes the engine record the money twice;
* a payment is always the whole amount that came in (a partly paid order gets none: what
  part was already posted cannot be known, so a partial now and the full amount later
  would count the money twice);
* the refund a merchant paid back carries one refund payment of what it credited, so the
  credit note does not stay open as customer credit while the cash has left.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from ..canonical import Money, Payment, PaymentKind, PaymentStatus, Refund
from ..errors import ValidationFailed


def paid_in_full(
    order_id: str,
    amount: Money,
    *,
    gateway: str | None,
    processed_at: datetime | None = None,
    reference: str | None = None,
) -> Payment:
    """The one payment of an order whose whole ``amount`` came in: id ``<order id>:paid``.
    ``processed_at`` None: the engine uses the order's own time."""
    return Payment(
        external_id=f"{order_id}:paid",
        kind=PaymentKind.SALE,
        status=PaymentStatus.SUCCESS,
        amount=amount,
        gateway=gateway,
        processed_at=processed_at,
        reference=reference,
    )


def paid_back(
    external_id: str,
    amount: Money,
    *,
    gateway: str | None,
    processed_at: datetime | None,
    parent_id: str | None = None,
) -> Payment:
    """A refund's money going back to the buyer (``PaymentKind.REFUND``), under an id the
    connector derives from the refund's own."""
    return Payment(
        external_id=external_id,
        kind=PaymentKind.REFUND,
        status=PaymentStatus.SUCCESS,
        amount=amount,
        gateway=gateway,
        processed_at=processed_at,
        parent_id=parent_id,
    )


def money_returned(
    refunds: Iterable[Refund],
    gateway: str | None,
    paths: Sequence[str] = (),
    *,
    platform: str | None = None,
) -> tuple[Refund, ...]:
    """``refunds`` of an order whose payment was synthesized, each without a transaction
    given one refund payment of its credit, id ``<refund id>:returned`` (stable across
    reads), and ``extra["money_back"] = "synthesized"`` saying so.

    A refund stating no amount at all has no currency to pay back in: it is refused naming
    its field path (``paths``, one per refund in order; ``refund <id>`` where none is given)
    -- it was an order "not in the shop currency" naming no field."""
    return tuple(
        refund
        if refund.transactions
        else _returned(refund, gateway, _path(refund, i, paths), platform)
        for i, refund in enumerate(refunds)
    )


def _path(refund: Refund, index: int, paths: Sequence[str]) -> str:
    return paths[index] if index < len(paths) else f"refund {refund.source.external_id}"


def _returned(refund: Refund, gateway: str | None, where: str, platform: str | None) -> Refund:
    stated = (refund.shipping, refund.adjustment, refund.stated_amount)
    if not (refund.lines or refund.shipping_taxes) and all(m is None for m in stated):
        raise ValidationFailed(
            f"{where} states no amount (no line, shipping, adjustment or total): "
            "the money paid back for it has no currency",
            platform=platform,
            details={"field": where},
        )
    back = paid_back(
        f"{refund.source.external_id}:returned",
        refund.credit_total,
        gateway=gateway,
        processed_at=refund.created_at,
    )
    return refund.model_copy(
        update={"transactions": (back,), "extra": {**refund.extra, "money_back": "synthesized"}}
    )


__all__ = ["money_returned", "paid_back", "paid_in_full"]
