"""Edits after posting under the ``fulfilled`` trigger: adjust the shipments' invoices.

Under this trigger each shipment is an invoice, posted once and never rewritten, and
later shipments share what remains of an edited line (``canonical/shipped.py``).  Two
edits cannot be absorbed by a later shipment, so they get an adjusting document beside
the invoice that holds the units -- the edits-after-posting rule (``edits.py``):

- **a changed unit price**: units already invoiced at another price are adjusted by
  their quantity times the difference, the line's taxes in proportion (a credit note
  against their invoice when the price fell, a supplementary invoice when it rose);
  later shipments bill the line's current price.  Each invoice line keeps one clean
  unit price, and the documents add up to the edited order;
- **a settled line**: a line with nothing more to ship -- every unit it now has is on
  an invoice, or the edit removed it -- whose invoices (and adjustments) hold more or
  other than the line now (units taken off, a discount or tax changed after its last
  shipment).  Units come off its latest invoices first, each at that invoice's own
  per-unit figures; what rounding or a money-only change leaves goes on the last
  invoice touched (the latest holding the line when no unit comes off).

A credit note is applied to its invoice's open balance when the invoice has one (an
unpaid shipment), so later payments meet the reduced balance; against a paid invoice it
stays the customer's credit, as under the other triggers.  Each adjustment's binding
(entity ``fulfillment``, the invoice's fulfilment id; kinds ``edit_credit_note``,
``edit_invoice``, ``edit_credit_application``) stores that invoice's *cumulative*
adjustments, the latest by ``seq``: the new baseline, so a second edit is compared with
what the first left, and a re-run writes nothing.

This module works out the differences (pure figures); ``shipment_adjust.py`` writes
them.  Pure, like ``fulfilments.py``, which calls both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..canonical import Order, OrderLine
from ..canonical.money import minor_units

KINDS = ("edit_credit_note", "edit_invoice", "edit_credit_application")
ZERO = Decimal(0)


@dataclass
class Row:
    """What one invoice (with its adjustments) holds of one line."""

    q: Decimal
    net: Decimal  # after the line discount; tax-inclusive when the order is
    taxes: list[Decimal]
    price: Decimal
    meta: dict[str, Any] = field(default_factory=dict)  # title, sku, tax titles and rates


def edits_prior(found: list[Any]) -> dict[str, Any]:
    """``PriorState.fulfilment_edits``: per fulfilment id, its latest adjustment snapshot
    (``snap``) and the supplementary invoices written for it (``extra``: [n, id, total])."""
    out: dict[str, dict[str, Any]] = {}
    for b in found:
        if b.entity != "fulfillment" or b.target_kind not in KINDS:
            continue
        snap = dict(b.snapshot or {})
        mine = out.setdefault(b.external_id, {"snap": {}, "extra": [], "applied": ZERO})
        if int(snap.get("seq", 0)) > int(mine["snap"].get("seq", 0)):
            mine["snap"] = snap
        if b.target_kind == "edit_invoice":
            mine["extra"] = [*snap.get("earlier", []), [snap.get("n"), b.target_id, snap["amount"]]]
        if b.target_kind == "edit_credit_application":
            mine["applied"] = Decimal(str(snap.get("applied", "0")))
    return {"fulfilment_edits": out}


def booked(
    order: Order, done: dict[str, tuple[str, dict[str, Any]]], edits: dict[str, Any]
) -> dict[str, dict[str, Row]]:
    """Per posted invoice (fulfilment id) and line, what it holds now: its snapshot's
    figures plus its adjustments.  A line posted before prices were kept in the snapshot
    reads at the line's current price (what those invoices billed unless it changed)."""
    lines = {x.line_id: x for x in order.lines}
    out: dict[str, dict[str, Row]] = {}
    for fid, (_, snap) in done.items():
        adj = (edits.get(fid) or {}).get("snap", {}).get("lines", {})
        rows: dict[str, Row] = {}
        for lid, fig in (snap.get("lines") or {}).items():
            now = lines.get(lid)
            if "price" in fig:
                price = Decimal(fig["price"])
            elif now is not None:
                price = now.unit_price.amount
            else:
                continue  # removed, and no price kept: nothing to compare with
            q = Decimal(fig["q"])
            row = Row(
                q=q, net=price * q - Decimal(fig["discount"]),
                taxes=[Decimal(t) for t in fig["taxes"]], price=price,
                meta={"title": fig.get("title") or (now.title if now else lid),
                      "sku": fig.get("sku") if "sku" in fig else (now.sku if now else None),
                      "tax": fig.get("tax") or _tax_meta(now)},
            )  # fmt: skip
            if lid in adj:
                _add(row, stored_delta(adj[lid]))
                row.price = Decimal(adj[lid].get("price", row.price))
            rows[lid] = row
        out[fid] = rows
    return out


def split_figures(
    done: dict[str, tuple[str, dict[str, Any]]], rows: dict[str, dict[str, Row]]
) -> dict[str, dict[str, Any]]:
    """The figures ``split_by_fulfilment`` keeps for posted parts: their units and taxes
    as adjusted (later shipments share what the adjusted ones leave), their discount."""
    out: dict[str, dict[str, Any]] = {}
    for fid, (_, snap) in done.items():
        figs = snap.get("lines") or {}
        out[fid] = {
            lid: {**figs[lid], "q": str(row.q), "taxes": [str(t) for t in row.taxes]}
            for lid, row in rows.get(fid, {}).items()
        }
    return out


@dataclass
class Delta:
    q: Decimal = ZERO
    net: Decimal = ZERO
    taxes: list[Decimal] = field(default_factory=list)
    price: Decimal | None = None
    units: Decimal = ZERO  # the units a price change re-prices (for the document line)


