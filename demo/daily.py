"""The daily-summary reconciliation: what each closed day still owes, shop against books.

The ``west-daily`` pipeline books the west shop as one summary invoice and one summary
credit note per day, with the day's money under them (customer payments per gateway,
refunds of the credit note).  A closed day whose money has all moved must end with
zero open balance on its documents.  Both sides are read raw: the shop's own orders
(what is still unpaid, what was credited without money going back) and the emulated
Zoho organisation's documents (their ``balance``) -- nothing goes through the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .world import Running

ZERO = Decimal("0.00")
REFERENCE = re.compile(r"^(Sales|Refunds)(?: adjustment \d+)? (\d{4}-\d{2}-\d{2}) ([A-Z]{3})")
NOT_SALES = ("failed", "checkout-draft", "trash")


@dataclass
class Day:
    day: str
    currency: str
    invoiced: Decimal = ZERO  # the day's summary invoices (and adjusting ones)
    zoho_owed: Decimal = ZERO  # their open balance, less unapplied adjusting credit
    shop_owed: Decimal = ZERO  # the day's orders' unpaid totals
    zoho_credit: Decimal = ZERO  # credit left on the day's refund credit notes
    shop_credit: Decimal = ZERO  # refunds of the day that returned no money

    @property
    def difference(self) -> Decimal:
        return (self.zoho_owed - self.shop_owed) + (self.zoho_credit - self.shop_credit)

    @property
    def settled(self) -> bool:
        return self.zoho_owed == 0 and self.zoho_credit == 0


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def reconcile_days(world: Running) -> list[Day]:
    """One row per closed day and currency of the daily-summary organisation."""
    today = datetime.now(UTC).date().isoformat()
    days: dict[tuple[str, str], Day] = {}

    def row(day: str, currency: str) -> Day:
        return days.setdefault((day, currency), Day(day, currency))

    org = world.daily_org
    for kind, sign in (("invoices", 1), ("creditnotes", -1)):
        for doc in getattr(org, kind).values():
            found = REFERENCE.match(doc.get("reference_number") or "")
            if found is None or doc.get("status") == "void" or found.group(2) >= today:
                continue
            label, day, currency = found.groups()
            r = row(day, currency)
            balance = _dec(doc["balance"])
            if kind == "invoices":
                r.invoiced += _dec(doc["total"])
                r.zoho_owed += balance
            elif label == "Sales":  # a late decrease: credit against the day's invoice
                r.zoho_owed += sign * balance
            else:
                r.zoho_credit += balance
    store = world.saved.woo
    for oid, order in store.orders.items():
        if order["status"] in NOT_SALES:
            continue
        paid = order.get("date_paid_gmt")
        # the engine's day of an order: when it was paid (processed), else when placed
        day = (paid or order["date_created_gmt"])[:10]
        if not paid and order["status"] != "cancelled" and day < today:
            row(day, order["currency"]).shop_owed += _dec(order["total"])
        for refund in store.refunds.get(oid, []):
            refund_day = refund["date_created_gmt"][:10]
            if not refund.get("refunded_payment") and refund_day < today:
                row(refund_day, order["currency"]).shop_credit += _dec(refund["amount"])
    return sorted(days.values(), key=lambda d: (d.day, d.currency))


__all__ = ["Day", "reconcile_days"]
