"""The mapping at run time: canonical objects in, target-neutral drafts out.

Pure -- no I/O, no store.  The planner composes posting policies and the order
lifecycle out of these builders; ``preview`` shows their output.  Every lookup
that decides a value is appended to the caller's ``trace`` as a ``LookupHit``
so a person can see *why* a line got the tax it got.  A value without a
mapping raises ``NeedsMapping`` naming the exact missing key; a default is used
only where the mapping file says ``default:``.

``MappingRuntime`` is a façade: each job lives in its own builder (contacts, taxes,
lines, charges, payments, documents, refunds, summaries), all sharing one
``MappingContext`` (the mapping, its path, its time zone and the expression names).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..canonical import Order, Payment, Refund
from ..plan import (
    ContactDraft,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    ItemDraft,
    Link,
    PaymentDraft,
)
from .charges import ChargeBuilder
from .contacts import ContactBuilder
from .context import LookupHit, MappingContext, NamedReference
from .currency import booked_order
from .documents import DocumentBuilder
from .lines import LineBuilder, LineDecisions
from .payments import PaymentBuilder
from .refunds import RefundBuilder
from .schema import MappingFile
from .summaries import SummaryBuilder
from .taxes import TaxLookup, tax_key

__all__ = [
    "LineDecisions",
    "LookupHit",
    "MappingRuntime",
    "NamedReference",
    "tax_key",
]


class MappingRuntime:
    """A validated mapping, ready to turn canonical orders into drafts."""

    def __init__(self, mapping: MappingFile, path: str, references: list[NamedReference]):
        self.mapping = mapping
        self.posting_policy: str = mapping.posting_policy
        self.options: dict[str, Any] = dict(mapping.options)
        self.path = path
        self.references = references
        ctx = MappingContext(mapping, path)
        self.zone = ctx.zone
        self._ctx = ctx
        self._contacts = ContactBuilder(ctx)
        taxes = TaxLookup(ctx)
        self._lines = LineBuilder(ctx, taxes)
        charges = ChargeBuilder(ctx, taxes)
        self._payments = PaymentBuilder(ctx, self._contacts)
        parts = (ctx, self._contacts, taxes, self._lines, charges, self._payments)
        self._documents = DocumentBuilder(*parts)
        self._refunds = RefundBuilder(*parts)
        self._summaries = SummaryBuilder(ctx, self._lines, charges)

    def skip_reason(self, order: Order) -> str | None:
        """The first filter that skips ``order`` (``rule 'skip test orders' (order.test)``)."""
        if not self.mapping.filters:
            return None
        names = self._ctx.names(order, [])
        for name, expr in self.mapping.filters.items():
            if expr is not None and expr.evaluate(names):
                return f"rule {name!r} ({expr.source})"
        return None

    def booked(self, order: Order) -> Order:
        """The order as this pipeline books it: shop money, or the presentment twin
        (``lookups.currencies.book_in``; ``currency.booked_order``)."""
        return booked_order(order, self.mapping.lookups.currencies.book_in)

    # contacts
    def contact_link(self, order: Order) -> Link:
        """See ``ContactBuilder.link``."""
        return self._contacts.link(order)

    def contact_match_keys(self, order: Order) -> list[tuple[str, str]]:
        """See ``ContactBuilder.match_keys``."""
        return self._contacts.match_keys(order)

    def contact(self, order: Order, trace: list[LookupHit]) -> ContactDraft:
        return self._contacts.contact(order, trace)

    # lines, items and documents
    def line_decisions(self, order: Order) -> LineDecisions:
        """Where ``items`` records its line decisions for ``order``, for ``document`` to reuse."""
        return self._lines.line_decisions(order)

    def items(
        self, order: Order, trace: list[LookupHit], lines: LineDecisions | None = None
    ) -> list[ItemDraft]:
        """See ``LineBuilder.items``."""
        return self._lines.items(order, trace, lines)

    def document(
        self,
        order: Order,
        kind: DocumentKind,
        trace: list[LookupHit],
        lines: LineDecisions | None = None,
        *,
        settled_in_plan: bool = False,
    ) -> DocumentDraft:
        """See ``DocumentBuilder.document``."""
        return self._documents.document(order, kind, trace, lines, settled_in_plan=settled_in_plan)

    # payments and refunds
    def payment(
        self, order: Order, payment: Payment, applied_to: Link | None, trace: list[LookupHit]
    ) -> PaymentDraft:
        """See ``PaymentBuilder.payment``."""
        return self._payments.payment(order, payment, applied_to, trace)

    def credit_note(
        self, order: Order, refund: Refund, against: Link | None, trace: list[LookupHit]
    ) -> DocumentDraft:
        """See ``RefundBuilder.credit_note``."""
        return self._refunds.credit_note(order, refund, against, trace)

    def credit_refund(
        self, order: Order, refund: Refund, credit_note: Link, trace: list[LookupHit]
    ) -> CreditRefundDraft | None:
        """See ``RefundBuilder.credit_refund``."""
        return self._refunds.credit_refund(order, refund, credit_note, trace)

    # daily summary
    def summary_lines(self, orders: Sequence[Order], trace: list[LookupHit]) -> list[DocumentLine]:
        """See ``SummaryBuilder.summary_lines``."""
        return self._summaries.summary_lines(orders, trace)
