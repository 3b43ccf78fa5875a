"""Shopify-specific consistency checks beyond the canonical reconciliation.

``Order.discrepancies()`` checks the total against its parts and each refund's credit against
its transactions.  Shopify also *states* numbers the canonical model does not re-derive -- the
subtotal (lines after discounts) and when a refund's money moved -- and the vendor samples
disagree there (facts doc §10.8).  These checks report such disagreements, correcting nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgerbridge.canonical import Order, total


@dataclass(frozen=True)
class Inconsistency:
    """Two statements of one record that should agree and do not."""

    what: str
    subject: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.what} on {self.subject}: expected {self.expected}, found {self.actual}"


def inconsistencies(order: Order) -> list[Inconsistency]:
    """What Shopify states about ``order`` that its own parts contradict."""
    found: list[Inconsistency] = []
    subtotal = order.totals.subtotal
    if subtotal is not None:
        c = order.currency
        lines = total([line.gross for line in order.lines], c)
        discounts = total([line.discount for line in order.lines if line.discount], c)
        discounts = discounts + total([d.amount for d in order.discounts if not d.allocated], c)
        expected = lines - discounts
        if expected != subtotal:
            found.append(
                Inconsistency(
                    "order_subtotal_vs_lines_less_discounts",
                    order.source.external_id,
                    str(expected),
                    str(subtotal),
                )
            )
    for refund in order.refunds:
        when = refund.processed_at or refund.created_at
        for txn in refund.transactions:
            if when is not None and txn.processed_at is not None and txn.processed_at < when:
                found.append(
                    Inconsistency(
                        "refund_transaction_before_refund",
                        f"{refund.source.external_id}/{txn.external_id}",
                        f"processed at or after {when.isoformat()}",
                        txn.processed_at.isoformat(),
                    )
                )
    return found
