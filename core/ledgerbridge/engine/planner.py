"""Planning: a canonical order (and what was already posted for it) in, intended writes out.

Pure -- no I/O, no clock, no store -- so the same function serves the engine,
``--dry-run`` and ``ledgerbridge mappings preview``, and can be tested alone.
What each write *contains* comes from the YAML mapping (``MappingRuntime``);
*which* writes an order needs comes from here: the posting policy and the
order lifecycle.

Lifecycle (invoice policy)::

    new order .................... create invoice (+ a payment per money-in transaction;
                                   when those payments cover its total, the invoice draft
                                   is marked ``settled_in_plan``, a hint for the target)
    paid at checkout ............. sales receipt instead, under the sales_receipt policy
    edited, unpaid, not voided ... update the invoice (the executor checks for conflicts)
    edited after payment ......... conflict: a posted, paid document is never silently rewritten
    cancelled or deleted, unpaid . void the invoice (nothing at all if never posted)
    tax the target would compute
    otherwise .................... parked before any write (``taxcheck``): the target's
                                   total would differ from the source's
    refund ....................... credit note against the document; money returned is a
                                   refund of the credit note; the rest is applied to the
                                   invoice's open balance
    payment with no document ..... customer advance (unapplied payment)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from ..canonical import Order, OrderStatus, Payment, Refund
from ..errors import Conflict, ValidationFailed
from ..plan import (
    ContactDraft,
    CreditApplication,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    ItemDraft,
    Link,
    PaymentDraft,
)
from .edit_refunds import plan_edit_credit_refunds
from .edits import baseline, line_state, plan_edit
from .fulfilments import plan_fulfilments
from .superseded import covered_by_earlier_payments
from .taxcheck import check_taxes, mapped_rates
from .triggers import PaidWhen, Trigger, before_posting


class MappingRuntime(Protocol):
    """What the planner needs from a compiled YAML mapping (``ledgerbridge.mapping``)."""

    posting_policy: str
    mapping: Any  # the validated mapping file (daily_summary reads its summary and tax rules)

    def skip_reason(self, order: Order) -> str | None: ...

    def booked(self, order: Order) -> Order: ...

    def contact(self, order: Order, trace: list[Any]) -> ContactDraft: ...

    def contact_match_keys(self, order: Order) -> list[tuple[str, str]]: ...

    def line_decisions(self, order: Order) -> Any: ...

    def items(self, order: Order, trace: list[Any], lines: Any = None) -> list[ItemDraft]: ...

    def document(
        self,
        order: Order,
        kind: DocumentKind,
        trace: list[Any],
        lines: Any = None,
        *,
        settled_in_plan: bool = False,
    ) -> DocumentDraft: ...

    def payment(
        self, order: Order, payment: Payment, applied_to: Link | None, trace: list[Any]
    ) -> PaymentDraft: ...

    def credit_note(
        self, order: Order, refund: Refund, against: Link | None, trace: list[Any]
    ) -> DocumentDraft: ...

    def credit_refund(
        self, order: Order, refund: Refund, credit_note: Link, trace: list[Any]
    ) -> CreditRefundDraft | None: ...

    def summary_lines(self, orders: Sequence[Order], trace: list[Any]) -> list[DocumentLine]: ...


class Operation(StrEnum):
    CREATE_DOCUMENT = "create_document"
    UPDATE_DOCUMENT = "update_document"
    VOID_DOCUMENT = "void_document"
    RECORD_PAYMENT = "record_payment"
    CREATE_CREDIT_NOTE = "create_credit_note"
    APPLY_CREDIT = "apply_credit"
    REFUND_CREDIT = "refund_credit"


CREATES = frozenset(
    {
        Operation.CREATE_DOCUMENT,
        Operation.RECORD_PAYMENT,
        Operation.CREATE_CREDIT_NOTE,
        Operation.REFUND_CREDIT,
        Operation.APPLY_CREDIT,
    }
)

Draft = DocumentDraft | PaymentDraft | CreditApplication | CreditRefundDraft


@dataclass(frozen=True)
class PlannedWrite:
    """One intended remote write.

    ``entity``/``external_id``/``target_kind`` name the binding the result is
    stored under; ``produces`` is the link later writes of the same plan use
    to refer to the result; ``versioned`` writes (updates) get a new
    idempotency key per source version, the others one key per source object.
    """

    operation: Operation
    entity: str
    external_id: str
    target_kind: str
    reason: str
    draft: Draft | None = None
    ref: Link | None = None
    produces: Link | None = None
    versioned: bool = False
    expect_balance_after: Decimal | None = None  # credit-note balance once this write is done
    expected_total: Decimal | None = None  # the source's total the document must equal
    snapshot: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PostedDocument:
    kind: str
    target_id: str
    snapshot: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PriorState:
    """What is already posted for one order, read from its bindings."""

    document: PostedDocument | None = None
    voided: bool = False
    payments: frozenset[str] = frozenset()
    credit_notes: dict[str, str] = field(default_factory=dict)  # refund id -> credit note id
    credit_refunds: frozenset[str] = frozenset()  # refund ids whose money is posted
    applications: dict[str, Decimal] = field(default_factory=dict)  # refund id -> amount applied
    # The fulfilled trigger (fulfilments.py): fulfilment id -> (invoice id, snapshot), and
    # fulfilment id -> what payments applied to its invoice.
    fulfilment_invoices: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    fulfilment_applied: dict[str, Decimal] = field(default_factory=dict)
    edits: dict[str, dict[str, Any]] = field(default_factory=dict)  # edits.py: adjustments
    fulfilment_edits: dict[str, dict[str, Any]] = field(default_factory=dict)  # shipment_edits
    superseded: dict[str, Decimal] = field(default_factory=dict)  # superseded.py: id -> amount
    edit_credits: tuple[tuple[str, str], ...] = ()  # edit_refunds.py: (credit note, credit)
    edit_refunds: dict[str, dict[int, Decimal]] = field(default_factory=dict)  # what each took


@dataclass
class Plan:
    order_key: str
    version: str | None
    writes: list[PlannedWrite] = field(default_factory=list)
    contact: ContactDraft | None = None
    contact_keys: list[tuple[str, str]] = field(default_factory=list)
    items: list[ItemDraft] = field(default_factory=list)
    skipped: str | None = None
    waiting: str | None = None  # short of the posting trigger: what it waits for (triggers.py)
    trace: list[Any] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.writes


_NOTHING_POSTED = PriorState()  # read only, so one serves every new order

NOT_A_SALE = {OrderStatus.DRAFT: "a checkout draft", OrderStatus.FAILED: "a failed payment"}


def document_link(order: Order, target_id: str | None = None) -> Link:
    return Link(key=f"document:{order.source.key}", target_id=target_id)


def credit_note_link(order: Order, refund_id: str, target_id: str | None = None) -> Link:
    return Link(key=f"credit_note:{order.source.key}:{refund_id}", target_id=target_id)


# Hints about the rest of a plan, not document content: left out of fingerprints, so a
# hint never makes a posted document look changed (nor changes the fingerprints stored
# before the hint existed).
_HINTS = {"settled_in_plan"}


def fingerprint(draft: DocumentDraft) -> str:
    """A hash of what we write for a document: equal hashes mean no update is needed.

    The JSON is ``draft.model_dump_json(exclude=_HINTS)``'s, taken as the bytes pydantic's
    serializer gives (not decoded to text and encoded back)."""
    json = draft.__pydantic_serializer__.to_json(draft, exclude=_HINTS)
    return hashlib.sha256(json).hexdigest()[:32]


def plan_order(
    order: Order,
    runtime: MappingRuntime,
    policy: str | None = None,
    prior: PriorState | None = None,
    *,
    trigger: Trigger = "placed",
    paid_when: PaidWhen = "any",
) -> Plan:
    """The writes ``order`` needs, given what was already posted (``prior``) and the
    pipeline's posting ``trigger`` (``engine/triggers.py``)."""
    prior = prior or _NOTHING_POSTED
    policy = policy or runtime.posting_policy
    order = runtime.booked(order)  # shop money, or the presentment twin (book_in)
    prior = covered_by_earlier_payments(order, prior)  # posted under another id before
    plan = Plan(order_key=order.source.key, version=order.source.version)

    reason = runtime.skip_reason(order)
    if reason is not None and prior.document is None:
        plan.skipped = reason
        return plan
    if order.status in NOT_A_SALE and prior.document is None:
        plan.skipped = f"order {order.number} is {NOT_A_SALE[order.status]}, not a sale"
        return plan
    if order.status is OrderStatus.UNKNOWN:
        raw = order.source_status or "not reported"
        raise ValidationFailed(
            f"order {order.number} has status {raw!r}, which the connector does not map to a "
            "canonical status; it is not posted until the status is mapped: add it to the "
            f"source connection's settings, e.g. status_map: {{{raw}: open}} (or completed, "
            "on_hold, pending, cancelled)",
            platform=order.source.platform,
        )

    received = order.amount_received.amount
    unpaid = received == 0
    withdrawn = order.status is OrderStatus.DELETED or order.is_cancelled
    if prior.document is None and withdrawn and unpaid:
        plan.skipped = f"order {order.number} was cancelled before it was posted; nothing to post"
        return plan
    if prior.document is None and not prior.fulfilment_invoices:
        plan.skipped, plan.waiting = before_posting(order, trigger, paid_when, withdrawn)
        if plan.skipped or plan.waiting:
            return plan

    trace = plan.trace
    plan.contact = runtime.contact(order, trace)
    plan.contact_keys = runtime.contact_match_keys(order)
    lines = runtime.line_decisions(order)  # decided once, for the items and the document
    plan.items = runtime.items(order, trace, lines)
    if trigger == "fulfilled" and prior.document is None:
        plan_fulfilments(plan, order, runtime, prior)  # an invoice per shipment
        return plan

    doc = prior.document
    kind = _document_kind(order, policy, doc, received)
    doc_link = document_link(order, doc.target_id if doc else None)
    paying = _payments_to_record(order, prior) if kind is DocumentKind.INVOICE else []

    if doc is None:
        draft = runtime.document(order, kind, trace, lines, settled_in_plan=_settles(order, paying))
        check_taxes(order, draft, mapped_rates(runtime.mapping))  # park before any write
        plan.writes.append(
            PlannedWrite(
                Operation.CREATE_DOCUMENT,
                "order",
                order.source.external_id,
                kind.value,
                f"new order {order.number}: {kind.value.replace('_', ' ')}",
                draft=draft,
                produces=doc_link,
                expected_total=order.totals.total.amount,
                snapshot=_document_snapshot(order, draft),
            )
        )
    elif withdrawn and unpaid and not prior.voided:
        plan.writes.append(
            PlannedWrite(
                Operation.VOID_DOCUMENT,
                "order",
                order.source.external_id,
                "void",
                f"order {order.number} was {order.status.value} before payment: void",
                ref=doc_link,
            )
        )
        return plan
    elif not prior.voided:
        draft = runtime.document(order, kind, trace, lines)
        base = baseline(doc, prior.edits)  # the document, or its latest adjustment
        if fingerprint(draft) != base.get("fingerprint"):
            check_taxes(order, draft, mapped_rates(runtime.mapping))
            paid = prior.payments or doc.kind == DocumentKind.SALES_RECEIPT.value
            against = doc_link if doc.kind == DocumentKind.INVOICE.value else None
            if paid and plan_edit(
                plan, order, runtime, base, against, fingerprint(draft), prior.edit_credits
            ):
                pass  # adjusting credit note / supplementary invoice (edits.py)
            elif paid or prior.edits:
                raise Conflict(
                    f"order {order.number} changed after its {doc.kind.replace('_', ' ')} "
                    f"{doc.target_id} was paid; a paid document is never rewritten. Review it and "
                    "post an adjustment (credit note or supplementary invoice) in the target, "
                    "then resolve the conflict",
                    platform=order.source.platform,
                )
            else:
                plan.writes.append(
                    PlannedWrite(
                        Operation.UPDATE_DOCUMENT,
                        "order",
                        order.source.external_id,
                        doc.kind,
                        f"order {order.number} changed (version {order.source.version}): update",
                        draft=draft,
                        ref=doc_link,
                        versioned=True,
                        expected_total=order.totals.total.amount,
                        snapshot=_document_snapshot(order, draft),
                    )
                )

    if kind is DocumentKind.INVOICE:
        _plan_payments(plan, order, runtime, paying, doc_link)
    if order.refunds:
        _plan_refunds(plan, order, runtime, prior, doc_link, kind, received)
    return plan


