"""The daily_summary posting policy: one document per day × currency.

Each order's *contribution* (net amount per target tax and income account,
and per refund the same for credit) is computed through the mapping when the
order is read and stored with the order's binding.  When a day closes, the
contributions of that day are summed into one summary invoice (a line per tax
/ account) and the day's refunds into one summary credit note.  A change to a
day already posted never rewrites it: the difference becomes an *adjusting*
document (a supplementary invoice for increases, a credit note for decreases).

Pure functions here; the runner does the storing and posting.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..canonical import Order
from ..canonical.money import minor_units
from ..plan import BusinessKey, DocumentDraft, DocumentKind, DocumentLine, Link
from .summary_money import money_contribution

Bucket = dict[str, Decimal]  # "tax_id|account_id" -> amount


def day_of(order: Order) -> date:
    return (order.processed_at or order.created_at).date()


def _key(line: DocumentLine) -> str:
    return f"{line.tax_id or ''}|{line.account_id or ''}"


def _sum_lines(lines: Iterable[DocumentLine]) -> Bucket:
    out: Bucket = {}
    for line in lines:
        amount = line.rate * line.quantity - (line.discount or 0)
        out[_key(line)] = out.get(_key(line), Decimal(0)) + amount
    return out


def contribution(order: Order, runtime: Any, trace: list[Any]) -> dict[str, Any]:
    """What one order adds to its day: sales per tax/account, and refunds per their own day."""
    sales = _sum_lines(runtime.summary_lines([order], trace))
    refunds: dict[str, Bucket] = {}
    credited: dict[str, Decimal] = {}  # per refund day: two refunds of one day add up
    for refund in order.refunds:
        when = (refund.processed_at or refund.created_at or order.created_at).date().isoformat()
        credited[when] = credited.get(when, Decimal(0)) + refund.credit_total.amount
        draft = runtime.credit_note(order, refund, None, trace)
        bucket = refunds.setdefault(when, {})
        parts = _sum_lines(draft.lines)
        if draft.shipping_charge:  # refunded shipping sent as a charge, with its tax
            key = f"{draft.shipping_tax_id or ''}|"
            parts[key] = parts.get(key, Decimal(0)) + draft.shipping_charge
        if draft.adjustment:  # an amount refunded outside lines and shipping
            parts["|"] = parts.get("|", Decimal(0)) + draft.adjustment
        for key, amount in parts.items():
            bucket[key] = bucket.get(key, Decimal(0)) + amount
    return {
        "day": day_of(order).isoformat(),
        "currency": order.currency,
        "taxes_included": order.taxes_included,
        "total": str(order.totals.total.amount),
        "sales": {k: str(v) for k, v in sales.items()},
        "refunds": {d: {k: str(v) for k, v in b.items()} for d, b in refunds.items()},
        "refund_totals": {d: str(v) for d, v in credited.items()},
        "money": money_contribution(order, runtime, trace),
    }


def empty_contribution(order: Order) -> dict[str, Any]:
    """A cancelled, unpaid order adds nothing to its day (but replaces what it added before)."""
    return {
        "day": day_of(order).isoformat(),
        "currency": order.currency,
        "taxes_included": order.taxes_included,
        "total": "0",
        "sales": {},
        "refunds": {},
        "refund_totals": {},
        "money": {},
    }


def add(buckets: Iterable[dict[str, str]]) -> Bucket:
    out: Bucket = {}
    for bucket in buckets:
        for key, value in bucket.items():
            out[key] = out.get(key, Decimal(0)) + Decimal(value)
    return out


def delta(now: Bucket, posted: Bucket) -> Bucket:
    keys = set(now) | set(posted)
    diff = {k: now.get(k, Decimal(0)) - posted.get(k, Decimal(0)) for k in keys}
    return {k: v for k, v in diff.items() if v != 0}


def summary_draft(
    *,
    kind: DocumentKind,
    day: str,
    currency: str,
    amounts: Bucket,
    contact: Link,
    tax_rates: dict[str, Decimal],
    stated_total: Decimal | None,
    taxes_included: bool,
    label: str,
    key_suffix: str,
    rates: dict[str, Any] | None = None,
) -> DocumentDraft:
    """A summary (or adjusting) document whose total equals ``stated_total`` to the cent.

    The target computes tax per line from the tax's rate; the ``adjustment``
    carries the rounding difference against the sum of the orders' own totals.
    """
    lines = []
    expected = Decimal(0)
    # The tax the books compute per line, estimated in the currency's own smallest unit:
    # in cents for JPY it would leave a fractional yen of "rounding" on a whole-yen total.
    unit = Decimal(1).scaleb(-minor_units(currency))
    for key in sorted(amounts):
        tax_id, account_id = [*key.split("|"), ""][:2]
        amount = abs(amounts[key])
        rate = tax_rates.get(tax_id, Decimal(0))
        lines.append(
            DocumentLine(
                description=f"{label} {day} — {tax_id or 'untaxed'}",
                quantity=Decimal(1),
                rate=amount,
                tax_id=tax_id or None,
                account_id=account_id or None,
            )
        )
        tax = Decimal(0) if taxes_included else (amount * rate).quantize(unit, ROUND_HALF_UP)
        expected += amount + tax
    adjustment = None
    if stated_total is not None and stated_total != expected:
        adjustment = stated_total - expected
    mode = "incl" if taxes_included else "excl"
    return DocumentDraft(
        kind=kind,
        key=BusinessKey(
            reference=f"{label} {day} {currency}{' (tax incl.)' if taxes_included else ''}",
            source_key=f"summary:{day}:{currency}:{mode}:{key_suffix}",
        ),
        contact=contact,
        date=date.fromisoformat(day),
        currency=currency,
        lines=tuple(lines),
        taxes_included=taxes_included,
        adjustment=adjustment,
        adjustment_description="Rounding (sum of orders)" if adjustment else None,
        **(rates or {}),  # the mapping's rate for a currency other than the books' own
    )
