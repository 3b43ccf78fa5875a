"""Edits after posting: an adjusting credit note or invoice, never a silent divergence.

An order edited after its document was posted (lines added or removed, a Shopify
order edit) gets one defined outcome (``placed`` and ``paid`` triggers):

- unpaid and untouched in the target: the document is updated (``planner.py``; the
  executor's conflict check catches an edit made in the target);
- paid (or a sales receipt): the posted document stays as it is and the difference is
  posted beside it -- a credit note against it for what was removed or reduced, a
  supplementary invoice for what was added; both when an edit did both.

What was posted is the *baseline*: the document's snapshot, then each adjustment's
(the latest by ``seq``), holding per line its quantity, discount and taxes.  The
adjustment is the difference between the baseline and the order now, line by line, so
the documents together equal the order's new total to the cent (a residue the lines
do not explain -- a changed shipping charge, rounding -- goes into the adjustment's
``adjustment``).  A document posted before baselines existed has none: the change
stays a conflict for an operator, as before.

Under the ``fulfilled`` trigger invoices follow shipments: an edit changes what later
shipments invoice, and what they cannot absorb (units taken below what the shipments'
invoices hold, a changed unit price) is adjusted per invoice by ``shipment_edits.py``.

Pure: called by ``planner.plan_order``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..canonical import Money, Order, OrderLine, Refund, RefundLine, SourceRef, TaxLine
from ..plan import BusinessKey, DocumentKind, Link

if TYPE_CHECKING:
    from .planner import MappingRuntime, Plan, PostedDocument

EDIT_KINDS = ("edit_credit_note", "edit_invoice")


def line_state(order: Order) -> dict[str, Any]:
    """Per line what a document of ``order`` books: the baseline an edit is compared with."""
    return {
        line.line_id: {
            "q": str(line.quantity),
            "price": str(line.unit_price.amount),
            "disc": str(line.discount.amount if line.discount else 0),
            "taxes": [_tax_row(t) for t in line.taxes],
            "sku": line.sku,
            "title": line.title,
        }
        for line in order.lines
    }


def _tax_row(tax: TaxLine) -> list[str | None]:
    return [tax.title, str(tax.rate) if tax.rate is not None else None, str(tax.amount.amount)]


def edit_prior(found: list[Any]) -> dict[str, Any]:
    """``PriorState.edits``: the adjustments' snapshots by kind, from an order's bindings."""
    return {
        "edits": {
            b.target_kind: dict(b.snapshot)
            for b in found
            if b.entity == "order" and b.target_kind in EDIT_KINDS
        }
    }


def baseline(document: PostedDocument, edits: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What is booked for the order now: the latest of the document and its adjustments."""
    latest = dict(document.snapshot)
    for snap in edits.values():
        if int(snap.get("seq", 0)) > int(latest.get("seq", 0)):
            latest = snap
    return latest


def _taxes(rows: list[Any], currency: str) -> dict[tuple[str, str | None], Decimal]:
    out: dict[tuple[str, str | None], Decimal] = {}
    for title, rate, amount in rows:
        out[(title, rate)] = out.get((title, rate), Decimal(0)) + Decimal(amount)
    return out


def _as_line(line_id: str, row: dict[str, Any], currency: str) -> OrderLine:
    """A baseline line as the order line it was (for its item)."""
    return OrderLine(
        line_id=line_id, title=row.get("title") or line_id, quantity=Decimal(row["q"]),
        unit_price=Money(amount=Decimal(row["price"]), currency=currency), sku=row.get("sku"),
        taxes=tuple(
            TaxLine(title=t, rate=Decimal(r) if r else None,
                    amount=Money(amount=Decimal(a), currency=currency))
            for t, r, a in row["taxes"]
        ),
    )  # fmt: skip


def _net(row: dict[str, Any]) -> Decimal:
    return Decimal(row["price"]) * Decimal(row["q"]) - Decimal(row["disc"])