def _document_kind(
    order: Order, policy: str, posted: PostedDocument | None, received: Decimal
) -> DocumentKind:
    if posted is not None:
        return DocumentKind(posted.kind)
    if policy == "sales_receipt" and received >= order.totals.total.amount > 0:
        return DocumentKind.SALES_RECEIPT
    return DocumentKind.INVOICE


def _payments_to_record(order: Order, prior: PriorState) -> list[Payment]:
    """The money received for an invoice that is not posted yet: one payment write each."""
    return [p for p in order.payments if p.is_money_in and p.external_id not in prior.payments]


def _settles(order: Order, paying: list[Payment]) -> bool:
    """Whether the payments this plan records (``paying``) cover the order's total.

    A new invoice they settle is marked ``settled_in_plan``, a hint for the target.  Each
    payment is applied in full to the invoice (``_plan_payments``), so it is known before the
    invoice draft is built (and no draft is rebuilt after the fact); an advance (a payment
    applied to no document) would not count.
    """
    total = order.totals.total.amount
    return total > 0 and sum((p.amount.amount for p in paying), Decimal(0)) >= total


def _plan_payments(
    plan: Plan, order: Order, runtime: MappingRuntime, paying: list[Payment], doc_link: Link
) -> None:
    """A payment write per payment in ``paying``, each applied in full to ``doc_link``."""
    for payment in paying:
        draft = runtime.payment(order, payment, doc_link, plan.trace)
        plan.writes.append(
            PlannedWrite(
                Operation.RECORD_PAYMENT,
                "payment",
                payment.external_id,
                "customer_payment",
                f"{payment.kind.value} {payment.amount} via {payment.gateway or 'unknown gateway'}",
                draft=draft,
                snapshot={"amount": str(payment.amount.amount)},
            )
        )


