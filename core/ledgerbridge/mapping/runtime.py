"""The mapping at run time: canonical objects in, target-neutral drafts out.

Pure -- no I/O, no store.  The planner composes posting policies and the order
lifecycle out of these builders; ``preview`` shows their output.  Every lookup
that decides a value is appended to the caller's ``trace`` as a ``LookupHit``
so a person can see *why* a line got the tax it got.  A value without a
mapping raises ``NeedsMapping`` naming the exact missing key; a default is used
only where the mapping file says ``default:``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from ..canonical import Order, OrderLine, Payment, Refund, TaxLine
from ..contracts.advice import add_to_mapping
from ..errors import NeedsMapping, SourceLocation, ValidationFailed
from ..plan import (
    BusinessKey,
    ContactDraft,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    ItemDraft,
    Link,
    LookupKind,
    PaymentDraft,
)
from ..plan_discounts import one_scope
from .currency import booked_order, refund_rates, stated_rates
from .expressions import Expression
from .schema import LineRule, MappingFile, PaymentMethod, TaxEntry


@dataclass(frozen=True)
class LookupHit:
    """One decision taken through a lookup: ``table`` at ``key`` gave ``value`` for ``subject``."""

    table: str
    key: str
    value: str | None
    subject: str
    via: str = "entry"  # entry | default | rule '<name>'

    def __str__(self) -> str:
        return f"{self.subject}: {self.table}[{self.key}] -> {self.value} ({self.via})"


@dataclass(frozen=True)
class _TaxChoice:
    """What ``lookups.taxes`` decides for one set of source taxes, whichever line carries them.

    ``hits`` are the lookups that decided it, as (key, value, via): each becomes a
    ``LookupHit`` naming the line it was looked up for.  ``unmapped`` (a tax with no entry
    and no default) or ``conflicting`` (taxes that map to different target taxes) is the
    ``NeedsMapping`` to raise once those hits are traced.
    """

    tax_id: str | None
    hits: tuple[tuple[str, str | None, str], ...]
    unmapped: str | None = None
    conflicting: str | None = None
    advised: TaxLine | None = None  # the tax (or the combination of a line's taxes) to map


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


@dataclass(frozen=True)
class NamedReference:
    """A target id the mapping names (checked by ``mappings validate --against``)."""

    kinds: tuple[LookupKind, ...]
    value: str
    where: str
    location: SourceLocation


def tax_key(tax: TaxLine) -> str:
    """How a source tax is named in messages and ``needs_mapping``: ``VAT 7% (0.07)``."""
    return f"{tax.title} ({tax.rate})" if tax.rate is not None else tax.title


_MAX_CACHED = 4096  # tax lookups (per runtime) and links (shared) kept for the next order


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _to_date(value: Any, what: str, zone: tzinfo | None = None) -> date:
    """The accounting date of ``value``: an aware datetime is read in the books' time zone."""
    if isinstance(value, datetime):
        if zone is not None and value.tzinfo is not None:
            return value.astimezone(zone).date()
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise ValidationFailed(f"{what} must give a date or a datetime, got {value!r}")


@lru_cache(maxsize=_MAX_CACHED)
def _link(key: str, target_id: str | None = None) -> Link:
    """A Link, built once per key: the same contact and items recur on order after order
    (a Link is frozen, so drafts can share one)."""
    return Link(key=key, target_id=target_id)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def _nonzero(amount: Decimal | None) -> Decimal | None:
    return amount if amount is not None and amount != 0 else None


