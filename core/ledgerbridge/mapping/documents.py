"""Documents: the invoice or sales receipt of one order, put together from its lines,
shipping, fees, discounts and (for a receipt) the payment method."""

from __future__ import annotations

from decimal import Decimal

from ..canonical import Order
from ..plan import DocumentDraft, DocumentKind
from ..plan_discounts import one_scope
from .context import LookupHit, nonzero, to_date
from .drafting import DraftBuilder
from .lines import LineDecisions


class DocumentBuilder(DraftBuilder):
    """``document:`` of the mapping: one order to one invoice or sales receipt draft."""

    def document(
        self,
        order: Order,
        kind: DocumentKind,
        trace: list[LookupHit],
        lines: LineDecisions | None = None,
        *,
        settled_in_plan: bool = False,
    ) -> DocumentDraft:
        """The invoice or sales receipt for ``order``.

        ``lines``: the decisions ``items`` took for this order's lines (see ``LineDecisions``);
        ``settled_in_plan``: the planner's hint, carried as given (``DocumentDraft``).
        """
        if kind is DocumentKind.CREDIT_NOTE:
            raise ValueError("use credit_note(order, refund, against, trace) for credit notes")
        if lines is not None:
            lines.check(order)
        self.ctx.check_currency(order)
        rules = self.ctx.mapping.document
        names = self.ctx.names(order, trace)
        order_lines = self.lines.document_lines(order, names, trace, lines)
        shipping_lines, shipping_charge, shipping_tax_id = self.charges.shipping(order, trace)
        fee_lines, fee_adjustment = self.charges.fees(order, trace, order.taxes_included)
        order_discount = sum(
            (d.amount.amount for d in order.discounts if not d.allocated), Decimal(0)
        )
        adjustment = fee_adjustment
        if order.rounding_adjustment is not None:
            adjustment += order.rounding_adjustment.amount
        document_discount: Decimal | None = None
        if rules.order_discounts == "document":
            document_discount = nonzero(order_discount)
        else:
            adjustment -= order_discount
        all_lines, document_discount = one_scope(
            order_lines + shipping_lines + fee_lines,
            document_discount,
            currency=order.currency,
            subject=f"order {order.number}",
        )
        payment_mode = deposit = None
        if kind is DocumentKind.SALES_RECEIPT:
            method = self.payments.method(
                order, self.payments.order_gateway(order), "receipt", trace
            )
            payment_mode, deposit = method.payment_mode, method.account_id
        day = to_date(rules.date.evaluate(names), "document.date", self.ctx.zone)
        header = self.ctx.draft_header(
            order, rules, names, source_key=order.source.key,
            contact=self.contacts.link(order), day=day,
        )  # fmt: skip
        return DocumentDraft(
            kind=kind,
            lines=tuple(all_lines),
            taxes_included=order.taxes_included,
            discount=document_discount,
            shipping_charge=shipping_charge,
            shipping_tax_id=shipping_tax_id,
            adjustment=nonzero(adjustment),
            adjustment_description=rules.rounding_description if nonzero(adjustment) else None,
            **header,
            payment_mode=payment_mode,
            deposit_account_id=deposit,
            extra=self.ctx.fields(rules.fields, names),
            settled_in_plan=settled_in_plan,
        )
