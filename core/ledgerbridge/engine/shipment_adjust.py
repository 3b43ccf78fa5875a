"""Edits after posting under the ``fulfilled`` trigger: the adjusting documents.

``shipment_edits.py`` works out, per posted shipment invoice and line, what an edit
changed; this module writes it beside the invoice: a credit note for what went down
(applied to the invoice's open balance, when it has one), a supplementary invoice
(reference ``<invoice reference>-E<n>``) for what went up, each bound under entity
``fulfillment`` with the invoice's cumulative adjustments -- its new baseline.

Pure, like ``fulfilments.py``, which calls it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..canonical import Money, Order, OrderLine, Refund, RefundLine, SourceRef, TaxLine
from ..canonical.money import minor_units
from ..plan import BusinessKey, CreditApplication, DocumentKind, Link
from .shipment_edits import Delta, Row, money, plus, stored, stored_delta

if TYPE_CHECKING:
    from .planner import MappingRuntime, Plan

ZERO = Decimal(0)


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
        totals = {lid: stored_delta(v) for lid, v in (snap.get("lines") or {}).items()}
        prices = {lid: v["price"] for lid, v in (snap.get("lines") or {}).items() if "price" in v}
        down = {lid: d for lid, d in deltas[fid].items() if money(d, included) < 0}
        up = {lid: d for lid, d in deltas[fid].items() if money(d, included) > 0}
        seq = int(snap.get("seq", 0))
        target_id, posted = done[fid]
        against = fulfilment_link(order, fid, target_id)
        for kind, group in (("edit_credit_note", down), ("edit_invoice", up)):
            if not group:
                continue
            seq += 1
            for lid, d in group.items():
                totals[lid] = plus(totals.get(lid, Delta()), d)
                if d.price is not None:
                    prices[lid] = str(d.price)
            snapshot = {
                "seq": seq, "order": order.source.external_id, "version": order.source.version,
                "lines": {lid: stored(t, prices.get(lid)) for lid, t in totals.items()},
            }  # fmt: skip
            what = f"order {order.number} edited after shipment {posted.get('seq')} ({fid})"
            if kind == "edit_credit_note":
                seq = _credit_note(plan, order, runtime, fid, what, group, rows[fid],
                                   against, by_fid.get(fid), mine, snapshot)  # fmt: skip
            else:
                _supplementary(plan, order, runtime, fid, what, group, rows[fid], posted,
                               mine, snapshot, invoices)  # fmt: skip


def _credit_note(
    plan: Plan,
    order: Order,
    runtime: MappingRuntime,
    fid: str,
    what: str,
    group: dict[str, Delta],
    rows: dict[str, Row],
    against: Link,
    inv: list[Any] | None,
    mine: dict[str, Any],
    snapshot: dict[str, Any],
) -> int:
    """The credit note of what went down on invoice ``fid``, and its application to the
    invoice's open balance (``inv[2]``, reduced); returns the last ``seq`` used."""
    from .planner import Operation, PlannedWrite, credit_note_link

    seq = int(snapshot["seq"])
    rid = f"{fid}:edit:{seq}"
    refund = Refund(
        source=SourceRef(platform=order.source.platform, store=order.source.store,
                         external_id=rid),
        created_at=order.updated_at, processed_at=order.updated_at,
        lines=tuple(_credit_line(lid, d, rows[lid], order.currency) for lid, d in group.items()),
        taxes_included=order.taxes_included, reason=f"order {order.number} edited",
    )  # fmt: skip
    credit = refund.credit_total.amount
    link = credit_note_link(order, rid)
    draft = runtime.credit_note(order, refund, against, plan.trace)
    source_key = f"{order.source.key}:fulfilment:{rid}"
    key = BusinessKey(reference=draft.key.reference, source_key=source_key)
    plan.writes.append(
        PlannedWrite(
            Operation.CREATE_CREDIT_NOTE, "fulfillment", fid, "edit_credit_note",
            f"{what}: credit note for {credit} {order.currency}",
            draft=draft.model_copy(update={"key": key}), produces=link, versioned=True,
            expected_total=credit, snapshot=snapshot,
        )
    )  # fmt: skip
    take = min(credit, inv[2]) if inv is not None else ZERO
    if inv is None or take <= 0:
        return seq
    inv[2] -= take
    applied = mine.get("applied", ZERO) + take
    plan.writes.append(
        PlannedWrite(
            Operation.APPLY_CREDIT, "fulfillment", fid, "edit_credit_application",
            f"{what}: {take} {order.currency} of its credit note applied to the open invoice",
            draft=CreditApplication(credit_note=link, document=against, amount=take),
            versioned=True, expect_balance_after=credit - take,
            snapshot={**snapshot, "seq": seq + 1, "applied": str(applied)},
        )
    )  # fmt: skip
    return seq + 1


def _supplementary(
    plan: Plan,
    order: Order,
    runtime: MappingRuntime,
    fid: str,
    what: str,
    group: dict[str, Delta],
    rows: dict[str, Row],
    posted: dict[str, Any],
    mine: dict[str, Any],
    snapshot: dict[str, Any],
    invoices: list[list[Any]],
) -> None:
    """The supplementary invoice of what went up on invoice ``fid`` (reference
    ``<its reference>-E<n>``), added to ``invoices`` for the payments to apply to."""
    from .planner import Operation, PlannedWrite

    seq, cur = int(snapshot["seq"]), order.currency
    amount = sum((money(d, order.taxes_included) for d in group.values()), ZERO)
    part = order.model_copy(
        update={"lines": tuple(_added_line(order.lines, lid, d, rows[lid], cur)
                               for lid, d in group.items()),
                "shipping_lines": (), "fees": (), "tax_lines": (), "discounts": (),
                "rounding_adjustment": None, "payments": (), "refunds": (), "fulfilments": ()}
    )  # fmt: skip
    draft = runtime.document(part, DocumentKind.INVOICE, plan.trace)
    reference = f"{draft.key.reference}-{posted.get('seq')}-E{seq}"
    source_key = f"{order.source.key}:fulfilment:{fid}:E{seq}"
    draft = draft.model_copy(
        update={"key": BusinessKey(reference=reference, source_key=source_key)}
    )
    link = Link(key=f"document:{source_key}")
    earlier = [list(e) for e in mine.get("extra", [])]
    plan.writes.append(
        PlannedWrite(
            Operation.CREATE_DOCUMENT, "fulfillment", fid, "edit_invoice",
            f"{what}: supplementary invoice {reference} for {amount} {cur}",
            draft=draft, produces=link, versioned=True, expected_total=amount,
            snapshot={**snapshot, "n": seq, "amount": str(amount), "earlier": earlier},
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


__all__ = ["extra_invoices", "plan_adjustments"]
