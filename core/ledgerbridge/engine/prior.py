"""What was posted before for a unit's records, read from their bindings.

The planner decides each write against what the target already holds for the order
(its document, payments, credit notes, refunds and applications): ``posted_for`` reads
the bindings of a whole unit of work in one query, ``prior_state`` picks one order's out
of them.  A record deleted at the source is planned here too: void its unpaid document.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..canonical import Order
from ..contracts.source import Change
from ..errors import SyncError
from ..plan import Link
from .binder import Binder
from .edit_refunds import edit_refund_prior
from .edits import edit_prior
from .fulfilments import fulfilment_prior
from .journal import Journal, off_loop
from .planner import Operation, Plan, PlannedWrite, PostedDocument, PriorState


def posted_for(binder: Binder, orders: list[Order]) -> list[Any]:
    """What was posted before for a unit's orders, their payments and refunds (one query)."""
    return binder.bindings_of(
        {
            "order": [o.source.external_id for o in orders],
            "payment": [
                *(p.external_id for o in orders for p in o.payments),
                *(i for o in orders for i in o.superseded_payment_ids),
            ],
            "refund": [r.source.external_id for o in orders for r in o.refunds],
            "fulfillment": [f.external_id for o in orders for f in o.fulfilments],
        }
    )


def prior_state(order: Order, posted: dict[tuple[str, str], list[Any]]) -> PriorState:
    """What was posted before for ``order`` (``posted``: the unit's bindings by record)."""
    mine = [
        ("order", order.source.external_id),
        *(("payment", p.external_id) for p in order.payments),
        *(("payment", i) for i in order.superseded_payment_ids),
        *(("refund", r.source.external_id) for r in order.refunds),
        *(("fulfillment", f.external_id) for f in order.fulfilments),
    ]
    found = [b for key in mine for b in posted.get(key, ())]
    docs = {b.target_kind: b for b in found if b.entity == "order"}
    document = None
    for kind in ("invoice", "sales_receipt"):
        if kind in docs:
            document = PostedDocument(kind, docs[kind].target_id, dict(docs[kind].snapshot))
    payments = [b for b in found if b.entity == "payment"]
    gone = set(order.superseded_payment_ids)
    refunds = [b for b in found if b.entity == "refund"]
    return PriorState(
        document=document,
        voided="void" in docs,
        payments=frozenset(b.external_id for b in payments),
        superseded={
            b.external_id: _decimal(b.snapshot.get("amount"))
            for b in payments
            if b.external_id in gone
        },
        credit_notes={
            b.external_id: b.target_id for b in refunds if b.target_kind == "credit_note"
        },
        credit_refunds=frozenset(
            b.external_id for b in refunds if b.target_kind == "credit_refund"
        ),
        applications={
            b.external_id: _decimal(b.snapshot.get("amount"))
            for b in refunds
            if b.target_kind == "credit_application"
        },
        **fulfilment_prior(found),
        **edit_prior(found),
        **edit_refund_prior(found),
    )


async def plan_deletion(journal: Journal, change: Change) -> Plan:
    """A record deleted at the source: void its unpaid document, if any."""
    plan = Plan(order_key=change.external_id, version=change.version)
    docs = await off_loop(journal.binder.bindings_for, "order", [change.external_id])
    kinds = {b.target_kind: b for b in docs}
    if "invoice" not in kinds or "void" in kinds:
        plan.skipped = (
            f"{change.entity.value} {change.external_id} deleted at the source; "
            "nothing posted to undo"
        )
        return plan
    paid = await off_loop(journal.has_written, change.external_id, Operation.RECORD_PAYMENT.value)
    if paid:
        raise SyncError(
            f"order {change.external_id} was deleted at the source after payment; "
            "its invoice is left as is -- review it in the target"
        )
    invoice = kinds["invoice"]
    ref = Link(key=f"document:{invoice.target_id}", target_id=invoice.target_id)
    plan.writes.append(
        PlannedWrite(
            Operation.VOID_DOCUMENT,
            "order",
            change.external_id,
            "void",
            f"order {change.external_id} deleted at the source before payment: void",
            ref=ref,
        )
    )
    return plan


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)
