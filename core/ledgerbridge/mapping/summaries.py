"""Daily summaries: the net sales of many orders per target tax, each line on the income
account of its tax (``summary.sales_accounts``), by the same rules as per-order documents."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ..canonical import Order
from ..contracts.advice import add_to_mapping
from ..errors import NeedsMapping, ValidationFailed
from ..plan import DocumentLine
from .charges import ChargeBuilder
from .context import LookupHit, MappingContext
from .lines import LineBuilder


class SummaryBuilder:
    """``summary:`` of the mapping: the lines of a daily summary."""

    def __init__(self, ctx: MappingContext, lines: LineBuilder, charges: ChargeBuilder) -> None:
        self.ctx = ctx
        self.lines = lines
        self.charges = charges

    def summary_lines(self, orders: Sequence[Order], trace: list[LookupHit]) -> list[DocumentLine]:
        """daily_summary: net sales per target tax, each to the income account of that tax.

        Lines, shipping and fees of every order are summed per tax id (prices
        as the orders state them -- one summary must not mix tax-inclusive and
        exclusive orders, nor currencies).
        """
        if not orders:
            return []
        currencies = {o.currency for o in orders}
        inclusive = {o.taxes_included for o in orders}
        if len(currencies) > 1 or len(inclusive) > 1:
            raise ValidationFailed(
                "a daily summary takes orders of one currency and one tax mode; "
                f"got {sorted(currencies)} / taxes_included {sorted(inclusive)}"
            )
        sums: dict[tuple[str | None, str], Decimal] = {}

        def add(tax_id: str | None, account: str, amount: Decimal) -> None:
            sums[(tax_id, account)] = sums.get((tax_id, account), Decimal(0)) + amount

        shipping_account = self.ctx.mapping.summary.shipping_account
        for order in orders:
            # The same line rules, tax lookups and fee accounts as per-order documents.
            lines = self.lines.document_lines(order, self.ctx.names(order, trace), trace)
            for ln in lines:
                account = ln.account_id or self._summary_account(order, ln.tax_id, trace)
                add(ln.tax_id, account, ln.rate * ln.quantity - (ln.discount or 0))
            ship_lines, charge, ship_tax = self.charges.shipping(order, trace)
            for ln in ship_lines:
                account = (
                    ln.account_id
                    or shipping_account
                    or self._summary_account(order, ln.tax_id, trace)
                )
                add(ln.tax_id, account, ln.rate * ln.quantity - (ln.discount or 0))
            if charge:
                account = shipping_account or self._summary_account(order, ship_tax, trace)
                add(ship_tax, account, charge)
            fee_lines, fee_adjustment = self.charges.fees(order, trace, order.taxes_included)
            for ln in fee_lines:
                add(ln.tax_id, ln.account_id or "", ln.rate)
            unallocated = (
                sum((d.amount.amount for d in order.discounts if not d.allocated), Decimal(0))
                - fee_adjustment
            )
            if unallocated:
                taxes = {ln.tax_id for ln in lines}
                if len(taxes) != 1:
                    raise ValidationFailed(
                        f"order {order.number}: an order-level discount (or a fee sent as an "
                        "adjustment) cannot be split across several taxes in a daily summary; "
                        "have the source allocate it to lines"
                    )
                tax_id = taxes.pop()
                add(tax_id, self._summary_account(order, tax_id, trace), -unallocated)
        names = {e.tax_id: e.label for e in self.ctx.mapping.lookups.taxes.entries}
        return [
            DocumentLine(
                description=f"Sales {names.get(tax_id or '', 'untaxed')}",
                quantity=Decimal(1),
                rate=amount,
                tax_id=tax_id,
                account_id=account,
            )
            for (tax_id, account), amount in sums.items()
        ]

    def _summary_account(self, order: Order, tax_id: str | None, trace: list[LookupHit]) -> str:
        table = self.ctx.mapping.summary.sales_accounts
        label = next(
            (e.label for e in self.ctx.mapping.lookups.taxes.entries if e.tax_id == tax_id),
            "untaxed",
        )
        if label in table.entries:
            trace.append(
                LookupHit("summary.sales_accounts", label, table.entries[label], "summary")
            )
            return table.entries[label]
        if table.default is not None:
            trace.append(
                LookupHit("summary.sales_accounts", label, table.default, "summary", "default")
            )
            return table.default
        raise NeedsMapping(
            f"order {order.number}: no summary income account for tax {label!r}; add it under "
            f"summary.sales_accounts in {self.ctx.path}"
            + add_to_mapping(("summary", "sales_accounts", "entries"), {label: "<account id>"}),
            missing=f"summary_account:{label}",
        )
