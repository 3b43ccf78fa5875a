"""Planning under the ``fulfilled`` posting trigger: one invoice per shipment.

Each shipped fulfilment becomes an invoice holding exactly what it shipped
(``canonical/shipped.py`` cuts the order, discounts and taxes allocated so the
invoices of a fully shipped order add up to it to the cent; shipping on the first).
An unshipped remainder that is cancelled is never invoiced.

Money received is applied across the order's invoices oldest first.  A payment is
recorded once the invoices can take all of it -- or once nothing more will ship (all
shipped, the order completed or cancelled), the rest then left unapplied as the
customer's credit -- so one capture of the whole order is one payment applied across
its shipments, and a capture per shipment is recorded with its shipment.

A refund is a credit note per invoice that shipped its refunded units (latest first,
so no credit note exceeds its invoice); shipping and amount-only refunds go on the
invoice that shipped its first refunded line (the first invoice when none).  Units
cancelled before they shipped (the remainder of a partly shipped order) were never
invoiced: nothing is credited for them, and the money returned for them comes off the
payment it went back from -- a cancelled remainder posts nothing more.

An edit after a shipment was invoiced: the invoice is never rewritten; what later
shipments cannot absorb (a line taken below what the invoices hold, a changed unit
price) gets an adjusting document beside it (``shipment_edits.py``,
``shipment_adjust.py``), and supplementary invoices take payments like the others.

Pure, like ``planner.py``, which calls ``plan_fulfilments`` for this trigger.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..canonical import Money, Order, OrderStatus, Payment, Refund, RefundLine
from ..canonical.shipped import line_figures, shipped_quantities, split_by_fulfilment
from ..plan import BusinessKey, DocumentKind, Link
from .shipment_adjust import extra_invoices, plan_adjustments
from .shipment_edits import booked, edits_prior, price_changes, settle, split_figures
from .taxcheck import check_taxes, mapped_rates

if TYPE_CHECKING:
    from .planner import MappingRuntime, Plan, PriorState


def fulfilment_link(order: Order, fulfilment_id: str, target_id: str | None = None) -> Link:
    return Link(key=f"document:{order.source.key}:fulfilment:{fulfilment_id}", target_id=target_id)


def fulfilment_prior(found: list[Any]) -> dict[str, Any]:
    """The ``PriorState`` fields this module reads, from an order's bindings: posted
    fulfilment invoices (id -> (target id, snapshot)) and what payments applied to each."""
    invoices = {
        b.external_id: (b.target_id, dict(b.snapshot))
        for b in found
        if b.entity == "fulfillment" and b.target_kind == "invoice"
    }
    applied: dict[str, Decimal] = {}
    for b in found:
        if b.entity == "payment":
            for fid, amount in (b.snapshot or {}).get("applied", {}).items():
                applied[fid] = applied.get(fid, Decimal(0)) + Decimal(str(amount))
    edits = edits_prior(found)
    for fid, mine in edits["fulfilment_edits"].items():  # edit credit notes applied
        applied[fid] = applied.get(fid, Decimal(0)) + mine["applied"]
    return {"fulfilment_invoices": invoices, "fulfilment_applied": applied, **edits}


def plan_fulfilments(plan: Plan, order: Order, runtime: MappingRuntime, prior: PriorState) -> None:
    """The writes of ``order`` under the fulfilled trigger (``plan`` has its contact)."""
    from .planner import Operation, PlannedWrite

    order = _never_shipped(order)
    invoices: list[list[Any]] = []  # [fulfilment id, link, open balance, line ids]
    items = {i.link.key: i for i in plan.items}
    done = prior.fulfilment_invoices
    seqs = {fid: int(snap.get("seq", 0)) for fid, (_, snap) in done.items()}
    seq = max(seqs.values(), default=0)
    # What the posted invoices hold now (with their adjustments); a changed unit price
    # re-prices their units (shipment_edits.py), later shipments share what remains.
    rows = booked(order, done, prior.fulfilment_edits)
    deltas = price_changes(order, rows)
    figures = {fid: figs for fid, figs in split_figures(done, rows).items() if figs}
    in_order = sorted(done, key=lambda f: seqs[f])
    fresh: list[Order] = []
    for fulfilment, part in split_by_fulfilment(order, in_order, figures):
        fid = fulfilment.external_id
        posted = done.get(fid)
        link = fulfilment_link(order, fid, posted[0] if posted else None)
        line_ids = {line.line_id: line.quantity for line in part.lines}
        if posted is not None:
            balance = Decimal(str(posted[1].get("total", "0")))
            invoices.append([fid, link, balance - prior.fulfilment_applied.get(fid, 0), line_ids])
            continue
        seq += 1
        fresh.append(part)
        decided = runtime.line_decisions(part)
        for item in runtime.items(part, plan.trace, decided):
            items.setdefault(item.link.key, item)
        draft = runtime.document(part, DocumentKind.INVOICE, plan.trace, decided)
        draft = draft.model_copy(
            update={
                "key": BusinessKey(
                    reference=f"{draft.key.reference}-{seq}",
                    source_key=f"{order.source.key}:fulfilment:{fid}",
                )
            }
        )
        check_taxes(part, draft, mapped_rates(runtime.mapping))
        total = part.totals.total.amount
        plan.writes.append(
            PlannedWrite(
                Operation.CREATE_DOCUMENT, "fulfillment", fid, "invoice",
                f"order {order.number} shipment {seq} ({fid}): invoice for {total}",
                draft=draft, produces=link, expected_total=total,
                snapshot={
                    "total": str(total), "seq": seq, "order": order.source.external_id,
                    "lines": {x.line_id: line_figures(x) for x in part.lines},
                },
            )
        )  # fmt: skip
        invoices.append([fid, link, total, line_ids])
    plan.items = list(items.values())
    invoices += extra_invoices(order, prior.fulfilment_edits, prior.fulfilment_applied)
    settle(order, rows, in_order, fresh, deltas)  # lines with nothing more to ship
    edits = prior.fulfilment_edits
    plan_adjustments(plan, order, runtime, done, edits, rows, deltas, invoices)
    _payments(plan, order, runtime, prior, invoices)
    _refunds(plan, order, runtime, prior, invoices)


def _never_shipped(order: Order) -> Order:
    """Refund lines for units that never shipped count as cancelled even when the source
    did not say ``CANCEL`` (a refund without restock): they were never invoiced (nothing to
    credit), and the money returned for them comes off the payment -- else it was booked
    nowhere.  Refunded units take the line's unshipped remainder first (a shop does not
    ship units it refunded), so the reading holds as later parts ship; a return (restock)
    is of goods that shipped and stays a credit note."""
    shipped: dict[str, Decimal] = {}
    for f in order.fulfilments:
        if f.shipped:
            for line_id, q in shipped_quantities(order, f).items():
                shipped[line_id] = shipped.get(line_id, Decimal(0)) + q
    left = {x.line_id: x.quantity - shipped.get(x.line_id, Decimal(0)) for x in order.lines}
    refunds = []
    for refund in order.refunds:
        lines = []
        for given in refund.lines:
            line = given
            free = left.get(line.line_id or "", Decimal(0))
            if not (line.cancelled or line.restock) and line.line_id and 0 < free < line.quantity:
                shipped_part, line = _split_line(line, line.quantity - free)
                lines.append(shipped_part)  # the shipped units: a credit note
            if not (line.cancelled or line.restock) and line.line_id and 0 < line.quantity <= free:
                line = line.model_copy(update={"cancelled": True})
            if line.cancelled and line.line_id in left:
                left[line.line_id] -= line.quantity
            lines.append(line)
        refunds.append(refund.model_copy(update={"lines": tuple(lines)}))
    return order.model_copy(update={"refunds": tuple(refunds)})


def _split_line(line: RefundLine, units: Decimal) -> tuple[RefundLine, RefundLine]:
    """``line`` as ``units`` of it and the rest, money prorated to the cent (the rest takes
    what rounding leaves, so the two add up to the line exactly)."""

    def part(money: Money) -> Money:
        return (money * (units / line.quantity)).rounded()

    first = line.model_copy(
        update={
            "quantity": units,
            "subtotal": part(line.subtotal),
            "taxes": tuple(t.model_copy(update={"amount": part(t.amount)}) for t in line.taxes),
        }
    )
    rest = line.model_copy(
        update={
            "quantity": line.quantity - units,
            "subtotal": line.subtotal - first.subtotal,
            "taxes": tuple(
                t.model_copy(update={"amount": t.amount - f.amount})
                for t, f in zip(line.taxes, first.taxes, strict=True)
            ),
        }
    )
    return first, rest


def _cancelled(order: Order) -> dict[str, Decimal]:
    """Line id -> units cancelled before they shipped (refund lines marked ``cancelled``)."""
    out: dict[str, Decimal] = {}
    for refund in order.refunds:
        for line in refund.lines:
            if line.cancelled and line.line_id:
                out[line.line_id] = out.get(line.line_id, Decimal(0)) + line.quantity
    return out


def _nothing_more_ships(order: Order) -> bool:
    """All shipped or cancelled, or the order itself closed: no invoice is still to come."""
    if order.is_cancelled or order.status is OrderStatus.COMPLETED:
        return True
    cancelled = _cancelled(order)
    shipped: dict[str, Decimal] = {}
    for f in order.fulfilments:
        if f.shipped:
            for line_id, q in shipped_quantities(order, f).items():
                shipped[line_id] = shipped.get(line_id, Decimal(0)) + q
    return all(
        shipped.get(x.line_id, Decimal(0)) + cancelled.get(x.line_id, Decimal(0)) >= x.quantity
        for x in order.lines
    )


def _cancel_money(order: Order, refund: Refund) -> Decimal:
    """What ``refund`` returns for units that never shipped (lines plus their taxes)."""
    amount = Decimal(0)
    for line in refund.lines:
        if line.cancelled:
            amount += line.subtotal.amount
            if not order.taxes_included:
                amount += sum((t.amount.amount for t in line.taxes), Decimal(0))
    return min(amount, refund.money_returned.amount)


def _payments(
    plan: Plan, order: Order, runtime: MappingRuntime, prior: PriorState, invoices: list[Any]
) -> None:
    """Each payment once the invoices can take it (or nothing more ships), applied oldest
    invoice first.  Money returned for cancelled, never-shipped units was never invoiced:
    it is taken off the payment it went back from (the refund transaction's parent, else
    the first payment), so the payment records the money that stayed."""
    from .planner import Operation, PlannedWrite

    final = _nothing_more_ships(order)
    paying = [p for p in order.payments if p.is_money_in and p.external_id not in prior.payments]
    paying.sort(key=_when)
    returned: dict[str, Decimal] = {}
    for refund in order.refunds:
        cancelled = _cancel_money(order, refund)
        if cancelled > 0 and paying:
            out = next((t for t in refund.transactions if t.is_money_out), None)
            ids = {p.external_id for p in paying}
            parent = out.parent_id if out is not None and out.parent_id in ids else None
            key = parent or paying[0].external_id
            returned[key] = returned.get(key, Decimal(0)) + cancelled
    for payment in paying:
        amount = payment.amount.amount - returned.get(payment.external_id, Decimal(0))
        if amount <= 0:
            continue
        if amount > sum((inv[2] for inv in invoices), Decimal(0)) and not final:
            continue  # waits for more shipments to apply to
        applied: list[tuple[Link, Decimal]] = []
        shares: dict[str, str] = {}
        left = amount
        for inv in invoices:  # oldest first
            take = min(left, inv[2])
            if take > 0:
                applied.append((inv[1], take))
                shares[inv[0]] = str(take)
                inv[2] -= take
                left -= take
        draft = runtime.payment(order, payment, None, plan.trace)
        draft = draft.model_copy(update={"amount": amount, "applied_to": tuple(applied)})
        plan.writes.append(
            PlannedWrite(
                Operation.RECORD_PAYMENT, "payment", payment.external_id, "customer_payment",
                f"{payment.kind.value} {amount} {order.currency} applied across "
                f"{len(applied)} invoice(s)",
                draft=draft, snapshot={"amount": str(amount), "applied": shares},
            )
        )  # fmt: skip


def _when(payment: Payment) -> tuple[bool, Any, str]:
    return (payment.processed_at is None, payment.processed_at, payment.external_id)


def _refunds(
    plan: Plan, order: Order, runtime: MappingRuntime, prior: PriorState, invoices: list[Any]
) -> None:
    """Credit notes per refund of what was invoiced, one per invoice that shipped it;
    cancelled (never shipped) units are left out: they were never invoiced."""
    from .planner import Operation, PlannedWrite, credit_note_link

    credited: dict[tuple[str, str], Decimal] = {}  # (fulfilment, line) -> units credited
    for whole in order.refunds:
        money = whole.money_returned.amount - _cancel_money(order, whole)
        for k, (cut, against) in enumerate(_per_invoice(whole, invoices, credited)):
            rid = whole.source.external_id if k == 0 else f"{whole.source.external_id}:{against[0]}"
            refund = cut.model_copy(
                update={"source": cut.source.model_copy(update={"external_id": rid})}
            )
            credit = refund.credit_total.amount
            if credit <= 0:
                continue
            cn_link = credit_note_link(order, rid, prior.credit_notes.get(rid))
            if rid not in prior.credit_notes:
                plan.writes.append(
                    PlannedWrite(
                        Operation.CREATE_CREDIT_NOTE, "refund", rid, "credit_note",
                        f"refund {rid}: credit note for {credit} {order.currency} against "
                        f"shipment {against[0]}",
                        draft=runtime.credit_note(order, refund, against[1], plan.trace),
                        produces=cn_link, expected_total=credit, snapshot={"credit": str(credit)},
                    )
                )  # fmt: skip
            returned = min(money, credit)
            money -= max(returned, Decimal(0))
            if returned > 0 and rid not in prior.credit_refunds:
                draft = runtime.credit_refund(order, whole, cn_link, plan.trace)
                if draft is not None:
                    plan.writes.append(
                        PlannedWrite(
                            Operation.REFUND_CREDIT, "refund", rid, "credit_refund",
                            f"refund {rid}: {returned} {order.currency} paid back",
                            draft=draft.model_copy(update={"amount": returned}),
                            expect_balance_after=credit - returned,
                            snapshot={"amount": str(returned)},
                        )
                    )  # fmt: skip


def _per_invoice(
    whole: Refund, invoices: list[Any], credited: dict[tuple[str, str], Decimal]
) -> list[tuple[Refund, Any]]:
    """``whole`` (less its cancelled lines) cut per invoice that shipped its units: each
    refunded line's units are credited against the latest invoices that shipped them and
    are not credited yet (``credited``, across the order's refunds), so no credit note
    exceeds its invoice.  The first part (the invoice ``_invoice_for`` picks) also takes
    shipping and adjustment; units beyond what shipped stay on it too."""
    refund = whole.model_copy(update={"lines": tuple(x for x in whole.lines if not x.cancelled)})
    first = _invoice_for(refund, invoices)
    if first is None:
        return []
    parts: dict[str, list[Any]] = {first[0]: []}
    by_id = {inv[0]: inv for inv in invoices}
    for line in refund.lines:
        rest: RefundLine | None = line
        for inv in reversed(invoices) if line.line_id else []:
            if rest is None:
                break
            at = (str(inv[0]), line.line_id or "")
            room = inv[3].get(line.line_id, Decimal(0)) - credited.get(at, Decimal(0))
            take = min(room, rest.quantity)
            if take <= 0:
                continue
            if take < rest.quantity:  # the earlier units rounded, as the invoices' shares are
                rest, piece = _split_line(rest, rest.quantity - take)
            else:
                piece, rest = rest, None
            credited[at] = credited.get(at, Decimal(0)) + take
            parts.setdefault(inv[0], []).append(piece)
        if rest is not None:
            parts[first[0]].append(rest)
    out = []
    for fid, lines in parts.items():
        extra = (
            {} if fid == first[0] else {"shipping": None, "shipping_taxes": (), "adjustment": None}
        )
        out.append((refund.model_copy(update={"lines": tuple(lines), **extra}), by_id[fid]))
    return out


def _invoice_for(refund: Refund, invoices: list[Any]) -> Any:
    """The invoice a refund credits: the latest that shipped its first refunded line; the
    first invoice for a refund of shipping or an amount only; None when it refunds only
    what never shipped."""
    if not invoices:
        return None
    lined = [line.line_id for line in refund.lines if line.line_id]
    if not lined:
        return invoices[0]
    for inv in reversed(invoices):
        if lined[0] in inv[3]:
            return inv
    return invoices[0] if refund.shipping is not None else None


__all__ = ["fulfilment_link", "fulfilment_prior", "plan_fulfilments"]
