"""The money under a daily summary: what each order paid in and got back, per gateway.

A summary invoice and a summary credit note say what was sold and credited; without
the money they stay open forever (receivables and customer credit that never fall).
So each order's contribution also carries its *money*: the captured payments per
gateway (on the order's day, the day of its sales) and the money refunded per refund
day and gateway, with the payment mode and deposit account the mapping names for each
gateway (``lookups.payment_methods``: a clearing account until payouts are reconciled).

When a day closes, the engine (``daily_money``) sums the money of the day's orders
per gateway and posts the difference against what it already posted: a customer
payment applied to the day's invoices, a refund of the day's credit notes.

Pure functions here, like ``summary``: the store and the target are the runner's.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..canonical import Order
from ..plan import Link

NO_GATEWAY = "(none)"


def money_contribution(order: Order, runtime: Any, trace: list[Any]) -> dict[str, Any]:
    """Captured money per gateway, refunded money per refund day and gateway.

    The mapping's payment and refund drafts are built (and dropped) only to read the
    gateway's payment mode and deposit account the way per-order posting reads them --
    an unmapped gateway parks the order (``needs_mapping``) exactly as it would there.
    """
    paid: dict[str, Decimal] = {}
    paid_on: dict[str, str] = {}
    methods: dict[str, list[str | None]] = {}
    for payment in order.payments:
        if not payment.is_money_in:
            continue
        gateway = payment.gateway or NO_GATEWAY
        draft = runtime.payment(order, payment, None, trace)
        methods[gateway] = [draft.payment_mode, draft.account_id]
        paid[gateway] = paid.get(gateway, Decimal(0)) + payment.amount.amount
        paid_on[gateway] = max(paid_on.get(gateway, ""), draft.date.isoformat())
    refunded: dict[str, dict[str, Decimal]] = {}
    refund_methods: dict[str, list[str | None]] = {}
    for refund in order.refunds:
        credit = refund.credit_total.amount
        returned = min(refund.money_returned.amount, credit)  # as the per-order planner caps it
        if credit <= 0 or returned <= 0:
            continue
        when = (refund.processed_at or refund.created_at or order.created_at).date().isoformat()
        # Each money-out transaction is paid back through its own gateway (a refund may be
        # split, e.g. part card, part PayPal): the money is attributed per transaction, in
        # order, up to the capped amount -- not all of it to the first gateway.
        outs = [t for t in refund.transactions if t.is_money_out]
        left = returned
        for out in outs:
            share = min(left, out.amount.amount)
            if share <= 0:
                break
            gateway = out.gateway or NO_GATEWAY
            # The mapping reads the first money-out transaction's gateway: show it this one.
            own = refund.model_copy(
                update={"transactions": (out, *(t for t in refund.transactions if t is not out))}
            )
            draft = runtime.credit_refund(order, own, Link(key="summary"), trace)
            if draft is None:
                break
            left -= share
            refund_methods[gateway] = [draft.payment_mode, draft.from_account_id]
            bucket = refunded.setdefault(when, {})
            bucket[gateway] = bucket.get(gateway, Decimal(0)) + share
    return {
        "paid": {g: str(v) for g, v in paid.items()},
        "paid_on": paid_on,
        "methods": methods,
        "refunded": {d: {g: str(v) for g, v in b.items()} for d, b in refunded.items()},
        "refund_methods": refund_methods,
    }


def per_gateway(amounts: Iterable[dict[str, str]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for bucket in amounts:
        for gateway, value in bucket.items():
            out[gateway] = out.get(gateway, Decimal(0)) + Decimal(value)
    return out


def allocate(
    amount: Decimal, open_balances: list[tuple[str, Decimal]]
) -> list[tuple[str, Decimal]]:
    """Spread ``amount`` over documents in order, never more than each one's open balance.

    What is left over (more money than the documents are still owed) is not allocated:
    the caller decides where it goes.
    """
    left, out = amount, []
    for target_id, balance in open_balances:
        if left <= 0:
            break
        take = min(left, balance)
        if take > 0:
            out.append((target_id, take))
            left -= take
    return out


def posted_per_gateway(
    bindings: Iterable[Any], prefix: str
) -> tuple[dict[str, Decimal], dict[str, int]]:
    """What earlier closes posted (bindings ``<prefix>|<gateway>|<n>``), and each gateway's
    last ``n``.

    Every money write of a day is its own binding, written with its intent's result in one
    transaction, so this is exactly what reached the target -- no separate baseline to
    drift from it after a crash.  The counter is per gateway: a write whose outcome is
    unknown keeps its number (and so its idempotency key) until it is resolved, whatever
    other gateways do meanwhile.
    """
    posted: dict[str, Decimal] = {}
    last: dict[str, int] = {}
    for b in bindings:
        parts = b.target_kind.split("|")
        if len(parts) != 3 or parts[0] != prefix:
            continue
        gateway, n = parts[1], int(parts[2])
        posted[gateway] = posted.get(gateway, Decimal(0)) + Decimal(b.snapshot.get("amount", "0"))
        last[gateway] = max(last.get(gateway, 0), n)
    return posted, last


__all__ = ["NO_GATEWAY", "allocate", "money_contribution", "per_gateway", "posted_per_gateway"]
