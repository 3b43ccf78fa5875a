"""A refund of money an order edit left owed: a refund *of the edit's credit note*.

An edit that removes or reduces lines of a paid order posts an adjusting credit note
(``edits.py``): from then on the customer holds that credit in the books.  On the
platform the removed units leave money owed back, and the merchant's refund of it is
that same credit going back -- not a second credit.  Booking the refund as a new credit
note (and refunding it) would credit the customer twice, the edit's note staying open
forever; a Shopify refund of the owed money carries no refund lines (the units are
already gone) and would not be booked at all.

So, before a refund is credited as usual (``planner._plan_refunds``): the money a refund
returns that its own lines and shipping do not explain (all of an amount-only refund or
a refund of transactions alone; what an itemized refund returns beyond its lines and
shipping) is paid back first out of the order's open edit credit notes, oldest first, up
to what each has left (``POST /creditnotes/{id}/refunds``); only what an amount-only
refund credits beyond that becomes its own credit note, as before (an amount-only
refund's credit cannot be told apart from the money the edit left owed, so it is read
as that money first).  Each such refund
is bound under entity ``refund`` (its id), kind ``edit_credit_refund:<n>`` (``n``: the
edit credit note's place in the order's chain) with the amount and the note -- so a
re-run writes nothing, a second refund takes only what the first left, and the refund's
own credit note is the same amount on every run.  The refund's marker in Zoho
(``find_refund``) is the link key ``edit_credit:<order>:<refund>:<n>``, one per refund
and note, so a lost answer is found again.

A refund with lines or shipping credits those itself, as before (lines for units the edit
already removed are not told apart); a refund posted before this rule, and an edit
credit note written before its credit was kept in its snapshot (``credit``), are left as
they are.  Edits under the ``fulfilled`` trigger (``shipment_adjust.py``) are not drawn
on.

Pure: called by ``planner``; ``edit_refund_prior`` reads what it needs from bindings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..canonical import Money, Order, Refund
from ..plan import Link

if TYPE_CHECKING:
    from .planner import MappingRuntime, Plan, PriorState

ZERO = Decimal(0)
KIND = "edit_credit_refund"


def credit_chain(found: list[Any]) -> list[list[str]]:
    """The order's edit credit notes, oldest first, as ``[credit note id, credit]``.

    The binding ``order``/``edit_credit_note`` keeps only the latest note; each note's
    snapshot carries the ones before it (``earlier_credits``) and its own ``credit``."""
    for b in found:
        if b.entity == "order" and b.target_kind == "edit_credit_note":
            snap = dict(b.snapshot or {})
            chain = [list(x) for x in snap.get("earlier_credits") or []]
            if snap.get("credit") is not None:
                chain.append([b.target_id, str(snap["credit"])])
            return chain
    return []


def edit_refund_prior(found: list[Any]) -> dict[str, Any]:
    """``PriorState.edit_credits`` and ``edit_refunds`` (refund id -> note index -> amount)."""
    taken: dict[str, dict[int, Decimal]] = {}
    for b in found:
        if b.entity == "refund" and str(b.target_kind).startswith(f"{KIND}:"):
            index = int(str(b.target_kind).split(":", 1)[1])
            amount = Decimal(str((b.snapshot or {}).get("amount", "0")))
            taken.setdefault(b.external_id, {})[index] = amount
    return {"edit_credits": tuple(tuple(x) for x in credit_chain(found)), "edit_refunds": taken}


def _unitemized(refund: Refund) -> bool:
    return not refund.lines and refund.shipping is None and not refund.shipping_taxes


def _with_money(
    refund: Refund, amount: Decimal, currency: str, credit: Decimal | None = None
) -> Refund:
    """``refund`` returning ``amount`` (one money-out transaction), crediting ``credit``
    (an amount, as the refund is unitemized)."""
    out = [t for t in refund.transactions if t.is_money_out]
    moved = (
        (out[0].model_copy(update={"amount": Money(amount=amount, currency=currency)}),)
        if amount > 0
        else ()
    )
    update: dict[str, Any] = {"transactions": moved}
    if credit is not None:
        money = Money(amount=credit, currency=currency)
        update |= {"adjustment": money, "stated_amount": money}
    return refund.model_copy(update=update)


def plan_edit_credit_refunds(
    plan: Plan, order: Order, runtime: MappingRuntime, prior: PriorState, refunds: list[Refund]
) -> list[Refund]:
    """Refunds of the open edit credit notes (written to ``plan``) for the money of
    ``refunds`` that no credit of their own explains: all the money of an unitemized
    refund, what an itemized one returns beyond its lines and shipping.  Returns the
    refunds as they are still to be credited: less what the edit credit notes covered."""
    from .planner import Operation, PlannedWrite

    chain = [(cn, Decimal(credit)) for cn, credit in prior.edit_credits]
    if not chain:
        return refunds
    left = [credit for _, credit in chain]
    for done in prior.edit_refunds.values():  # what earlier refunds took, note by note
        for index, amount in done.items():
            if index < len(left):
                left[index] -= amount
    out = []
    for refund in refunds:
        rid = refund.source.external_id
        taken = dict(prior.edit_refunds.get(rid, {}))
        itemized = not _unitemized(refund)
        if not taken and rid in prior.credit_notes:
            out.append(refund)  # credited on its own before this rule
            continue
        if not taken:
            own = refund.credit_total.amount if itemized else ZERO  # its lines' own credit
            want = max(refund.money_returned.amount - own, ZERO)
            for index, room in enumerate(left):
                take = min(want, room)
                if take <= 0:
                    continue
                want -= take
                left[index] -= take
                taken[index] = take
                cn_id = chain[index][0]
                link = Link(key=f"edit_credit:{order.source.key}:{rid}:{index}", target_id=cn_id)
                draft = runtime.credit_refund(
                    order, _with_money(refund, take, order.currency), link, plan.trace
                )
                if draft is None:
                    continue
                plan.writes.append(
                    PlannedWrite(
                        Operation.REFUND_CREDIT, "refund", rid, f"{KIND}:{index}",
                        f"refund {rid}: {take} {order.currency} paid back out of the credit note "
                        f"of the order's edit ({cn_id})",
                        draft=draft, snapshot={"amount": str(take), "credit_note": cn_id},
                    )
                )  # fmt: skip
        covered = sum(taken.values(), ZERO)
        if covered <= 0:
            out.append(refund)
            continue
        rest_money = max(refund.money_returned.amount - covered, ZERO)
        if itemized:  # its lines and shipping are credited as they are
            out.append(_with_money(refund, rest_money, order.currency))
        else:
            rest_credit = max(refund.credit_total.amount - covered, ZERO)
            out.append(_with_money(refund, rest_money, order.currency, rest_credit))
    return out


__all__ = ["KIND", "credit_chain", "edit_refund_prior", "plan_edit_credit_refunds"]
