"""Do an order's parts add up to its stated total?

    lines − discounts + shipping + taxes (unless prices include them) + fees = total

Platforms round per line, per tax and per document in different places, so a
small difference is normal: within the tolerance it becomes an explicit
rounding adjustment on the document.  A larger one means the data is wrong (or
a connector misread it) and the record must be parked with the amount, never
posted with invented totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .money import Money, total

if TYPE_CHECKING:
    from .order import Order

DEFAULT_ROUNDING_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True)
class Reconciliation:
    """The arithmetic of one order, each part kept so a report can show it."""

    currency: str
    lines: Decimal
    line_discounts: Decimal
    order_discounts: Decimal
    shipping: Decimal
    taxes: Decimal
    taxes_included: bool
    fees: Decimal
    computed: Decimal
    stated: Decimal
    tolerance: Decimal

    @property
    def difference(self) -> Decimal:
        """Stated total minus computed parts (positive: the platform charged more)."""
        return self.stated - self.computed

    @property
    def ok(self) -> bool:
        return abs(self.difference) <= self.tolerance

    def breakdown(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "lines": str(self.lines),
            "line_discounts": str(self.line_discounts),
            "order_discounts": str(self.order_discounts),
            "shipping": str(self.shipping),
            "taxes": str(self.taxes),
            "taxes_included": self.taxes_included,
            "fees": str(self.fees),
            "computed": str(self.computed),
            "stated": str(self.stated),
            "difference": str(self.difference),
            "tolerance": str(self.tolerance),
        }


@dataclass(frozen=True)
class Discrepancy:
    """Two numbers of one record that should agree and do not."""

    what: str
    subject: str
    expected: Money
    actual: Money

    @property
    def difference(self) -> Decimal:
        return self.actual.amount - self.expected.amount

    def __str__(self) -> str:
        return (
            f"{self.what} on {self.subject}: expected {self.expected}, "
            f"found {self.actual} (difference {self.difference})"
        )


def reconcile_order(
    order: Order, tolerance: Decimal = DEFAULT_ROUNDING_TOLERANCE
) -> Reconciliation:
    c = order.currency
    lines = total([line.gross for line in order.lines], c).amount
    line_discounts = total([line.discount for line in order.lines if line.discount], c).amount
    order_discounts = total([d.amount for d in order.discounts if not d.allocated], c).amount
    shipping = total([s.net for s in order.shipping_lines], c).amount
    taxes = total([t.amount for t in order.all_tax_lines()], c).amount
    fees = total([f.amount for f in order.fees], c).amount
    computed = lines - line_discounts - order_discounts + shipping + fees
    if not order.taxes_included:
        computed += taxes
    return Reconciliation(
        currency=c,
        lines=lines,
        line_discounts=line_discounts,
        order_discounts=order_discounts,
        shipping=shipping,
        taxes=taxes,
        taxes_included=order.taxes_included,
        fees=fees,
        computed=computed,
        stated=order.totals.total.amount,
        tolerance=tolerance,
    )
