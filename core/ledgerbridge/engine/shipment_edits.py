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

Pure, like ``fulfilments.py``, which calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from ..canonical import Money, Order, OrderLine, Refund, RefundLine, SourceRef, TaxLine
from ..canonical.money import minor_units
from ..plan import BusinessKey, CreditApplication, DocumentKind, Link

if TYPE_CHECKING:
    from .planner import MappingRuntime, Plan

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

    def money(self, included: bool) -> Decimal:
        return self.net if included else self.net + sum(self.taxes, ZERO)


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
                _add(row, _delta(adj[lid]))
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


def plan_adjustments(
    plan: Plan,
    order: Order,
    runtime: MappingRuntime,
    done: dict[str, tuple[str, dict[str, Any]]],
    edits: dict[str, Any],
    rows: dict[str, dict[str, Row]],
    deltas: dict[str, dict[str, Delta]],
    invoices: list[list[Any]],
) -> None:
    """The adjusting documents of ``deltas``, per invoice in posting order: a credit note
    for what went down (applied to the invoice's open balance), a supplementary invoice
    for what went up (added to ``invoices``, for payments)."""
    from .fulfilments import fulfilment_link
    from .planner import Operation, PlannedWrite, credit_note_link

    included = order.taxes_included
    by_fid = {inv[0]: inv for inv in invoices}
    gone = [
        _as_line(lid, rows[fid][lid], order.currency)
        for fid, lines in deltas.items() for lid in lines
        if lid not in {x.line_id for x in order.lines}
    ]  # fmt: skip
    if gone:  # lines the edit removed: their items, for the credit note's lines
        known = {i.link.key for i in plan.items}
        past = order.model_copy(update={"lines": tuple({x.line_id: x for x in gone}.values())})
        plan.items += [i for i in runtime.items(past, plan.trace) if i.link.key not in known]
    for fid in sorted(deltas, key=lambda f: int(done[f][1].get("seq", 0))):
        mine = edits.get(fid) or {}
        snap = dict(mine.get("snap") or {})
        totals = {lid: _delta(v) for lid, v in (snap.get("lines") or {}).items()}
        prices = {lid: v["price"] for lid, v in (snap.get("lines") or {}).items() if "price" in v}
        down = {lid: d for lid, d in deltas[fid].items() if _money(d, included) < 0}
        up = {lid: d for lid, d in deltas[fid].items() if _money(d, included) > 0}
        seq = int(snap.get("seq", 0))
        target_id, posted = done[fid]
        against = fulfilment_link(order, fid, target_id)
        for kind, group in (("edit_credit_note", down), ("edit_invoice", up)):
            if not group:
                continue
            seq += 1
            for lid, d in group.items():
                totals[lid] = _plus(totals.get(lid, Delta()), d)
                if d.price is not None:
                    prices[lid] = str(d.price)
            snapshot = {
                "seq": seq, "order": order.source.external_id, "version": order.source.version,
                "lines": {lid: _row(t, prices.get(lid)) for lid, t in totals.items()},
            }  # fmt: skip
            amount = sum((_money(d, included) for d in group.values()), ZERO)
            what = f"order {order.number} edited after shipment {posted.get('seq')} ({fid})"
            if kind == "edit_credit_note":
                rid = f"{fid}:edit:{seq}"
                refund = Refund(
                    source=SourceRef(platform=order.source.platform, store=order.source.store,
                                     external_id=rid),
                    created_at=order.updated_at, processed_at=order.updated_at,
                    lines=tuple(_credit_line(lid, d, rows[fid][lid], order.currency)
                                for lid, d in group.items()),
                    taxes_included=included, reason=f"order {order.number} edited",
                )  # fmt: skip
                credit = refund.credit_total.amount
                link = credit_note_link(order, rid)
                draft = runtime.credit_note(order, refund, against, plan.trace)
                draft = draft.model_copy(update={"key": BusinessKey(
                    reference=draft.key.reference,
                    source_key=f"{order.source.key}:fulfilment:{fid}:edit:{seq}")})  # fmt: skip
                plan.writes.append(
                    PlannedWrite(
                        Operation.CREATE_CREDIT_NOTE, "fulfillment", fid, kind,
                        f"{what}: credit note for {credit} {order.currency}",
                        draft=draft, produces=link, versioned=True, expected_total=credit,
                        snapshot=snapshot,
                    )
                )  # fmt: skip
                inv = by_fid.get(fid)
                take = min(credit, inv[2]) if inv is not None else ZERO
                if inv is not None and take > 0:
                    inv[2] -= take
                    seq += 1
                    applied = mine.get("applied", ZERO) + take
                    plan.writes.append(
                        PlannedWrite(
                            Operation.APPLY_CREDIT, "fulfillment", fid,
                            "edit_credit_application",
                            f"{what}: {take} {order.currency} of its credit note applied to "
                            "the open invoice",
                            draft=CreditApplication(credit_note=link, document=against,
                                                    amount=take),
                            versioned=True, expect_balance_after=credit - take,
                            snapshot={**snapshot, "seq": seq, "applied": str(applied)},
                        )
                    )  # fmt: skip
                continue
            extra = [list(e) for e in mine.get("extra", [])]
            part = order.model_copy(
                update={"lines": tuple(_added_line(order.lines, lid, d, rows[fid][lid],
                                                   order.currency) for lid, d in group.items()),
                        "shipping_lines": (), "fees": (), "tax_lines": (), "discounts": (),
                        "rounding_adjustment": None, "payments": (), "refunds": (),
                        "fulfilments": ()}
            )  # fmt: skip
            draft = runtime.document(part, DocumentKind.INVOICE, plan.trace)
            reference = f"{draft.key.reference}-{posted.get('seq')}-E{seq}"
            source_key = f"{order.source.key}:fulfilment:{fid}:E{seq}"
            draft = draft.model_copy(
                update={"key": BusinessKey(reference=reference, source_key=source_key)}
            )
            link = Link(key=f"document:{source_key}")
            plan.writes.append(
                PlannedWrite(
                    Operation.CREATE_DOCUMENT, "fulfillment", fid, kind,
                    f"{what}: supplementary invoice {reference} for {amount} {order.currency}",
                    draft=draft, produces=link, versioned=True, expected_total=amount,
                    snapshot={**snapshot, "n": seq, "amount": str(amount), "earlier": extra},
                )
            )  # fmt: skip
            invoices.append([f"{fid}:E{seq}", link, amount, {}])


