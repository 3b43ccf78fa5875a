"""Charges beside the lines: shipping (as lines or as one charge) and fees (as lines on
their ``lookups.fee_accounts`` account, or folded into the adjustment)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ..canonical import Order, TaxLine
from ..contracts.advice import add_to_mapping
from ..errors import NeedsMapping, ValidationFailed
from ..plan import DocumentLine, Link
from .context import LookupHit, MappingContext, link, nonzero, text
from .taxes import TaxLookup


class ChargeBuilder:
    """``shipping:`` and ``fees:`` of the mapping."""

    def __init__(self, ctx: MappingContext, taxes: TaxLookup) -> None:
        self.ctx = ctx
        self.taxes = taxes

    def shipping_item(self) -> Link | None:
        item_id = self.ctx.mapping.shipping.item_id
        return None if item_id is None else link(f"item:id:{item_id}", item_id)

    def shipping_tax(
        self, taxes: Sequence[TaxLine], subject: str, order: Order, trace: list[LookupHit]
    ) -> str | None:
        named = self.ctx.mapping.shipping.tax
        return self.taxes.tax_id(taxes, subject, order, trace, named, "shipping.tax")

    def shipping(
        self, order: Order, trace: list[LookupHit]
    ) -> tuple[list[DocumentLine], Decimal | None, str | None]:
        rules = self.ctx.mapping.shipping
        if not order.shipping_lines:
            return [], None, None
        if rules.send_as == "line":
            lines = []
            for index, ship in enumerate(order.shipping_lines):
                names = self.ctx.names(order, trace, shipping=ship)
                lines.append(
                    DocumentLine(
                        description=text(rules.description.evaluate(names)) or ship.title,
                        quantity=Decimal(1),
                        rate=ship.price.amount,
                        item=self.shipping_item(),
                        discount=nonzero(ship.discount.amount if ship.discount else None),
                        tax_id=self.shipping_tax(ship.taxes, f"shipping {index + 1}", order, trace),
                        account_id=rules.account_id,
                        source_line_id=f"shipping:{index + 1}",
                    )
                )
            return lines, None, None
        tax_ids = {
            self.shipping_tax(ship.taxes, f"shipping {i + 1}", order, trace)
            for i, ship in enumerate(order.shipping_lines)
        }
        if len(tax_ids) > 1:
            raise ValidationFailed(
                f"order {order.number}: its shipping lines carry different taxes, and a "
                "shipping charge takes one; set `shipping: {as: line, item_id: ...}` in "
                f"{self.ctx.path}"
            )
        charge = sum((s.net.amount for s in order.shipping_lines), Decimal(0))
        return [], charge, tax_ids.pop()

    def _fee_account(self, order: Order, kind: str, subject: str, trace: list[LookupHit]) -> str:
        table = self.ctx.mapping.lookups.fee_accounts
        if kind in table.entries:
            trace.append(LookupHit("fee_accounts", kind, table.entries[kind], subject))
            return table.entries[kind]
        if table.default is not None:
            trace.append(LookupHit("fee_accounts", kind, table.default, subject, "default"))
            return table.default
        raise NeedsMapping(
            f"order {order.number}: no account for fees of kind {kind!r} ({subject}); "
            f"add it under lookups.fee_accounts.entries in {self.ctx.path}"
            + add_to_mapping(("lookups", "fee_accounts", "entries"), {kind: "<account id>"}),
            missing=f"fee_account:{kind}",
        )

    def fees(
        self, order: Order, trace: list[LookupHit], taxes_included: bool
    ) -> tuple[list[DocumentLine], Decimal]:
        rules = self.ctx.mapping.fees
        lines: list[DocumentLine] = []
        adjustment = Decimal(0)
        for index, fee in enumerate(order.fees):
            subject = f"fee {index + 1} ({fee.name})"
            if rules.send_as == "adjustment":
                adjustment += fee.amount.amount
                if not taxes_included:
                    adjustment += sum((t.amount.amount for t in fee.taxes), Decimal(0))
                trace.append(LookupHit("fees", fee.kind, "adjustment", subject, "fees.as"))
                continue
            names = self.ctx.names(order, trace, fee=fee)
            lines.append(
                DocumentLine(
                    description=text(rules.description.evaluate(names)) or fee.name,
                    quantity=Decimal(1),
                    rate=fee.amount.amount,
                    tax_id=self.taxes.tax_id(
                        fee.taxes, subject, order, trace, rules.tax, "fees.tax"
                    ),
                    account_id=self._fee_account(order, fee.kind, subject, trace),
                    source_line_id=f"fee:{index + 1}",
                )
            )
        return lines, adjustment