def price_changes(order: Order, rows: dict[str, dict[str, Row]]) -> dict[str, dict[str, Delta]]:
    """Units invoiced at a unit price the line no longer has: q x (new - old), the line's
    taxes in proportion to its net.  ``rows`` are updated to the new price."""
    unit = Decimal(1).scaleb(-minor_units(order.currency))
    out: dict[str, dict[str, Delta]] = {}
    for line in order.lines:
        price, net = line.unit_price.amount, line.net.amount
        for fid, held in rows.items():
            row = held.get(line.line_id)
            if row is None or row.q <= 0 or row.price == price:
                continue
            dnet = row.q * (price - row.price)
            taxes = [
                (t.amount.amount * dnet / net).quantize(unit, ROUND_HALF_UP) if net else ZERO
                for t in line.taxes
            ]
            delta = Delta(net=dnet, taxes=taxes, price=price, units=row.q)
            _add(row, delta)
            row.price = price
            out.setdefault(fid, {})[line.line_id] = delta
    return out


def settle(
    order: Order,
    rows: dict[str, dict[str, Row]],
    posted_order: list[str],
    new_parts: list[Order],
    out: dict[str, dict[str, Delta]],
) -> None:
    """Lines with nothing more to ship whose invoices hold other than the line now: the
    difference, units off the latest invoices first (added to ``out``)."""
    unit = Decimal(1).scaleb(-minor_units(order.currency))
    lines = {x.line_id: x for x in order.lines}
    fresh: dict[str, Row] = {}
    for part in new_parts:
        for x in part.lines:
            r = fresh.setdefault(x.line_id, Row(ZERO, ZERO, [], x.unit_price.amount))
            _add(r, Delta(q=x.quantity, net=x.net.amount, taxes=[t.amount.amount for t in x.taxes]))
    ids = list(dict.fromkeys([*lines, *(lid for f in posted_order for lid in rows.get(f, {}))]))
    for lid in ids:
        held = [(fid, rows[fid][lid]) for fid in posted_order if lid in rows.get(fid, {})]
        if not held:
            continue
        line = lines.get(lid)
        have = Row(ZERO, ZERO, [], ZERO)
        for _, row in held:
            _add(have, Delta(q=row.q, net=row.net, taxes=row.taxes))
        if lid in fresh:
            _add(have, Delta(q=fresh[lid].q, net=fresh[lid].net, taxes=fresh[lid].taxes))
        quantity = line.quantity if line is not None else ZERO
        if have.q < quantity:
            continue  # more of it to ship: a later shipment takes what remains
        target = [t.amount.amount for t in line.taxes] if line is not None else []
        diff = Delta(
            q=quantity - have.q,
            net=(line.net.amount if line is not None else ZERO) - have.net,
            taxes=[_at(target, j) - _at(have.taxes, j) for j in range(_width(target, have.taxes))],
        )
        if diff.q == 0 and diff.net == 0 and not any(diff.taxes):
            continue
        left, touched = -diff.q, held[-1][0]
        rest = Delta(q=diff.q, net=diff.net, taxes=list(diff.taxes))
        for fid, row in reversed(held):
            take = min(left, row.q)
            if take <= 0:
                continue
            piece = Delta(
                q=-take,
                net=-_part(row.net, take, row.q, unit),
                taxes=[-_part(t, take, row.q, unit) for t in row.taxes],
            )
            _merge(out, fid, lid, piece)
            _sub(rest, piece)
            left -= take
            touched = fid
        if rest.net or any(rest.taxes):
            _merge(out, touched, lid, Delta(net=rest.net, taxes=rest.taxes))


def _tax_meta(line: OrderLine | None) -> list[list[str | None]]:
    if line is None:
        return []
    return [[t.title, str(t.rate) if t.rate is not None else None] for t in line.taxes]


def _at(values: list[Decimal], j: int) -> Decimal:
    return values[j] if j < len(values) else ZERO


def _width(*lists: list[Decimal]) -> int:
    return max((len(x) for x in lists), default=0)


def _add(row: Row | Delta, d: Delta) -> None:
    row.q += d.q
    row.net += d.net
    row.taxes = [_at(row.taxes, j) + _at(d.taxes, j) for j in range(_width(row.taxes, d.taxes))]


def _sub(row: Delta, d: Delta) -> None:
    _add(row, Delta(q=-d.q, net=-d.net, taxes=[-t for t in d.taxes]))


def plus(a: Delta, b: Delta) -> Delta:
    out = Delta(q=a.q, net=a.net, taxes=list(a.taxes), price=b.price or a.price)
    _add(out, b)
    return out


def _merge(out: dict[str, dict[str, Delta]], fid: str, lid: str, d: Delta) -> None:
    held = out.setdefault(fid, {})
    if lid in held:
        merged = plus(held[lid], d)
        merged.units = held[lid].units
        held[lid] = merged
    else:
        held[lid] = d


def _part(amount: Decimal, take: Decimal, of: Decimal, unit: Decimal) -> Decimal:
    return amount if take == of else (amount * take / of).quantize(unit, ROUND_HALF_UP)


def money(d: Delta, included: bool) -> Decimal:
    return d.net if included else d.net + sum(d.taxes, ZERO)


def stored_delta(v: dict[str, Any]) -> Delta:
    return Delta(q=Decimal(v["q"]), net=Decimal(v["net"]), taxes=[Decimal(t) for t in v["taxes"]])


def stored(d: Delta, price: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"q": str(d.q), "net": str(d.net), "taxes": [str(t) for t in d.taxes]}
    if price is not None:
        out["price"] = price
    return out


__all__ = [
    "KINDS",
    "Delta",
    "Row",
    "booked",
    "edits_prior",
    "money",
    "plus",
    "price_changes",
    "settle",
    "split_figures",
    "stored",
    "stored_delta",
]