def extra_invoices(
    order: Order, edits: dict[str, Any], applied: dict[str, Decimal]
) -> list[list[Any]]:
    """Supplementary invoices posted before, as entries of the payments' invoice list
    ([key, link, open balance, lines]), in the order they were written."""
    out = []
    for fid, mine in edits.items():
        for n, target_id, amount in mine.get("extra", []):
            key = f"{fid}:E{n}"
            link = Link(key=f"document:{order.source.key}:fulfilment:{key}", target_id=target_id)
            out.append([key, link, Decimal(str(amount)) - applied.get(key, ZERO), {}])
    return out


def _credit_line(lid: str, d: Delta, row: Row, currency: str) -> RefundLine:
    return RefundLine(
        line_id=lid, quantity=-d.q if d.q else d.units or Decimal(1), sku=row.meta.get("sku"),
        title=row.meta.get("title"), subtotal=Money(amount=-d.net, currency=currency),
        taxes=_taxes(row, [-t for t in d.taxes], currency),
    )  # fmt: skip


def _added_line(
    lines: tuple[OrderLine, ...], lid: str, d: Delta, row: Row, currency: str
) -> OrderLine:
    """A supplementary invoice's line: the units re-priced at the difference (one line of
    the whole amount when it does not divide into cents per unit)."""
    units = d.q if d.q > 0 else d.units or Decimal(1)
    price = d.net / units
    if price.quantize(Decimal(1).scaleb(-minor_units(currency))) != price:
        units, price = Decimal(1), d.net
    base = next((x for x in lines if x.line_id == lid), None) or _as_line(lid, row, currency)
    return base.model_copy(
        update={
            "quantity": units,
            "unit_price": Money(amount=price, currency=currency),
            "discount": None,
            "taxes": _taxes(row, d.taxes, currency),
        }
    )


def _taxes(row: Row, amounts: list[Decimal], currency: str) -> tuple[TaxLine, ...]:
    meta = row.meta.get("tax") or []
    return tuple(
        TaxLine(title=meta[j][0] if j < len(meta) else "Tax",
                rate=Decimal(meta[j][1]) if j < len(meta) and meta[j][1] else None,
                amount=Money(amount=a, currency=currency))
        for j, a in enumerate(amounts) if a != 0
    )  # fmt: skip


def _as_line(lid: str, row: Row, currency: str) -> OrderLine:
    """A line the edit removed, as the order line it was (for its item)."""
    return OrderLine(
        line_id=lid, title=row.meta.get("title") or lid, quantity=row.q or Decimal(1),
        unit_price=Money(amount=row.price, currency=currency), sku=row.meta.get("sku"),
        taxes=_taxes(row, row.taxes, currency),
    )  # fmt: skip


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


def _plus(a: Delta, b: Delta) -> Delta:
    out = Delta(q=a.q, net=a.net, taxes=list(a.taxes), price=b.price or a.price)
    _add(out, b)
    return out


def _merge(out: dict[str, dict[str, Delta]], fid: str, lid: str, d: Delta) -> None:
    held = out.setdefault(fid, {})
    if lid in held:
        merged = _plus(held[lid], d)
        merged.units = held[lid].units
        held[lid] = merged
    else:
        held[lid] = d


def _part(amount: Decimal, take: Decimal, of: Decimal, unit: Decimal) -> Decimal:
    return amount if take == of else (amount * take / of).quantize(unit, ROUND_HALF_UP)


def _money(d: Delta, included: bool) -> Decimal:
    return d.net if included else d.net + sum(d.taxes, ZERO)


def _delta(v: dict[str, Any]) -> Delta:
    return Delta(q=Decimal(v["q"]), net=Decimal(v["net"]), taxes=[Decimal(t) for t in v["taxes"]])


def _row(d: Delta, price: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"q": str(d.q), "net": str(d.net), "taxes": [str(t) for t in d.taxes]}
    if price is not None:
        out["price"] = price
    return out


__all__ = [
    "booked",
    "edits_prior",
    "extra_invoices",
    "plan_adjustments",
    "price_changes",
    "settle",
    "split_figures",
]
