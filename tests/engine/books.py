"""Checks of the merchant's books as the Zoho Books emulator holds them, against the source.

Used by the exactly-once tests: whatever faults a run met, the books must be what a
clean run leaves -- read from Zoho's own state, never from our store.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import anyio

from ledgerbridge.canonical import EntityType, Order

from .harness import Harness

ZERO = Decimal(0)


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def source_orders(h: Harness) -> dict[str, Order]:
    """Every order the source serves, as canonical records (read through the connector)."""
    h.store().migrate()
    engine = h.engine()

    async def read() -> list[Order]:
        async with engine:
            source = engine.source("acme", "shop")
            return [
                c.record
                async for page in source.changes(EntityType.ORDER, None)
                for c in page.changes
                if isinstance(c.record, Order)
            ]

    return {o.source.external_id: o for o in anyio.run(read)}


def live(h: Harness, kind: str) -> dict[str, list[dict[str, Any]]]:
    """Documents of ``kind`` that are not void, by reference number (a sales receipt's is its
    ``receipt_number``: sales-receipt.yml declares no ``reference_number``)."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in getattr(h.org, kind).values():
        reference = doc["reference_number"] or doc.get("receipt_number", "")
        if doc.get("status") != "void" and not reference.startswith("SEED-"):
            found[reference].append(doc)
    return found


def expected_status(total: Decimal, settled: Decimal) -> str:
    """The status a clean run leaves an invoice in (Zoho's rule, emulator state.py)."""
    if settled >= total and settled > 0:
        return "paid"
    return "partially_paid" if settled > 0 else "sent"


def check_books(h: Harness, orders: dict[str, Order], *, documents: str = "invoices") -> int:
    """Every posted order equals its source to the cent; returns how many were checked.

    Per order: one live document whose total is the source total; its payments, once
    each, equal the money received; its balance and status are a clean run's; one
    credit note per refund with credit, each equal to the refund's credit, refunded by
    exactly the money returned -- so a fully refunded note is closed at zero.
    """
    docs, notes = live(h, documents), live(h, "creditnotes")
    payments_of: dict[str, list[Decimal]] = defaultdict(list)
    for payment in h.org.payments.values():
        for applied in payment.get("invoices") or []:
            payments_of[applied["invoice_id"]].append(dec(applied["amount_applied"]))
    checked = 0
    for order in orders.values():
        found = docs.get(order.number, [])
        assert len(found) <= 1, (order.number, "posted twice")
        if not found:
            continue
        [doc] = found
        checked += 1
        total = order.totals.total.amount
        assert dec(doc["total"]) == total, (order.number, doc["total"], str(total))
        if documents == "invoices":
            paid = payments_of.get(doc["invoice_id"], [])
            money_in = [p.amount.amount for p in order.payments if p.is_money_in]
            assert Counter(paid) == Counter(money_in), (order.number, paid, money_in)
            credited = sum((dec(c) for c in doc.get("_credits", {}).values()), ZERO)
            assert dec(doc["balance"]) == total - sum(paid, ZERO) - credited, order.number
            assert doc["status"] == expected_status(total, sum(paid, ZERO) + credited), (
                order.number,
                doc["status"],
            )
        wanted = Counter(
            (r.credit_total.amount, min(r.money_returned.amount, r.credit_total.amount))
            for r in order.refunds
            if r.credit_total.amount > 0
        )
        got = Counter(
            (dec(n["total"]), sum((dec(a) for a in n.get("_refunds", [])), ZERO))
            for n in notes.get(order.number, [])
        )
        assert got == wanted, (order.number, got, wanted)
        for note in notes.get(order.number, []):
            used = sum((dec(a) for a in note.get("_refunds", [])), ZERO) + sum(
                (dec(a) for a in note.get("_applied", {}).values()), ZERO
            )
            assert dec(note["balance"]) == dec(note["total"]) - used >= 0, order.number
            if used == dec(note["total"]):
                assert note["status"] == "closed" and dec(note["balance"]) == 0, order.number
    return checked