class MappingRuntime:
    """A validated mapping, ready to turn canonical orders into drafts."""

    def __init__(self, mapping: MappingFile, path: str, references: list[NamedReference]):
        self.mapping = mapping
        self.posting_policy: str = mapping.posting_policy
        self.zone: tzinfo | None = ZoneInfo(mapping.timezone) if mapping.timezone else None
        self.options: dict[str, Any] = dict(mapping.options)
        self.path = path
        self.references = references
        self._taxes_by_name: dict[str, TaxEntry] = {
            entry.label: entry for entry in mapping.lookups.taxes.entries
        }
        # The mapping does not change once loaded: what is derived from it is kept.
        self._tax_titles: list[tuple[TaxEntry, str | None]] = [
            (entry, None if entry.title is None else _norm(entry.title))
            for entry in mapping.lookups.taxes.entries
        ]
        self._tax_entries: dict[tuple[str, Decimal | None], TaxEntry | None] = {}
        self._tax_choices: dict[tuple[tuple[str, str | None], ...], _TaxChoice] = {}

    # ------------------------------------------------------------------ policy & filters

    def skip_reason(self, order: Order) -> str | None:
        """The first filter that skips ``order`` (``rule 'skip test orders' (order.test)``)."""
        if not self.mapping.filters:
            return None
        names = self._names(order, [])
        for name, expr in self.mapping.filters.items():
            if expr is not None and expr.evaluate(names):
                return f"rule {name!r} ({expr.source})"
        return None

    # ------------------------------------------------------------------ expressions

    def _names(self, order: Order, trace: list[LookupHit], **more: Any) -> dict[str, Any]:
        def lookup(table: str, key: Any) -> Any:
            found = self.mapping.lookups.tables.get(table)
            if found is None:
                raise ValidationFailed(f"lookup table {table!r} is not defined in {self.path}")
            skey = str(key)
            if skey in found.entries:
                value = found.entries[skey]
                trace.append(LookupHit(f"tables.{table}", skey, _text(value), "expression"))
                return value
            if found.default is not None:
                trace.append(
                    LookupHit(
                        f"tables.{table}", skey, _text(found.default), "expression", "default"
                    )
                )
                return found.default
            raise NeedsMapping(
                f"order {order.number}: no entry {skey!r} in lookup table {table!r} "
                f"({self.path}) and no default"
                + add_to_mapping(("lookups", "tables", table, "entries"), {skey: "<value>"}),
                missing=f"{table}:{skey}",
            )

        return {
            "order": order,
            "customer": order.customer,
            "extra": order.extra,
            "options": self.mapping.options,
            "lookup": lookup,
            **more,
        }

    @staticmethod
    def _eval_text(expr: Expression | None, names: dict[str, Any]) -> str | None:
        return None if expr is None else _text(expr.evaluate(names))

    def _custom_fields(self, rules: dict[str, Expression], names: dict[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for api_name, expr in rules.items():
            value = expr.evaluate(names)
            if value is not None and value != "":
                out[api_name] = str(value)
        return out

    @staticmethod
    def _fields(rules: dict[str, Expression], names: dict[str, Any]) -> dict[str, Any]:
        """Extra target fields; an expression giving None leaves its field out."""
        out: dict[str, Any] = {}
        for key, expr in rules.items():
            value = expr.evaluate(names)
            if value is not None:
                out[key] = value
        return out

    # ------------------------------------------------------------------ contacts

    def _order_email(self, order: Order) -> str | None:
        for candidate in (
            order.email,
            order.customer.email if order.customer else None,
            order.billing_address.email if order.billing_address else None,
        ):
            if candidate:
                return candidate.strip().lower()
        return None

    def contact_link(self, order: Order) -> Link:
        """``contact:<platform>:<store>:<id>``; guests ``contact:email:<email>``;
        walk-in contacts (per currency) ``contact:walkin:<currency>``."""
        customer = order.customer
        if customer is not None and not customer.is_guest:
            ref = customer.source
            return _link(f"contact:{ref.platform}:{ref.store}:{ref.external_id}")
        email = self._order_email(order)
        if email and self.mapping.contact.guests == "per_email":
            return _link(f"contact:email:{email}")
        return _link(f"contact:walkin:{order.currency}")

    def contact_match_keys(self, order: Order) -> list[tuple[str, str]]:
        """Business keys to find the contact by, in the mapping's order."""
        link = self.contact_link(order)
        email = self._order_email(order)
        keys: list[tuple[str, str]] = []
        for kind in self.mapping.contact.match:
            if kind == "xref":
                keys.append(("xref", link.key))
            elif kind == "email" and email and not link.key.startswith("contact:walkin:"):
                keys.append(("email", email))
        return keys

    def contact(self, order: Order, trace: list[LookupHit]) -> ContactDraft:
        rules = self.mapping.contact
        link = self.contact_link(order)
        names = self._names(order, trace)
        if link.key.startswith("contact:walkin:"):
            name = _text(rules.walk_in_name.evaluate(names)) or f"Walk-in ({order.currency})"
            trace.append(LookupHit("contact", link.key, name, "order", "walk-in"))
            return ContactDraft(link=link, display_name=name, currency=order.currency)
        customer = order.customer
        billing = order.billing_address or (customer.billing_address if customer else None)
        shipping = order.shipping_address or (customer.shipping_address if customer else None)
        values: dict[str, Any] = {
            "email": self._order_email(order),
            "first_name": (customer.first_name if customer else None)
            or (billing.first_name if billing else None),
            "last_name": (customer.last_name if customer else None)
            or (billing.last_name if billing else None),
            "company": (customer.company if customer else None)
            or (billing.company if billing else None),
            "phone": (customer.phone if customer else None) or (billing.phone if billing else None),
            "currency": order.currency,
        }
        if customer is not None and not customer.is_guest:
            values["display_name"] = customer.display_name
        else:
            values["display_name"] = (
                (billing.name if billing else None)
                or values["company"]
                or values["email"]
                or f"Guest {order.number}"
            )
        for field_name, expr in rules.fields.items():
            values[field_name] = _text(expr.evaluate(names))
        if not values["display_name"]:
            raise ValidationFailed(
                f"order {order.number}: contact.fields.display_name gave an empty name"
            )
        trace.append(LookupHit("contact", link.key, values["display_name"], "order", "xref"))
        return ContactDraft(
            link=link,
            billing_address=billing,
            shipping_address=shipping,
            custom_fields=self._custom_fields(rules.custom_fields, names),
            **values,
        )

    # ------------------------------------------------------------------ taxes

    def _tax_entry(self, tax: TaxLine) -> TaxEntry | None:
        """The entry a source tax maps to; found once per title and rate, then remembered."""
        rate = tax.rate
        if rate is not None and rate.is_nan():  # a NaN equals nothing, not even as a dict key
            return self._find_tax_entry(tax.title, rate)
        key = (tax.title, rate)
        try:
            return self._tax_entries[key]
        except KeyError:
            pass
        entry = self._find_tax_entry(tax.title, rate)
        if len(self._tax_entries) < _MAX_CACHED:
            self._tax_entries[key] = entry
        return entry

    def _find_tax_entry(self, title: str, rate: Decimal | None) -> TaxEntry | None:
        table = self.mapping.lookups.taxes
        wanted = _norm(title)
        by_both = by_title = by_rate = None
        for entry, entry_title in self._tax_titles:
            title_ok = entry_title is not None and entry_title == wanted
            rate_ok = entry.rate is not None and rate is not None and entry.rate == rate
            if table.match_by == "title":
                if title_ok and by_title is None:
                    by_title = entry
            elif table.match_by == "rate":
                if rate_ok and by_rate is None:  # titles are ignored...
                    by_rate = entry
                elif rate is None and title_ok and entry.rate is None and by_title is None:
                    by_title = entry  # ...unless the source states no rate: then only a title tells
            elif title_ok and rate_ok:
                by_both = by_both or entry
            elif title_ok and entry.rate is None:
                by_title = by_title or entry
            elif rate_ok and entry.title is None:
                by_rate = by_rate or entry
        return by_both or by_title or by_rate

    def _tax_id(
        self,
        taxes: Sequence[TaxLine],
        subject: str,
        order: Order,
        trace: list[LookupHit],
        named: str | None = None,
        via: str = "entry",
    ) -> str | None:
        if named is not None:
            chosen = self._taxes_by_name[named]
            trace.append(LookupHit("taxes", named, chosen.tax_id, subject, via))
            return chosen.tax_id
        choice = self._tax_choice(taxes)
        for key, value, how in choice.hits:
            trace.append(LookupHit("taxes", key, value, subject, how))
        if choice.unmapped is not None or choice.conflicting is not None:
            raise self._tax_needs_mapping(choice, subject, order)
        return choice.tax_id

    def _tax_needs_mapping(self, choice: _TaxChoice, subject: str, order: Order) -> NeedsMapping:
        """The reason a line's taxes park the record, ending with the entry that maps them.

        The entry is the one ``_find_tax_entry`` matches for ``match_by``: a line with
        several taxes is looked up as their combination (titles joined by `` + ``, rates
        added), so that is what the advice names -- never the taxes' display keys, which
        no lookup compares with.
        """
        tax = choice.advised
        assert tax is not None  # set with unmapped / conflicting
        match_by = self.mapping.lookups.taxes.match_by
        entry: dict[str, Any] = {}
        if match_by != "rate" or tax.rate is None:
            entry["title"] = tax.title
        if match_by != "title" and tax.rate is not None:
            entry["rate"] = tax.rate
        entry["tax_id"] = "<tax id>"
        advice = add_to_mapping(("lookups", "taxes", "entries"), [entry])
        if choice.conflicting is not None:
            return NeedsMapping(
                f"order {order.number}: {subject} carries several taxes ({choice.conflicting}) "
                "and a target line takes one tax; map their combination "
                f"{tax_key(tax)!r} to a tax (group) in lookups.taxes of {self.path}" + advice,
                missing=f"tax:{tax_key(tax)}",
            )
        return NeedsMapping(
            f"order {order.number}: no tax mapping for {choice.unmapped!r} on {subject}; "
            f"add it under lookups.taxes.entries in {self.path}" + advice,
            missing=f"tax:{choice.unmapped}",
        )

    def _tax_choice(self, taxes: Sequence[TaxLine]) -> _TaxChoice:
        """What ``lookups.taxes`` decides for these taxes; decided once per titles and rates
        as the order writes them (``0.1`` and ``0.10`` are told apart: hits show the rate as
        written), then remembered."""
        key = tuple([(t.title, None if t.rate is None else str(t.rate)) for t in taxes])
        try:
            return self._tax_choices[key]
        except KeyError:
            pass
        choice = self._choose_tax(taxes)
        if len(self._tax_choices) < _MAX_CACHED:
            self._tax_choices[key] = choice
        return choice

    def _choose_tax(self, taxes: Sequence[TaxLine]) -> _TaxChoice:
        table = self.mapping.lookups.taxes
        if not taxes:
            if table.untaxed is None:
                return _TaxChoice(None, ())
            return _TaxChoice(table.untaxed, (("(untaxed)", table.untaxed, "untaxed"),))
        entry: TaxEntry | None
        group: TaxLine | None = None
        if len(taxes) > 1:
            group = TaxLine(
                title=" + ".join(t.title for t in taxes),
                rate=None
                if any(t.rate is None for t in taxes)
                else sum(t.rate for t in taxes if t.rate is not None),
                amount=taxes[0].amount,
            )
            entry = self._tax_entry(group)
            if entry is not None:
                return _TaxChoice(entry.tax_id, ((tax_key(group), entry.tax_id, "entry"),))
        hits: list[tuple[str, str | None, str]] = []
        found: dict[str, str] = {}
        for tax in taxes:
            key = tax_key(tax)
            entry = self._tax_entry(tax)
            if entry is not None:
                hits.append((key, entry.tax_id, "entry"))
                found[key] = entry.tax_id
            elif table.default is not None:
                hits.append((key, table.default, "default"))
                found[key] = table.default
            elif group is not None:
                # One entry for the combination makes the line post; mapping this tax
                # alone would only lead to the next one (or to a conflict).
                parts = " + ".join(tax_key(t) for t in taxes)
                return _TaxChoice(None, tuple(hits), conflicting=parts, advised=group)
            else:
                return _TaxChoice(None, tuple(hits), unmapped=key, advised=tax)
        if len(set(found.values())) > 1:
            assert group is not None  # one tax maps to one id
            return _TaxChoice(None, tuple(hits), conflicting=" + ".join(found), advised=group)
        return _TaxChoice(next(iter(found.values())), tuple(hits))

    # ------------------------------------------------------------------ lines & items

    def line_decisions(self, order: Order) -> LineDecisions:
        """Where ``items`` records its line decisions for ``order``, for ``document`` to reuse."""
        return LineDecisions(order)

    def _rule_for(self, names: dict[str, Any]) -> LineRule | None:
        """The first line rule whose ``when`` holds for a line (``names`` carry the line)."""
        for rule in self.mapping.lines.rules:
            if rule.when.evaluate(names):
                return rule
        return None

    def _decide(
        self, names: dict[str, Any], trace: list[LookupHit]
    ) -> tuple[LineRule | None, tuple[LookupHit, ...]]:
        """The rule for a line and the lookups its ``when`` expressions made (already traced)."""
        if not self.mapping.lines.rules:
            return None, ()
        start = len(trace)
        rule = self._rule_for(names)
        return rule, tuple(trace[start:])

    def _item_link(self, order: Order, line: OrderLine, rule: LineRule | None) -> Link | None:
        if rule is not None and rule.item_id is not None:
            return _link(f"item:id:{rule.item_id}", rule.item_id)
        rules = self.mapping.lines
        if rules.match_items_by == "sku" and line.sku:
            return _link(f"item:sku:{line.sku}")
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
        rules = self.mapping.lines
        base = self._names(order, trace)
        drafts: dict[str, ItemDraft] = {}
        for line in order.lines:
            names = {**base, "line": line}
            rule, hits = self._decide(names, trace)
            link = self._item_link(order, line, rule)
            if lines is not None:
                lines.decided.append(_LineDecision(rule, hits, link))
            if link is None or link.target_id is not None or link.key in drafts:
                continue
            drafts[link.key] = ItemDraft(
                link=link,
                name=_text(rules.item_name.evaluate(names)) or line.title,
                sku=line.sku,
                rate=line.unit_price.amount,
                tax_id=self._tax_id(
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

    def _document_lines(
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
            description = _text((described or self.mapping.lines.description).evaluate(names))
            via = f"rule {rule.name!r}" if rule else "entry"
            out.append(
                DocumentLine(
                    description=description or line.title,
                    quantity=line.quantity,
                    rate=line.unit_price.amount,
                    item=self._item_link(order, line, rule) if known is None else known.item,
                    discount=_nonzero(line.discount.amount if line.discount else None),
                    tax_id=self._tax_id(
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

    # ------------------------------------------------------------------ shipping & fees

    def _shipping_item(self) -> Link | None:
        item_id = self.mapping.shipping.item_id
        return None if item_id is None else _link(f"item:id:{item_id}", item_id)

    def _shipping_tax(
        self, taxes: Sequence[TaxLine], subject: str, order: Order, trace: list[LookupHit]
    ) -> str | None:
        named = self.mapping.shipping.tax
        return self._tax_id(taxes, subject, order, trace, named, "shipping.tax")

    def _shipping(
        self, order: Order, trace: list[LookupHit]
    ) -> tuple[list[DocumentLine], Decimal | None, str | None]:
        rules = self.mapping.shipping
        if not order.shipping_lines:
            return [], None, None
        if rules.send_as == "line":
            lines = []
            for index, ship in enumerate(order.shipping_lines):
                names = self._names(order, trace, shipping=ship)
                lines.append(
                    DocumentLine(
                        description=_text(rules.description.evaluate(names)) or ship.title,
                        quantity=Decimal(1),
                        rate=ship.price.amount,
                        item=self._shipping_item(),
                        discount=_nonzero(ship.discount.amount if ship.discount else None),
                        tax_id=self._shipping_tax(
                            ship.taxes, f"shipping {index + 1}", order, trace
                        ),
                        account_id=rules.account_id,
                        source_line_id=f"shipping:{index + 1}",
                    )
                )
            return lines, None, None
        tax_ids = {
            self._shipping_tax(ship.taxes, f"shipping {i + 1}", order, trace)
            for i, ship in enumerate(order.shipping_lines)
        }
        if len(tax_ids) > 1:
            raise ValidationFailed(
                f"order {order.number}: its shipping lines carry different taxes, and a "
                "shipping charge takes one; set `shipping: {as: line, item_id: ...}` in "
                f"{self.path}"
            )
        charge = sum((s.net.amount for s in order.shipping_lines), Decimal(0))
        return [], charge, tax_ids.pop()

    def _fee_account(self, order: Order, kind: str, subject: str, trace: list[LookupHit]) -> str:
        table = self.mapping.lookups.fee_accounts
        if kind in table.entries:
            trace.append(LookupHit("fee_accounts", kind, table.entries[kind], subject))
            return table.entries[kind]
        if table.default is not None:
            trace.append(LookupHit("fee_accounts", kind, table.default, subject, "default"))
            return table.default
        raise NeedsMapping(
            f"order {order.number}: no account for fees of kind {kind!r} ({subject}); "
            f"add it under lookups.fee_accounts.entries in {self.path}"
            + add_to_mapping(("lookups", "fee_accounts", "entries"), {kind: "<account id>"}),
            missing=f"fee_account:{kind}",
        )

    def _fees(
        self, order: Order, trace: list[LookupHit], taxes_included: bool
    ) -> tuple[list[DocumentLine], Decimal]:
        rules = self.mapping.fees
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
            names = self._names(order, trace, fee=fee)
            lines.append(
                DocumentLine(
                    description=_text(rules.description.evaluate(names)) or fee.name,
                    quantity=Decimal(1),
                    rate=fee.amount.amount,
                    tax_id=self._tax_id(fee.taxes, subject, order, trace, rules.tax, "fees.tax"),
                    account_id=self._fee_account(order, fee.kind, subject, trace),
                    source_line_id=f"fee:{index + 1}",
                )
            )
        return lines, adjustment

    # ------------------------------------------------------------------ payments

    def _payment_method(
        self, order: Order, gateway: str | None, subject: str, trace: list[LookupHit]
    ) -> PaymentMethod:
        table = self.mapping.lookups.payment_methods
        key = gateway or "(none)"
        method: PaymentMethod | None = None
        if key in table.entries:
            method, via = table.entries[key], "entry"
        elif table.default is not None:
            method, via = table.default, "default"
        if method is not None:
            if method.account_id is None and "account_id" not in method.model_fields_set:
                # Money must land in a known (clearing) account, never in whatever the
                # target picks; `account_id: null` says "the target's default" on purpose.
                raise NeedsMapping(
                    f"order {order.number}: payment method {key!r} ({subject}) names no "
                    f"deposit account; set its account_id in lookups.payment_methods of "
                    f"{self.path} (or account_id: null for the target's default)"
                    + add_to_mapping(
                        (
                            "lookups",
                            "payment_methods",
                            *(("entries", key) if via == "entry" else ("default",)),
                        ),
                        {"account_id": "<account id>"},
                    ),
                    missing=f"payment_account:{key}",
                )
            trace.append(LookupHit("payment_methods", key, _method_text(method), subject, via))
            return method
        raise NeedsMapping(
            f"order {order.number}: no payment mode for gateway {key!r} ({subject}); "
            f"add it under lookups.payment_methods.entries in {self.path}"
            + add_to_mapping(
                ("lookups", "payment_methods", "entries"),
                {key: {"payment_mode": "<payment mode>", "account_id": "<account id>"}},
            ),
            missing=f"payment_method:{key}",
        )

    @staticmethod
    def _order_gateway(order: Order) -> str | None:
        for payment in order.payments:
            if payment.is_money_in:
                return payment.gateway
        return order.payment_gateways[0] if order.payment_gateways else None

    # ------------------------------------------------------------------ documents

    def _check_currency(self, order: Order) -> None:
        accept = self.mapping.lookups.currencies.accept
        if accept and order.currency not in accept:
            raise NeedsMapping(
                f"order {order.number} is in {order.currency}, which is not in "
                f"lookups.currencies.accept ({', '.join(accept)}) of {self.path}"
                + add_to_mapping(("lookups", "currencies", "accept"), [order.currency]),
                missing=f"currency:{order.currency}",
            )

    def booked(self, order: Order) -> Order:
        """The order as this pipeline books it: shop money, or the presentment twin
        (``lookups.currencies.book_in``; ``currency.booked_order``)."""
        return booked_order(order, self.mapping.lookups.currencies.book_in)

    def _rates(self, order: Order, day: date, refund: Refund | None = None) -> dict[str, Any]:
        """The rate fields of a draft of ``order`` dated ``day``: ``stated_rates`` (what the
        source states: the other currency's money against this one's), ``exchange_rate``
        (the mapping's, for the document currency) and, with ``fallback_rate: target``,
        ``target_rate_on`` (the day whose rate the target looks up). The target picks the
        one for its base currency (``DocumentDraft.stated_rates``).

        A credit note (``refund``) takes the original order's rate (its stated rate, the
        target's rate of the order's day) or, with ``refund_rate: refund_day``, the rate
        the refund itself states, else the target's rate of the refund's day.
        """
        rules = self.mapping.lookups.currencies
        stated = stated_rates(order)
        if refund is not None:
            if rules.refund_rate == "refund_day":
                stated = refund_rates(order, refund)
            else:
                names = self._names(order, [])
                day = _to_date(self.mapping.document.date.evaluate(names), "date", self.zone)
        return {
            "exchange_rate": rules.exchange_rates.get(order.currency),
            "stated_rates": stated,
            "target_rate_on": day if rules.fallback_rate == "target" else None,
        }

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
        self._check_currency(order)
        rules = self.mapping.document
        names = self._names(order, trace)
        order_lines = self._document_lines(order, names, trace, lines)
        shipping_lines, shipping_charge, shipping_tax_id = self._shipping(order, trace)
        fee_lines, fee_adjustment = self._fees(order, trace, order.taxes_included)
        order_discount = sum(
            (d.amount.amount for d in order.discounts if not d.allocated), Decimal(0)
        )
        adjustment = fee_adjustment
        if order.rounding_adjustment is not None:
            adjustment += order.rounding_adjustment.amount
        document_discount: Decimal | None = None
        if rules.order_discounts == "document":
            document_discount = _nonzero(order_discount)
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
            method = self._payment_method(order, self._order_gateway(order), "receipt", trace)
            payment_mode, deposit = method.payment_mode, method.account_id
        day = _to_date(rules.date.evaluate(names), "document.date", self.zone)
        return DocumentDraft(
            kind=kind,
            key=BusinessKey(
                reference=_text(rules.reference.evaluate(names)) or order.number,
                source_key=order.source.key,
            ),
            contact=self.contact_link(order),
            date=day,
            currency=order.currency,
            lines=tuple(all_lines),
            taxes_included=order.taxes_included,
            discount=document_discount,
            shipping_charge=shipping_charge,
            shipping_tax_id=shipping_tax_id,
            adjustment=_nonzero(adjustment),
            adjustment_description=rules.rounding_description if _nonzero(adjustment) else None,
            **self._rates(order, day),
            notes=self._eval_text(rules.notes, names),
            custom_fields=self._custom_fields(rules.custom_fields, names),
            payment_mode=payment_mode,
            deposit_account_id=deposit,
            extra=self._fields(rules.fields, names),
            settled_in_plan=settled_in_plan,
        )

    def payment(
        self, order: Order, payment: Payment, applied_to: Link | None, trace: list[LookupHit]
    ) -> PaymentDraft:
        """A received payment, applied to ``applied_to`` (None: an unapplied advance)."""
        method = self._payment_method(
            order, payment.gateway, f"payment {payment.external_id}", trace
        )
        names = self._names(order, trace, payment=payment)
        amount = payment.amount.amount
        when = payment.processed_at or order.processed_at or order.created_at
        day = _to_date(when, "date", self.zone)
        return PaymentDraft(
            key=BusinessKey(
                reference=_text(self.mapping.document.reference.evaluate(names)) or order.number,
                source_key=f"{order.source.key}:payment:{payment.external_id}",
            ),
            contact=self.contact_link(order),
            amount=amount,
            currency=order.currency,
            date=day,
            payment_mode=method.payment_mode,
            account_id=method.account_id,
            reference=_text(self.mapping.payments.reference.evaluate(names)),
            **self._rates(order, day),
            applied_to=((applied_to, amount),) if applied_to is not None else (),
        )

    def credit_note(
        self, order: Order, refund: Refund, against: Link | None, trace: list[LookupHit]
    ) -> DocumentDraft:
        """The credit note for one source refund: its lines, shipping and adjustment.

        ``against`` is the invoice it credits (None for a sales receipt: a standalone credit).
        """
        self._check_currency(order)
        rules = self.mapping.refunds
        names = self._names(order, trace, refund=refund)
        by_id = {line.line_id: line for line in order.lines}
        lines: list[DocumentLine] = []
        for index, rl in enumerate(refund.lines):
            if rl.quantity == 0 and rl.subtotal.is_zero():
                continue
            original = by_id.get(rl.line_id) if rl.line_id else None
            rule = self._rule_for(self._names(order, trace, line=original)) if original else None
            quantity, rate = rl.quantity, rl.subtotal.amount
            if quantity != 0 and (rate / quantity) * quantity == rate:
                rate = rate / quantity
            else:
                quantity = Decimal(1)
            title = rl.title or (original.title if original else None) or "Refund"
            item: Link | None = None
            if rule is not None and rule.item_id is not None:
                item = _link(f"item:id:{rule.item_id}", rule.item_id)
            elif self.mapping.lines.match_items_by == "sku":
                sku = rl.sku or (original.sku if original else None)
                item = _link(f"item:sku:{sku}") if sku else None
            lines.append(
                DocumentLine(
                    description=title if quantity == rl.quantity else f"{rl.quantity} x {title}",
                    quantity=quantity,
                    rate=rate,
                    item=item,
                    tax_id=self._tax_id(
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
            tax_id = self._shipping_tax(refund.shipping_taxes, "refunded shipping", order, trace)
            if self.mapping.shipping.send_as == "line":
                lines.append(
                    DocumentLine(
                        description="Shipping refund",
                        quantity=Decimal(1),
                        rate=refund.shipping.amount,
                        item=self._shipping_item(),
                        tax_id=tax_id,
                        account_id=self.mapping.shipping.account_id,
                        source_line_id="shipping",
                    )
                )
            else:
                shipping_charge, shipping_tax_id = refund.shipping.amount, tax_id
        adjustment = _nonzero(refund.adjustment.amount if refund.adjustment else None)
        if not lines and shipping_charge is None and adjustment is not None:
            lines.append(self._amount_only_line(order, refund, adjustment, trace))
            adjustment = None
        when = refund.processed_at or refund.created_at or order.created_at
        day = _to_date(when, "date", self.zone)
        return DocumentDraft(
            kind=DocumentKind.CREDIT_NOTE,
            key=BusinessKey(
                reference=_text(rules.reference.evaluate(names)) or order.number,
                source_key=f"{order.source.key}:refund:{refund.source.external_id}",
            ),
            contact=self.contact_link(order),
            date=day,
            currency=order.currency,
            lines=tuple(lines),
            taxes_included=refund.taxes_included,
            shipping_charge=shipping_charge,
            shipping_tax_id=shipping_tax_id,
            adjustment=adjustment,
            adjustment_description="Refund adjustment" if adjustment else None,
            **self._rates(order, day, refund),
            notes=self._eval_text(rules.notes, names) or refund.reason or refund.note,
            custom_fields=self._custom_fields(rules.custom_fields, names),
            against=against,
        )

    def _amount_only_line(
        self, order: Order, refund: Refund, amount: Decimal, trace: list[LookupHit]
    ) -> DocumentLine:
        """A refund of an amount only: one line on ``refunds.adjustment_account_id``."""
        account = self.mapping.refunds.adjustment_account_id
        rid = refund.source.external_id
        if account is None:
            raise NeedsMapping(
                f"order {order.number}: refund {rid} returns an amount without lines; a credit "
                f"note needs a line, so set refunds.adjustment_account_id in {self.path}"
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
            tax_id=self.mapping.lookups.taxes.untaxed,
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
        method = self._payment_method(order, out.gateway, f"refund {out.external_id}", trace)
        when = out.processed_at or refund.processed_at or refund.created_at or order.created_at
        return CreditRefundDraft(
            credit_note=credit_note,
            amount=returned.amount,
            date=_to_date(when, "date", self.zone),
            from_account_id=method.account_id,
            payment_mode=method.payment_mode,
            reference=out.reference or out.external_id,
        )

    # ------------------------------------------------------------------ daily summary

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

        shipping_account = self.mapping.summary.shipping_account
        for order in orders:
            # The same line rules, tax lookups and fee accounts as per-order documents.
            lines = self._document_lines(order, self._names(order, trace), trace)
            for ln in lines:
                account = ln.account_id or self._summary_account(order, ln.tax_id, trace)
                add(ln.tax_id, account, ln.rate * ln.quantity - (ln.discount or 0))
            ship_lines, charge, ship_tax = self._shipping(order, trace)
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
            fee_lines, fee_adjustment = self._fees(order, trace, order.taxes_included)
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
        names = {e.tax_id: e.label for e in self.mapping.lookups.taxes.entries}
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
        table = self.mapping.summary.sales_accounts
        label = next(
            (e.label for e in self.mapping.lookups.taxes.entries if e.tax_id == tax_id), "untaxed"
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
            f"summary.sales_accounts in {self.path}"
            + add_to_mapping(("summary", "sales_accounts", "entries"), {label: "<account id>"}),
            missing=f"summary_account:{label}",
        )


def _method_text(method: PaymentMethod) -> str:
    return method.payment_mode + (f" -> {method.account_id}" if method.account_id else "")
