"""Refunds: the credit note of one source refund (its lines, shipping and adjustment) and
the money paid back against it."""

from __future__ import annotations

from decimal import Decimal

from ..canonical import Order, Refund
from ..contracts.advice import add_to_mapping
from ..errors import NeedsMapping
from ..plan import CreditRefundDraft, DocumentDraft, DocumentKind, DocumentLine, Link
from .context import LookupHit, link, nonzero, to_date
from .drafting import DraftBuilder


class RefundBuilder(DraftBuilder):
    """``refunds:`` of the mapping: credit notes and the refunds paid out of them."""

    def credit_note(
        self, order: Order, refund: Refund, against: Link | None, trace: list[LookupHit]
    ) -> DocumentDraft:
        """The credit note for one source refund: its lines, shipping and adjustment.

        ``against`` is the invoice it credits (None for a sales receipt: a standalone credit).
        """
        self.ctx.check_currency(order)
        rules = self.ctx.mapping.refunds
        names = self.ctx.names(order, trace, refund=refund)
        by_id = {line.line_id: line for line in order.lines}
        lines: list[DocumentLine] = []
        for index, rl in enumerate(refund.lines):
            if rl.quantity == 0 and rl.subtotal.is_zero():
                continue
            original = by_id.get(rl.line_id) if rl.line_id else None
            rule = (
                self.lines.rule_for(self.ctx.names(order, trace, line=original))
                if original
                else None
            )
            quantity, rate = rl.quantity, rl.subtotal.amount
            if quantity != 0 and (rate / quantity) * quantity == rate:
                rate = rate / quantity
            else:
                quantity = Decimal(1)
            title = rl.title or (original.title if original else None) or "Refund"
            item: Link | None = None
            if rule is not None and rule.item_id is not None:
                item = link(f"item:id:{rule.item_id}", rule.item_id)
            elif self.ctx.mapping.lines.match_items_by == "sku":
                sku = rl.sku or (original.sku if original else None)
                item = link(f"item:sku:{sku}") if sku else None
            lines.append(
                DocumentLine(
                    description=title if quantity == rl.quantity else f"{rl.quantity} x {title}",
                    quantity=quantity,
                    rate=rate,
                    item=item,
                    tax_id=self.taxes.tax_id(
                        rl.taxes,
                        f"refund line {rl.line_id or index + 1}",
                        order,
                        trace,
                        rule.tax if rule else None,
                        f"rule {rule.name!r}" if rule else "entry",
                    ),
                    account_id=rule.account_id if rule else None,
                    source_line_id=rl.line_id,
                )
            )
        shipping_charge = shipping_tax_id = None
        if refund.shipping is not None and not refund.shipping.is_zero():
            tax_id = self.charges.shipping_tax(
                refund.shipping_taxes, "refunded shipping", order, trace
            )
            if self.ctx.mapping.shipping.send_as == "line":
                lines.append(
                    DocumentLine(
                        description="Shipping refund",
                        quantity=Decimal(1),
                        rate=refund.shipping.amount,
                        item=self.charges.shipping_item(),
                        tax_id=tax_id,
                        account_id=self.ctx.mapping.shipping.account_id,
                        source_line_id="shipping",
                    )
                )
            else:
                shipping_charge, shipping_tax_id = refund.shipping.amount, tax_id
        adjustment = nonzero(refund.adjustment.amount if refund.adjustment else None)
        if not lines and shipping_charge is None and adjustment is not None:
            lines.append(self._amount_only_line(order, refund, adjustment, trace))
            adjustment = None
        when = refund.processed_at or refund.created_at or order.created_at
        day = to_date(when, "date", self.ctx.zone)
        key = f"{order.source.key}:refund:{refund.source.external_id}"
        header = self.ctx.draft_header(
            order, rules, names, source_key=key, contact=self.contacts.link(order), day=day,
            refund=refund,
        )  # fmt: skip
        header["notes"] = header["notes"] or refund.reason or refund.note
        return DocumentDraft(
            kind=DocumentKind.CREDIT_NOTE,
            lines=tuple(lines),
            taxes_included=refund.taxes_included,
            shipping_charge=shipping_charge,
            shipping_tax_id=shipping_tax_id,
            adjustment=adjustment,
            adjustment_description="Refund adjustment" if adjustment else None,
            against=against,
            **header,
        )

    def _amount_only_line(
        self, order: Order, refund: Refund, amount: Decimal, trace: list[LookupHit]
    ) -> DocumentLine:
        """A refund of an amount only: one line on ``refunds.adjustment_account_id``."""
        account = self.ctx.mapping.refunds.adjustment_account_id
        rid = refund.source.external_id
        if account is None:
            raise NeedsMapping(
                f"order {order.number}: refund {rid} returns an amount without lines; a credit "
                f"note needs a line, so set refunds.adjustment_account_id in {self.ctx.path}"
                + add_to_mapping(("refunds", "adjustment_account_id"), "<account id>"),
                missing="refund_adjustment_account",
            )
        trace.append(
            LookupHit("refunds", "adjustment_account_id", account, f"refund {rid}", "amount only")
        )
        return DocumentLine(
            description=refund.reason or refund.note or f"Refund {rid}",
            quantity=Decimal(1),
            rate=amount,
            tax_id=self.ctx.mapping.lookups.taxes.untaxed,
            account_id=account,
            source_line_id=f"refund:{rid}",
        )

    def credit_refund(
        self, order: Order, refund: Refund, credit_note: Link, trace: list[LookupHit]
    ) -> CreditRefundDraft | None:
        """Money paid back against the credit note -- only when money actually went back."""
        returned = refund.money_returned
        if returned.is_zero():
            return None
        out = next(t for t in refund.transactions if t.is_money_out)
        method = self.payments.method(order, out.gateway, f"refund {out.external_id}", trace)
        when = out.processed_at or refund.processed_at or refund.created_at or order.created_at
        return CreditRefundDraft(
            credit_note=credit_note,
            amount=returned.amount,
            date=to_date(when, "date", self.ctx.zone),
            from_account_id=method.account_id,
            payment_mode=method.payment_mode,
            reference=out.reference or out.external_id,
        )
