"""Order lines: which line rule and item each line gets, the items to ensure exist, and the
document lines built from those decisions (decided once per plan, see ``LineDecisions``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from ..canonical import Order, OrderLine, TaxLine
from ..contracts.advice import add_to_mapping
from ..errors import NeedsMapping
from ..plan import DocumentLine, ItemDraft, Link
from .context import LookupHit, MappingContext, link, nonzero, text
from .schema import LineRule
from .taxes import TaxLookup


class _LineDecision(NamedTuple):
    """What the mapping decided for one order line: its rule (with the lookups the rules'
    ``when`` made to find it) and its item link."""

    rule: LineRule | None
    rule_hits: tuple[LookupHit, ...]
    item: Link | None


class LineDecisions:
    """The line decisions of one order, taken once per plan.

    ``items`` decides each line's rule and item link and records them here; ``document``
    builds its lines from the same decisions rather than evaluating every rule again (its
    trace still shows each rule lookup, as if decided afresh).  Only lines ``items`` got
    through are recorded, so a line it did not reach is decided as usual.
    """

    def __init__(self, order: Order) -> None:
        self.order = order
        self.decided: list[_LineDecision] = []

    def check(self, order: Order) -> None:
        if order is not self.order:
            raise ValueError("these line decisions were taken for another order")


class LineBuilder:
    """``lines:`` of the mapping: rules, items and the document lines of an order."""

    def __init__(self, ctx: MappingContext, taxes: TaxLookup) -> None:
        self.ctx = ctx
        self.taxes = taxes

    def line_decisions(self, order: Order) -> LineDecisions:
        """Where ``items`` records its line decisions for ``order``, for ``document`` to reuse."""
        return LineDecisions(order)

    def rule_for(self, names: dict[str, Any]) -> LineRule | None:
        """The first line rule whose ``when`` holds for a line (``names`` carry the line)."""
        for rule in self.ctx.mapping.lines.rules:
            if rule.when.evaluate(names):
                return rule
        return None

    def _decide(
        self, names: dict[str, Any], trace: list[LookupHit]
    ) -> tuple[LineRule | None, tuple[LookupHit, ...]]:
        """The rule for a line and the lookups its ``when`` expressions made (already traced)."""
        if not self.ctx.mapping.lines.rules:
            return None, ()
        start = len(trace)
        rule = self.rule_for(names)
        return rule, tuple(trace[start:])

    def _item_link(self, order: Order, line: OrderLine, rule: LineRule | None) -> Link | None:
        if rule is not None and rule.item_id is not None:
            return link(f"item:id:{rule.item_id}", rule.item_id)
        rules = self.ctx.mapping.lines
        if rules.match_items_by == "sku" and line.sku:
            return link(f"item:sku:{line.sku}")
        if rules.without_sku == "needs_mapping" and (rule is None or rule.account_id is None):
            raise NeedsMapping(
                f"order {order.number}: line {line.line_id} ({line.title!r}) has no SKU and "
                "lines.without_sku is needs_mapping; name its item in a line rule"
                + add_to_mapping(
                    ("lines", "rules"),
                    [
                        {
                            "name": f"item for {line.title}",
                            "when": f"line.title == {json.dumps(line.title)}",
                            "item_id": "<item id>",
                        }
                    ],
                ),
                missing=f"item:{line.title}",
            )
        return None

    def _line_taxes(self, order: Order, line: OrderLine) -> Sequence[TaxLine]:
        if line.taxes or not line.taxable:
            return line.taxes
        return order.tax_lines  # order-level taxes apply to each taxable line

    def items(
        self, order: Order, trace: list[LookupHit], lines: LineDecisions | None = None
    ) -> list[ItemDraft]:
        """Items to ensure exist for lines matched by SKU (Link key ``item:sku:<SKU>``).

        With ``lines`` (from ``line_decisions``), each line's rule and item link are recorded
        there, so that ``document`` does not decide them again.
        """
        if lines is not None:
            lines.check(order)
            lines.decided.clear()  # decided anew: what this call decides is what is kept
        rules = self.ctx.mapping.lines
        base = self.ctx.names(order, trace)
        drafts: dict[str, ItemDraft] = {}
        for line in order.lines:
            names = {**base, "line": line}
            rule, hits = self._decide(names, trace)
            item = self._item_link(order, line, rule)
            if lines is not None:
                lines.decided.append(_LineDecision(rule, hits, item))
            if item is None or item.target_id is not None or item.key in drafts:
                continue
            drafts[item.key] = ItemDraft(
                link=item,
                name=text(rules.item_name.evaluate(names)) or line.title,
                sku=line.sku,
                rate=line.unit_price.amount,
                tax_id=self.taxes.tax_id(
                    self._line_taxes(order, line),
                    f"item {line.sku}",
                    order,
                    trace,
                    rule.tax if rule else None,
                    f"rule {rule.name!r}" if rule else "entry",
                ),
                account_id=rules.item_account_id,
            )
        return list(drafts.values())

    def document_lines(
        self,
        order: Order,
        base: dict[str, Any],
        trace: list[LookupHit],
        lines: LineDecisions | None = None,
    ) -> list[DocumentLine]:
        """One document line per order line; a line ``items`` already decided (``lines``) keeps
        that rule and item link, and its rules' lookups are traced again for this line."""
        decided = lines.decided if lines is not None else []
        out: list[DocumentLine] = []
        for index, line in enumerate(order.lines):
            names = {**base, "line": line}
            known = decided[index] if index < len(decided) else None
            if known is None:
                rule, _hits = self._decide(names, trace)
            else:
                rule = known.rule
                trace.extend(known.rule_hits)
            described = rule.description if rule and rule.description else None
            description = text((described or self.ctx.mapping.lines.description).evaluate(names))
            via = f"rule {rule.name!r}" if rule else "entry"
            out.append(
                DocumentLine(
                    description=description or line.title,
                    quantity=line.quantity,
                    rate=line.unit_price.amount,
                    item=self._item_link(order, line, rule) if known is None else known.item,
                    discount=nonzero(line.discount.amount if line.discount else None),
                    tax_id=self.taxes.tax_id(
                        self._line_taxes(order, line),
                        f"line {line.line_id}",
                        order,
                        trace,
                        rule.tax if rule else None,
                        via,
                    ),
                    account_id=rule.account_id if rule else None,
                    source_line_id=line.line_id,
                )
            )
        return out