def plan_edit(
    plan: Plan,
    order: Order,
    runtime: MappingRuntime,
    base: dict[str, Any],
    doc_link: Link | None,
    fingerprint: str,
    credits: tuple[tuple[str, str], ...] = (),
) -> bool:
    """Adjusting documents for an edit of a paid document; False when there is no
    baseline to compare with (the caller keeps the conflict)."""
    from .planner import Operation, PlannedWrite

    if "lines" not in base:
        return False
    old, new = base["lines"], line_state(order)
    cur = order.currency
    removed: list[RefundLine] = []
    added = []
    explained = Decimal(0)
    by_id = {line.line_id: line for line in order.lines}
    for line_id in sorted(set(old) | set(new)):
        was = old.get(line_id) or {"q": "0", "price": "0", "disc": "0", "taxes": []}
        now = new.get(line_id) or {**was, "q": "0", "disc": "0", "taxes": []}
        dq = Decimal(now["q"]) - Decimal(was["q"])
        if dq == 0:
            continue
        old_tax, new_tax = _taxes(was["taxes"], cur), _taxes(now["taxes"], cur)
        keys = list(dict.fromkeys([*old_tax, *new_tax]))
        tax_delta = {k: new_tax.get(k, Decimal(0)) - old_tax.get(k, Decimal(0)) for k in keys}
        net_delta = _net(now) - _net(was)
        tax_sum = sum(tax_delta.values(), Decimal(0))
        explained += net_delta + (Decimal(0) if order.taxes_included else tax_sum)
        taxes = tuple(
            TaxLine(title=k[0], rate=Decimal(k[1]) if k[1] else None,
                    amount=Money(amount=abs(v), currency=cur))
            for k, v in tax_delta.items() if v != 0
        )  # fmt: skip
        if dq < 0:
            removed.append(
                RefundLine(
                    line_id=line_id, quantity=-dq, sku=was.get("sku"), title=was.get("title"),
                    subtotal=Money(amount=-net_delta, currency=cur), taxes=taxes,
                )
            )  # fmt: skip
        else:
            line = by_id[line_id]
            added.append(
                line.model_copy(
                    update={
                        "quantity": dq,
                        "discount": Money(
                            amount=Decimal(now["disc"]) - Decimal(was["disc"]), currency=cur
                        ),
                        "taxes": taxes,
                    }
                )
            )
    gone = [_as_line(line_id, old[line_id], cur) for line_id in old if line_id not in by_id]
    if gone:  # lines the edit removed entirely: their items, for the credit note's lines
        known = {i.link.key for i in plan.items}
        past = order.model_copy(update={"lines": tuple(gone)})
        plan.items += [i for i in runtime.items(past, plan.trace) if i.link.key not in known]
    change = order.totals.total.amount - Decimal(base.get("total", "0"))
    residue = change - explained  # what the lines do not explain: shipping, rounding
    if not removed and not added:
        return False  # no line changed: not an edit this module can adjust
    seq = int(base.get("seq", 0)) + 1
    snapshot = {
        "fingerprint": fingerprint, "total": str(order.totals.total.amount), "currency": cur,
        "version": order.source.version, "lines": new, "seq": seq,
    }  # fmt: skip
    key = f"{order.source.key}:edit:{seq}"
    if added:
        part = order.model_copy(
            update={"lines": tuple(added), "shipping_lines": (), "fees": (), "tax_lines": (),
                    "discounts": (), "rounding_adjustment": None, "payments": (), "refunds": (),
                    "fulfilments": ()}
        )  # fmt: skip
        amount = sum((x.net.amount for x in added), Decimal(0))
        if not order.taxes_included:
            amount += sum((t.amount.amount for x in added for t in x.taxes), Decimal(0))
        draft = runtime.document(part, DocumentKind.INVOICE, plan.trace)
        extra = residue if not removed else Decimal(0)
        draft = draft.model_copy(update={
            "key": BusinessKey(reference=f"{draft.key.reference}-E{seq}", source_key=key),
            "adjustment": ((draft.adjustment or Decimal(0)) + extra) or None,
            "adjustment_description": "Order edit" if extra else draft.adjustment_description,
        })  # fmt: skip
        plan.writes.append(
            PlannedWrite(
                Operation.CREATE_DOCUMENT, "order", order.source.external_id, "edit_invoice",
                f"order {order.number} edited after payment: supplementary invoice for "
                f"{amount + extra} {cur}",
                draft=draft, versioned=True, expected_total=amount + extra, snapshot=snapshot,
            )
        )  # fmt: skip
    if removed:
        refund = Refund(
            source=SourceRef(platform=order.source.platform, store=order.source.store,
                             external_id=f"edit-{seq}"),
            created_at=order.updated_at, processed_at=order.updated_at, lines=tuple(removed),
            adjustment=Money(amount=-residue, currency=cur) if residue else None,
            taxes_included=order.taxes_included, reason=f"order {order.number} edited",
        )  # fmt: skip
        credit = refund.credit_total.amount
        draft = runtime.credit_note(order, refund, doc_link, plan.trace)
        draft = draft.model_copy(
            update={"key": BusinessKey(reference=draft.key.reference, source_key=key)}
        )
        plan.writes.append(
            PlannedWrite(
                Operation.CREATE_CREDIT_NOTE, "order", order.source.external_id,
                "edit_credit_note",
                f"order {order.number} edited after payment: credit note for {credit} {cur}",
                draft=draft, versioned=True, expected_total=credit,
                snapshot={**snapshot, "credit": str(credit),  # edit_refunds.py draws on it
                          "earlier_credits": [list(c) for c in credits]},
            )
        )  # fmt: skip
    return True


__all__ = ["EDIT_KINDS", "baseline", "edit_prior", "line_state", "plan_edit"]
