"""Canonical order, its payments and refunds.

All amounts of one order are in the shop currency (``Order.currency``), the one
the books are kept in; ``presentment_*`` fields keep what the buyer saw.  The
model checks that every Money it holds is in that currency and -- unless told
not to -- that the parts add up to the stated total (see ``reconcile.py``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationInfo, model_validator

from ..errors import TotalsMismatch
from .common import Address, CanonicalModel, Extra, SourceRef, TaxLine
from .customer import Customer
from .fulfilment import Fulfilment
from .money import ExactDecimal, Money, total
from .reconcile import DEFAULT_ROUNDING_TOLERANCE, Discrepancy, Reconciliation, reconcile_order


class OrderStatus(StrEnum):
    """Lifecycle of the order itself (independent of payment)."""

    DRAFT = "draft"  # checkout draft, not placed
    PENDING = "pending"  # placed, awaiting payment
    ON_HOLD = "on_hold"
    OPEN = "open"  # placed and being processed
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"  # payment failed
    DELETED = "deleted"  # trashed or deleted at the source
    UNKNOWN = "unknown"  # a status the connector does not know: do not post, flag


class FinancialStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    UNKNOWN = "unknown"


class PaymentKind(StrEnum):
    SALE = "sale"
    CAPTURE = "capture"
    AUTHORIZATION = "authorization"
    VOID = "void"
    REFUND = "refund"
    CHANGE = "change"


class PaymentStatus(StrEnum):
    SUCCESS = "success"
    PENDING = "pending"
    FAILURE = "failure"
    ERROR = "error"
    UNKNOWN = "unknown"


class Payment(CanonicalModel):
    """One money movement (a transaction) as the source reports it."""

    external_id: str
    kind: PaymentKind
    status: PaymentStatus
    amount: Money
    gateway: str | None = None
    processed_at: datetime | None = None
    parent_id: str | None = None
    reference: str | None = None
    test: bool = False

    @property
    def is_money_in(self) -> bool:
        """Money actually received: a successful sale or capture (authorisations are not money)."""
        return self.status is PaymentStatus.SUCCESS and self.kind in (
            PaymentKind.SALE,
            PaymentKind.CAPTURE,
        )

    @property
    def is_money_out(self) -> bool:
        return self.status is PaymentStatus.SUCCESS and self.kind is PaymentKind.REFUND


class OrderLine(CanonicalModel):
    """A product line. ``unit_price`` is before discounts (tax-inclusive when the order is)."""

    line_id: str
    title: str
    quantity: ExactDecimal
    unit_price: Money
    discount: Money | None = None
    taxes: tuple[TaxLine, ...] = ()
    sku: str | None = None
    product_id: str | None = None
    variant_id: str | None = None
    taxable: bool = True
    is_gift_card: bool = False
    product_exists: bool = True
    extra: Extra = Field(default_factory=dict)

    @property
    def gross(self) -> Money:
        return self.unit_price * self.quantity

    @property
    def net(self) -> Money:
        """Line amount after its discount (still tax-inclusive if the order is)."""
        return self.gross - self.discount if self.discount else self.gross


class ShippingLine(CanonicalModel):
    title: str
    price: Money
    discount: Money | None = None
    taxes: tuple[TaxLine, ...] = ()
    code: str | None = None

    @property
    def net(self) -> Money:
        return self.price - self.discount if self.discount else self.price


class FeeLine(CanonicalModel):
    """A charge that is neither a product nor shipping: fees, tips, duties, surcharges.

    Negative amounts are allowed (WooCommerce uses negative fees as manual discounts).
    """

    name: str
    amount: Money
    kind: str = "fee"
    taxes: tuple[TaxLine, ...] = ()


class OrderDiscount(CanonicalModel):
    """A discount applied to the order.

    ``allocated`` discounts are already spread over lines/shipping (their amounts
    sit in ``OrderLine.discount`` / ``ShippingLine.discount``) and are listed
    here for reference only; unallocated ones reduce the order total directly.
    """

    amount: Money
    code: str | None = None
    title: str | None = None
    kind: str = "code"  # code | automatic | manual | script
    allocated: bool = True


class OrderTotals(CanonicalModel):
    """Totals as the source states them. ``total`` is what the reconciliation checks against."""

    total: Money
    subtotal: Money | None = None
    discounts: Money | None = None
    shipping: Money | None = None
    tax: Money | None = None
    fees: Money | None = None


class RefundLine(CanonicalModel):
    line_id: str | None
    quantity: ExactDecimal
    subtotal: Money
    taxes: tuple[TaxLine, ...] = ()
    sku: str | None = None
    title: str | None = None
    restock: bool = False
    cancelled: bool = False
    """Units that never shipped, cancelled (Shopify restockType CANCEL): under the fulfilled
    trigger they were never invoiced, so nothing is credited for them."""


class Refund(CanonicalModel):
    """A refund record. Its *credit* (what the books owe back) comes from lines,
    shipping and adjustments; the *money returned* comes from its transactions
    only -- a refund can exist with no money moving (store credit, restock only).
    """

    source: SourceRef
    created_at: datetime | None = None
    processed_at: datetime | None = None
    reason: str | None = None
    note: str | None = None
    lines: tuple[RefundLine, ...] = ()
    shipping: Money | None = None
    shipping_taxes: tuple[TaxLine, ...] = ()
    adjustment: Money | None = None
    stated_amount: Money | None = None
    transactions: tuple[Payment, ...] = ()
    taxes_included: bool = False
    extra: Extra = Field(default_factory=dict)

    def _currency(self) -> str:
        for money in self._monies():
            return money.currency
        return "XXX"

    def _monies(self) -> list[Money]:
        found: list[Money] = []
        for line in self.lines:
            found.append(line.subtotal)
            found += [t.amount for t in line.taxes]
        for m in (self.shipping, self.adjustment, self.stated_amount):
            if m is not None:
                found.append(m)
        found += [t.amount for t in self.shipping_taxes]
        found += [t.amount for t in self.transactions]
        return found

    @property
    def tax(self) -> Money:
        c = self._currency()
        return total(
            [t.amount for line in self.lines for t in line.taxes]
            + [t.amount for t in self.shipping_taxes],
            c,
        )

    @property
    def credit_total(self) -> Money:
        """Lines + shipping + adjustment (+ taxes unless prices include them)."""
        c = self._currency()
        amount = total([line.subtotal for line in self.lines], c)
        if self.shipping is not None:
            amount = amount + self.shipping
        if self.adjustment is not None:
            amount = amount + self.adjustment
        if not self.taxes_included:
            amount = amount + self.tax
        return amount

    @property
    def money_returned(self) -> Money:
        return total([t.amount for t in self.transactions if t.is_money_out], self._currency())

    def discrepancies(self) -> list[Discrepancy]:
        """Where this refund's own numbers disagree; reported, never silently corrected."""
        found: list[Discrepancy] = []
        credit = self.credit_total
        if self.stated_amount is not None and self.stated_amount != credit:
            found.append(
                Discrepancy(
                    what="refund_stated_amount_vs_parts",
                    subject=self.source.external_id,
                    expected=credit,
                    actual=self.stated_amount,
                )
            )
        returned = self.money_returned
        if any(t.is_money_out for t in self.transactions) and returned != credit:
            found.append(
                Discrepancy(
                    what="refund_transactions_vs_parts",
                    subject=self.source.external_id,
                    expected=credit,
                    actual=returned,
                )
            )
        return found


