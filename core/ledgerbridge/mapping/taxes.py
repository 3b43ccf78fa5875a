"""Taxes: which target tax (``lookups.taxes``) a line's source taxes map to.

Decided once per set of titles and rates, then remembered: the same taxes recur on order
after order.  Every decision is traced; an unmapped tax (or taxes mapping to different target
taxes) raises ``NeedsMapping`` advising the exact entry to add.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..canonical import Order, TaxLine
from ..contracts.advice import add_to_mapping
from ..errors import NeedsMapping
from .context import MAX_CACHED, LookupHit, MappingContext, norm
from .schema import TaxEntry


def tax_key(tax: TaxLine) -> str:
    """How a source tax is named in messages and ``needs_mapping``: ``VAT 7% (0.07)``."""
    return f"{tax.title} ({tax.rate})" if tax.rate is not None else tax.title


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


class TaxLookup:
    """``lookups.taxes``: source taxes to one target tax id, with the decisions cached."""

    def __init__(self, ctx: MappingContext) -> None:
        self.ctx = ctx
        mapping = ctx.mapping
        self._taxes_by_name: dict[str, TaxEntry] = {
            entry.label: entry for entry in mapping.lookups.taxes.entries
        }
        # The mapping does not change once loaded: what is derived from it is kept.
        self._tax_titles: list[tuple[TaxEntry, str | None]] = [
            (entry, None if entry.title is None else norm(entry.title))
            for entry in mapping.lookups.taxes.entries
        ]
        self._tax_entries: dict[tuple[str, Decimal | None], TaxEntry | None] = {}
        self._tax_choices: dict[tuple[tuple[str, str | None], ...], _TaxChoice] = {}

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
        if len(self._tax_entries) < MAX_CACHED:
            self._tax_entries[key] = entry
        return entry

    def _find_tax_entry(self, title: str, rate: Decimal | None) -> TaxEntry | None:
        table = self.ctx.mapping.lookups.taxes
        wanted = norm(title)
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

    def tax_id(
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
        match_by = self.ctx.mapping.lookups.taxes.match_by
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
                f"{tax_key(tax)!r} to a tax (group) in lookups.taxes of {self.ctx.path}" + advice,
                missing=f"tax:{tax_key(tax)}",
            )
        return NeedsMapping(
            f"order {order.number}: no tax mapping for {choice.unmapped!r} on {subject}; "
            f"add it under lookups.taxes.entries in {self.ctx.path}" + advice,
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
        if len(self._tax_choices) < MAX_CACHED:
            self._tax_choices[key] = choice
        return choice

    def _choose_tax(self, taxes: Sequence[TaxLine]) -> _TaxChoice:
        table = self.ctx.mapping.lookups.taxes
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
