"""Before any write: will the target's tax arithmetic land on the source's total?

Zoho Books (like most ledgers) does not take a line's tax amount; it computes it
from the tax's rate and the line's amount.  When a source line states a tax that
is not its rate times its base -- a mistyped tax, a rate changed mid-order, a
mapping whose tax has another rate than the source's -- the target's document
total will differ from the source's.  Found only after the create, the document
has to be voided again (one more document in the merchant's books on every
attempt).  This check finds it before anything is written, from the canonical
order and the planned draft alone (pure: no I/O), and parks the order with the
line, the amounts and the difference.

Small differences are rounding: each line may be off by a cent per tax (per
unit, for platforms that round per unit), and the executor puts what is left
into the document's rounding adjustment.  Only a line beyond that, adding up to
more than ``TAX_GAP_CEILING`` over the document (the executor's own ceiling for
a rounding difference), parks the order.  Orders whose discount is not spread
over their lines are not checked: the target's tax base is not the line's then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..canonical import Order
from ..canonical.common import TaxLine
from ..canonical.money import smallest_unit
from ..errors import TotalsMismatch
from ..plan import DocumentDraft

TAX_GAP_CEILING = Decimal("0.10")  # the executor's ROUNDING_CEILING
CENT = Decimal("0.01")


def gap_ceiling(currency: str) -> Decimal:
    """The largest document gap that is still rounding: 0.10, or ten of the currency's
    smallest unit where that is more -- a yen cannot be split, so a gap of one yen is
    rounding where a gap of one dollar is not."""
    return max(TAX_GAP_CEILING, smallest_unit(currency) * 10)


@dataclass(frozen=True)
class TaxGap:
    """One line whose stated tax is not its rate times its base."""

    subject: str
    base: Decimal
    rate: Decimal
    stated: Decimal
    computed: Decimal

    @property
    def difference(self) -> Decimal:
        return self.stated - self.computed


def _rate(
    taxes: Sequence[TaxLine], tax_id: str | None, rates: Mapping[str, Decimal]
) -> Decimal | None:
    """The rate the target will apply: the mapped tax's rate when the mapping states it,
    else the source's own rates (``None``: unknown, so not checked)."""
    if tax_id is not None and tax_id in rates:
        return rates[tax_id]
    if not taxes or any(t.rate is None for t in taxes):
        return None
    return sum((t.rate for t in taxes if t.rate is not None), Decimal(0))


def _gap(
    subject: str,
    base: Decimal,
    taxes: Sequence[TaxLine],
    rate: Decimal | None,
    inclusive: bool,
    units: Decimal,
    unit: Decimal = CENT,
) -> TaxGap | None:
    if rate is None or not taxes or rate.is_nan():
        return None
    stated = sum((t.amount.amount for t in taxes), Decimal(0))
    computed = base * rate / (1 + rate) if inclusive else base * rate
    tolerance = unit * len(taxes) * max(Decimal(1), units.copy_abs())
    if abs(stated - computed) <= tolerance:
        return None
    return TaxGap(subject, base, rate, stated, computed.quantize(unit))


def tax_gaps(order: Order, draft: DocumentDraft, rates: Mapping[str, Decimal]) -> list[TaxGap]:
    """The lines of ``draft`` whose target-computed tax differs from the tax ``order`` states
    beyond rounding.  ``rates``: the mapping's known rates by target tax id (fractions)."""
    if any(not d.allocated for d in order.discounts):
        return []
    by_source = {line.source_line_id: line for line in draft.lines if line.source_line_id}
    gaps: list[TaxGap] = []
    inclusive = order.taxes_included
    # A line's tax is rounded to the currency's unit at the source: a cent, or more (a yen);
    # never tighter than a cent (3-decimal currencies keep the tolerance they had).
    unit = max(CENT, smallest_unit(order.currency))
    for line in order.lines:
        planned = by_source.get(line.line_id)
        if planned is None or planned.tax_id is None or not line.taxable:
            continue
        rate = _rate(line.taxes, planned.tax_id, rates)
        found = _gap(f"line {line.line_id} ({line.title})", line.net.amount, line.taxes, rate,
                     inclusive, line.quantity, unit)  # fmt: skip
        if found is not None:
            gaps.append(found)
    for index, ship in enumerate(order.shipping_lines, start=1):
        planned = by_source.get(f"shipping:{index}")
        tax_id = planned.tax_id if planned is not None else draft.shipping_tax_id
        if planned is None and (draft.shipping_charge is None or len(order.shipping_lines) > 1):
            continue  # one charge for several shipping lines: checked as lines only
        if tax_id is None:
            continue
        rate = _rate(ship.taxes, tax_id, rates)
        found = _gap(f"shipping {index} ({ship.title})", ship.net.amount, ship.taxes, rate,
                     inclusive, Decimal(1), unit)  # fmt: skip
        if found is not None:
            gaps.append(found)
    return gaps


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def check_taxes(order: Order, draft: DocumentDraft, rates: Mapping[str, Decimal]) -> None:
    """Raise ``TotalsMismatch`` (the order is parked, nothing written) when the target's
    own tax arithmetic would put the document total off the source's beyond rounding."""
    gaps = tax_gaps(order, draft, rates)
    difference = sum((g.difference for g in gaps), Decimal(0))
    ceiling = gap_ceiling(order.currency)
    if abs(difference) <= ceiling:
        return
    unit = smallest_unit(order.currency)
    stated = order.totals.total.amount
    lines = "; ".join(
        f"{g.subject}: tax stated {g.stated} but {_percent(g.rate)} of {g.base} is {g.computed}"
        for g in gaps
    )
    raise TotalsMismatch(
        f"order {order.number}: {lines}. The target computes tax from the rate, so its total "
        f"would be {(stated - difference).quantize(unit)} instead of {stated} {order.currency}; "
        "parked before anything was written. Check the order's taxes at the source, or the "
        "rate of the tax it maps to (lookups.taxes), then replay",
        platform=order.source.platform,
        computed=(stated - difference).quantize(unit),
        stated=stated,
        difference=difference.quantize(unit),
        tolerance=ceiling,
        currency=order.currency,
        details={"lines": [g.subject for g in gaps]},
    )


_RATES: dict[int, tuple[object, dict[str, Decimal]]] = {}


def mapped_rates(mapping: object) -> dict[str, Decimal]:
    """Target tax id -> rate, for the mapping's tax entries that state one (computed once per
    mapping).  A tax id listed with two different rates is left out: its rate is unknown."""
    cached = _RATES.get(id(mapping))
    if cached is not None and cached[0] is mapping:
        return cached[1]
    try:
        entries = mapping.lookups.taxes.entries  # type: ignore[attr-defined]
    except AttributeError:
        entries = []
    rates: dict[str, Decimal] = {}
    ambiguous: set[str] = set()
    for entry in entries:
        rate, tax_id = getattr(entry, "rate", None), getattr(entry, "tax_id", None)
        if rate is None or not tax_id:
            continue
        if rates.setdefault(str(tax_id), Decimal(str(rate))) != Decimal(str(rate)):
            ambiguous.add(str(tax_id))
    for tax_id in ambiguous:
        del rates[tax_id]
    if len(_RATES) > 64:
        _RATES.clear()
    _RATES[id(mapping)] = (mapping, rates)
    return rates


__all__ = ["TAX_GAP_CEILING", "TaxGap", "check_taxes", "gap_ceiling", "mapped_rates", "tax_gaps"]