class Order(CanonicalModel):
    """A storefront order in canonical terms.

    Built with ``Order.model_validate(data, context={"rounding_tolerance": Decimal("0.02")})``
    to choose the tolerance (default 0.01), or ``context={"reconcile": False}``
    to hold an order that does not add up (for diagnostics only -- never post it).
    A difference within the tolerance is kept as ``rounding_adjustment``; a
    larger one raises ``TotalsMismatch`` naming the order and the amount.
    """

    source: SourceRef
    number: str
    currency: str
    presentment_currency: str | None = None
    presentment_total: Money | None = None
    presentment: Order | None = None
    """The same order stated in the customer's (presentment) currency, every amount as the
    source states it there (Shopify's ``presentmentMoney``), checked like any order; None
    when the source states one currency only. A pipeline with
    ``lookups.currencies.book_in: presentment`` books this one (docs/multi-currency.md)."""
    taxes_included: bool = False
    status: OrderStatus = OrderStatus.OPEN
    # The platform's own word for the status (WooCommerce ``awaiting-shipment``, an API2Cart
    # status id): the key of the connection's ``status_map`` that maps it, so an order whose
    # status the connector cannot map is parked with advice naming that key.
    source_status: str | None = None
    financial_status: FinancialStatus = FinancialStatus.UNKNOWN
    created_at: datetime
    processed_at: datetime | None = None
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    email: str | None = None
    customer: Customer | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    lines: tuple[OrderLine, ...] = ()
    discounts: tuple[OrderDiscount, ...] = ()
    tax_lines: tuple[TaxLine, ...] = Field(
        default=(),
        description="Order-level taxes NOT attached to a line, shipping line or fee.",
    )
    shipping_lines: tuple[ShippingLine, ...] = ()
    fees: tuple[FeeLine, ...] = ()
    totals: OrderTotals
    rounding_adjustment: Money | None = None
    payments: tuple[Payment, ...] = ()
    refunds: tuple[Refund, ...] = ()
    fulfilments: tuple[Fulfilment, ...] = ()
    """Shipments as the source reports them, oldest first (canonical/fulfilment.py)."""
    superseded_payment_ids: tuple[str, ...] = ()
    """Ids under which this source reported the order's money before it could read its
    transactions (API2Cart: the payment synthesized as ``<order id>:paid`` from the
    financial status, before the connection's ``read_transactions`` was on).  When one of
    them was posted, ``payments`` are that same money: the engine does not post it twice
    (``engine/superseded.py``)."""
    payment_gateways: tuple[str, ...] = ()
    test: bool = False
    tags: tuple[str, ...] = ()
    note: str | None = None
    source_name: str | None = None
    extra: Extra = Field(default_factory=dict)

    # ------------------------------------------------------------------ validation

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Order:
        self._check_currency()
        context: dict[str, Any] = info.context or {}
        if context.get("reconcile", True) is False:
            return self
        tolerance = Decimal(str(context.get("rounding_tolerance", DEFAULT_ROUNDING_TOLERANCE)))
        result = self.reconciliation(tolerance)
        if not result.ok:
            raise TotalsMismatch(
                f"order {self.number} ({self.source.key}): the parts add up to {result.computed} "
                f"but the stated total is {result.stated} {self.currency}; "
                f"difference {result.difference} exceeds the rounding tolerance {tolerance}",
                platform=self.source.platform,
                computed=result.computed,
                stated=result.stated,
                difference=result.difference,
                tolerance=tolerance,
                currency=self.currency,
                details=result.breakdown(),
            )
        if self.rounding_adjustment is None and result.difference != 0:
            # Frozen model: set once, during validation, never afterwards.
            object.__setattr__(
                self, "rounding_adjustment", Money(amount=result.difference, currency=self.currency)
            )
        return self

    def _check_currency(self) -> None:
        wrong = [m for m in self._monies() if m.currency != self.currency]
        if wrong:
            raise ValueError(
                f"order {self.number}: amounts must all be in the shop currency {self.currency}; "
                f"found {', '.join(sorted({m.currency for m in wrong}))} "
                "(keep presentment amounts in presentment_total)"
            )

    def _monies(self) -> list[Money]:
        found: list[Money] = [self.totals.total]
        for m in (
            self.totals.subtotal,
            self.totals.discounts,
            self.totals.shipping,
            self.totals.tax,
            self.totals.fees,
            self.rounding_adjustment,
        ):
            if m is not None:
                found.append(m)
        for line in self.lines:
            found.append(line.unit_price)
            if line.discount is not None:
                found.append(line.discount)
            found += [t.amount for t in line.taxes]
        for ship in self.shipping_lines:
            found.append(ship.price)
            if ship.discount is not None:
                found.append(ship.discount)
            found += [t.amount for t in ship.taxes]
        for fee in self.fees:
            found.append(fee.amount)
            found += [t.amount for t in fee.taxes]
        found += [d.amount for d in self.discounts]
        found += [t.amount for t in self.tax_lines]
        found += [p.amount for p in self.payments]
        for refund in self.refunds:
            found += refund._monies()
        return found

    # ------------------------------------------------------------------ derived views

    def reconciliation(self, tolerance: Decimal = DEFAULT_ROUNDING_TOLERANCE) -> Reconciliation:
        """Compare the parts with the stated total (never raises)."""
        return reconcile_order(self, tolerance)

    def all_tax_lines(self) -> list[TaxLine]:
        """Every tax on the order: lines, shipping, fees and order level."""
        return (
            [t for line in self.lines for t in line.taxes]
            + [t for s in self.shipping_lines for t in s.taxes]
            + [t for f in self.fees for t in f.taxes]
            + list(self.tax_lines)
        )

    @property
    def amount_received(self) -> Money:
        return total([p.amount for p in self.payments if p.is_money_in], self.currency)

    @property
    def amount_refunded(self) -> Money:
        seen: dict[str, Money] = {}
        for p in self.payments:
            if p.is_money_out:
                seen[p.external_id] = p.amount
        for refund in self.refunds:
            for p in refund.transactions:
                if p.is_money_out:
                    seen[p.external_id] = p.amount
        return total(seen.values(), self.currency)

    @property
    def is_cancelled(self) -> bool:
        return self.status is OrderStatus.CANCELLED or self.cancelled_at is not None

    def discrepancies(self) -> list[Discrepancy]:
        """Every inconsistency the order carries: totals beyond tolerance and each refund's own."""
        found: list[Discrepancy] = []
        rec = self.reconciliation()
        if not rec.ok:
            found.append(
                Discrepancy(
                    what="order_total_vs_parts",
                    subject=self.source.external_id,
                    expected=Money(amount=rec.computed, currency=self.currency),
                    actual=self.totals.total,
                )
            )
        for refund in self.refunds:
            found += refund.discrepancies()
        return found


Order.model_rebuild()

__all__ = [
    "FeeLine",
    "FinancialStatus",
    "Order",
    "OrderDiscount",
    "OrderLine",
    "OrderStatus",
    "OrderTotals",
    "Payment",
    "PaymentKind",
    "PaymentStatus",
    "Refund",
    "RefundLine",
    "ShippingLine",
]
