"""The target call of each write kind: documents (create, update, void), payments,
credit-note refunds and credit applications.

A created document is settled to the source's total (``settle_rounding``); a document the
target's search adopted that is already bound to another source record is not this write's.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..contracts.target import Target
from ..errors import ValidationFailed
from ..plan import (
    CreditApplication,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    PaymentDraft,
    TargetRef,
)
from .batch import Batch
from .journal import Journal, off_loop
from .planner import Draft, Operation, PlannedWrite
from .rounding import settle_rounding


@dataclass
class Progress:
    """How far a plan got: writes before ``index`` are finished; ``sent`` says whether
    the call of write ``index`` started (and so may have reached the target)."""

    index: int = 0
    sent: bool = False
    committed: bool = False  # the call of write ``index`` certainly wrote its record


class TargetCalls:
    """Sends one planned write to the target (``Executor`` keeps the bookkeeping)."""

    def __init__(self, target: Target, journal: Journal) -> None:
        self.target = target
        self.journal = journal

    _db = staticmethod(off_loop)

    async def call(
        self,
        write: PlannedWrite,
        draft: Draft | None,
        links: dict[str, str],
        batch: Batch,
        progress: Progress,
        *,
        first_attempt: bool,
    ) -> TargetRef | None:
        op = write.operation
        if op in (Operation.CREATE_DOCUMENT, Operation.CREATE_CREDIT_NOTE):
            assert isinstance(draft, DocumentDraft)
            created = await self.target.create_document(draft, first_attempt=first_attempt)
            if created.adopted and await self.bound_elsewhere(write, created.target_id, batch):
                # The search before the create found a document written for another record
                # -- e.g. the first of an order's refunds, whose credit note carries the same
                # reference: it is not this write's, so this write creates its own.
                created = await self.target.create_document(draft, first_attempt=True)
            progress.committed = True  # the follow-ups below may fail; the document exists
            return await settle_rounding(
                self.target, self.journal, created, draft, write.expected_total, batch,
                created=True,
            )  # fmt: skip
        if op is Operation.UPDATE_DOCUMENT:
            assert isinstance(draft, DocumentDraft) and write.ref is not None
            ref = await self.target.update_document(self.ref(write, links), draft)
            return await settle_rounding(
                self.target, self.journal, ref, draft, write.expected_total, batch,
                created=False,
            )  # fmt: skip
        if op is Operation.VOID_DOCUMENT:
            ref = self.ref(write, links)
            await self.target.void_document(ref)
            return ref
        if op is Operation.RECORD_PAYMENT:
            assert isinstance(draft, PaymentDraft)
            return await self.target.record_payment(draft, first_attempt=first_attempt)
        if op is Operation.REFUND_CREDIT:
            assert isinstance(draft, CreditRefundDraft)
            return await self.target.refund_credit(draft)
        if op is Operation.APPLY_CREDIT:
            assert isinstance(draft, CreditApplication)
            applied = await self.target.apply_credit(draft)
            return applied or TargetRef(
                kind="credit_application", target_id=draft.credit_note.require()
            )
        raise AssertionError(f"unknown operation {op}")  # pragma: no cover

    async def bound_elsewhere(self, write: PlannedWrite, target_id: str, batch: Batch) -> bool:
        """Whether ``target_id`` is already bound to another source record, in this unit's
        batch or in the store."""
        mine = (write.entity, write.external_id)
        for (entity, external, kind), row in batch.bindings.items():
            if (
                kind == write.target_kind
                and row["target_id"] == target_id
                and (entity, external) != mine
            ):
                return True
        bound = await self._db(self.journal.binder.bound_to, write.target_kind, target_id)
        return any((b.entity, b.external_id) != mine for b in bound)

    def ref(self, write: PlannedWrite, links: dict[str, str]) -> TargetRef:
        assert write.ref is not None
        target_id = write.ref.target_id or links.get(write.ref.key)
        if target_id is None:
            raise ValidationFailed(f"{write.ref.key} has no target record to {write.operation}")
        kind = write.target_kind if write.target_kind != "void" else DocumentKind.INVOICE.value
        return TargetRef(kind=kind, target_id=target_id)
