"""Posting triggers: when an order is ready to be booked.

A pipeline posts an order when it reaches the pipeline's ``posting_trigger``:

``placed``     at once (the engine's behaviour before triggers existed);
``paid``       once money is captured -- any capture, or the whole total with
               ``paid_when: full`` (an authorisation is a promise, not money);
``fulfilled``  once something has shipped; each shipment then gets its own invoice
               (``engine/fulfilments.py``).

An order short of its trigger is not skipped: it *waits* (record state ``waiting``,
the reason saying what for) and is planned again when the source reports a change
(a capture, a shipment), which is how it is picked up.  One that is withdrawn --
cancelled, deleted, or every authorisation voided with nothing captured -- before
its trigger posts nothing at all.

Pure: canonical order in, a reason (or None) out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from ..canonical import Order, PaymentKind, PaymentStatus

Trigger = Literal["placed", "paid", "fulfilled"]
PaidWhen = Literal["any", "full"]


def authorisation_voided(order: Order) -> bool:
    """Every successful authorisation was voided and nothing was captured or sold: the
    customer owes nothing, so there is nothing to book (Shopify ``VOID`` of an
    ``AUTHORIZATION``, the order's financial status ``voided``)."""
    ok = [p for p in order.payments if p.status is PaymentStatus.SUCCESS]
    auths = {p.external_id for p in ok if p.kind is PaymentKind.AUTHORIZATION}
    if not auths or any(p.is_money_in for p in ok):
        return False
    voided = {p.parent_id for p in ok if p.kind is PaymentKind.VOID}
    return auths <= voided


def shipped(order: Order) -> bool:
    return any(f.shipped for f in order.fulfilments)


def waiting_for(order: Order, trigger: Trigger, paid_when: PaidWhen = "any") -> str | None:
    """What ``order`` still waits for under ``trigger``; None when it may be posted."""
    if trigger == "paid":
        received = order.amount_received.amount
        total = order.totals.total.amount
        if paid_when == "full" and received < total:
            return (
                f"payment: waiting for the whole total {total} {order.currency} to be "
                f"captured ({received} captured so far)"
            )
        if received <= 0 and total > 0:
            held = _authorised(order)
            what = f" ({held} {order.currency} authorised, not captured)" if held else ""
            return f"payment: waiting for a capture{what}"
        return None
    if trigger == "fulfilled" and not shipped(order):
        return "fulfilment: nothing has shipped yet"
    return None


def _authorised(order: Order) -> Decimal:
    return sum(
        (
            p.amount.amount
            for p in order.payments
            if p.kind is PaymentKind.AUTHORIZATION and p.status is PaymentStatus.SUCCESS
        ),
        Decimal(0),
    )


def before_posting(
    order: Order, trigger: Trigger, paid_when: PaidWhen, withdrawn: bool
) -> tuple[str | None, str | None]:
    """For an order nothing is posted for yet: ``(skipped, waiting)`` reasons, or both None.

    Withdrawn (or its authorisation voided) before its trigger: skipped, nothing posted.
    Short of its trigger: waiting, with what for."""
    wait = waiting_for(order, trigger, paid_when)
    if authorisation_voided(order):
        return (
            f"order {order.number}: its authorisation was voided and nothing was captured; "
            "nothing to post",
            None,
        )
    if wait is not None and withdrawn:
        return (
            f"order {order.number} was {order.status.value} before its posting trigger "
            f"({trigger}); nothing to post",
            None,
        )
    if wait is not None:
        return None, f"order {order.number} waits for {wait} (posting trigger: {trigger})"
    return None, None


__all__ = [
    "PaidWhen",
    "Trigger",
    "authorisation_voided",
    "before_posting",
    "shipped",
    "waiting_for",
]