def _plan_refunds(
    plan: Plan,
    order: Order,
    runtime: MappingRuntime,
    prior: PriorState,
    doc_link: Link,
    kind: DocumentKind,
    received: Decimal,
) -> None:
    applied_before = sum(prior.applications.values(), Decimal(0))
    open_balance = (
        order.totals.total.amount - received - applied_before
        if kind is DocumentKind.INVOICE
        else Decimal(0)
    )
    for refund in plan_edit_credit_refunds(plan, order, runtime, prior, list(order.refunds)):
        rid = refund.source.external_id
        credit = refund.credit_total.amount
        if credit <= 0:
            continue
        returned = min(refund.money_returned.amount, credit)
        cn_link = credit_note_link(order, rid, prior.credit_notes.get(rid))
        if rid not in prior.credit_notes:
            draft = runtime.credit_note(
                order, refund, doc_link if kind is DocumentKind.INVOICE else None, plan.trace
            )
            plan.writes.append(
                PlannedWrite(
                    Operation.CREATE_CREDIT_NOTE,
                    "refund",
                    rid,
                    "credit_note",
                    f"refund {rid}: credit note for {credit} {order.currency}",
                    draft=draft,
                    produces=cn_link,
                    expected_total=credit,
                    snapshot={"credit": str(credit)},
                )
            )
        if returned > 0 and rid not in prior.credit_refunds:
            refund_draft = runtime.credit_refund(order, refund, cn_link, plan.trace)
            if refund_draft is not None:
                plan.writes.append(
                    PlannedWrite(
                        Operation.REFUND_CREDIT,
                        "refund",
                        rid,
                        "credit_refund",
                        f"refund {rid}: {returned} {order.currency} paid back",
                        draft=refund_draft,
                        expect_balance_after=credit - returned,
                        snapshot={"amount": str(returned)},
                    )
                )
        rest = credit - returned
        if rest > 0 and open_balance > 0 and rid not in prior.applications:
            amount = min(rest, open_balance)
            open_balance -= amount
            plan.writes.append(
                PlannedWrite(
                    Operation.APPLY_CREDIT,
                    "refund",
                    rid,
                    "credit_application",
                    f"refund {rid}: {amount} {order.currency} applied to the open invoice",
                    draft=CreditApplication(credit_note=cn_link, document=doc_link, amount=amount),
                    expect_balance_after=credit - returned - amount,
                    snapshot={"amount": str(amount)},
                )
            )


def _document_snapshot(order: Order, draft: DocumentDraft) -> dict[str, Any]:
    return {
        "fingerprint": fingerprint(draft),
        "lines": line_state(order),  # the baseline of a later edit (edits.py)
        "total": str(order.totals.total.amount),
        "currency": order.currency,
        "version": order.source.version,
    }
