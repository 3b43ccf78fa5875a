"""Money a source reported under another payment id before: never posted twice.

A connector may report an order's money one way, then -- once a connection setting is
switched on -- another: API2Cart synthesizes one payment of the total (``<order id>:paid``)
from the financial status, and with ``read_transactions`` reads the cart's transactions
instead (``<order id>:<transaction id>``).  An order posted before the switch has the
synthesized payment in the books; its transactions are that same money, and posting them
would pay the invoice twice (Zoho refuses a payment over the balance, so the order would
park with an error that does not say why).  The order names the ids it reported before
(``Order.superseded_payment_ids``); when one of them was posted:

- the money-in payments it reports now that add up to no more than what was posted are
  taken as posted (nothing written);
- more than was posted cannot be split safely (which transaction is the new money?): the
  order is parked ``failed`` before any write, the reason naming the setting and the
  amounts, for an operator.

Pure: called by ``planner.plan_order``.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ..canonical import Order
from ..errors import ValidationFailed

if TYPE_CHECKING:
    from .planner import PriorState


def covered_by_earlier_payments(order: Order, prior: PriorState) -> PriorState:
    """``prior`` with the order's money-in payments marked posted when an earlier id for
    the same money was posted; raises ``ValidationFailed`` when they add up to more."""
    if not prior.superseded:
        return prior
    posted = sum(prior.superseded.values(), Decimal(0))
    money_in = [p for p in order.payments if p.is_money_in]
    now = sum((p.amount.amount for p in money_in), Decimal(0))
    if now > posted:
        earlier = ", ".join(sorted(prior.superseded))
        raise ValidationFailed(
            f"order {order.number} was paid in the books under {earlier} ({posted} "
            f"{order.currency}) before the connection read its transactions "
            "(read_transactions was switched on after it was posted); its transactions now "
            f"add up to {now} {order.currency}, more than was posted, and which of them is "
            "new money cannot be told. Record the difference in the target by hand, or switch "
            "read_transactions off for this connection and replay (the order then reads as "
            "the payment already posted)",
            platform=order.source.platform,
        )
    ids = frozenset(p.external_id for p in money_in)
    return replace(prior, payments=prior.payments | ids)


__all__ = ["covered_by_earlier_payments"]
