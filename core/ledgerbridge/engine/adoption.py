"""Read the target before re-sending a write whose outcome is unknown; finish what is found.

The rule: **no write whose outcome is unknown is ever re-sent before the target has
been read to learn whether it happened.** An outcome is unknown when the write's
intent is still ``pending`` -- the process died after sending, or the response was
lost (``OutcomeUnknown``). The read, per write kind:

=====================  ============================================================
create document        ``find_document`` by business key (reference + key field)
create credit note     ``find_document`` by business key
record payment         ``find_payment``: reference + the key the payment carries
refund credit          ``find_refund``: the credit note's refunds, by the key the
                       refund carries -- never by the note's balance (two refunds of
                       one amount leave the same balance)
apply credit           ``find_credit_application``: the credit note's applications
                       to the document (one per note and document)
void                   ``get_document``: already void?
update                 none: a whole-document ``PUT`` is safe to repeat (the conflict
                       check reads the document first anyway)
=====================  ============================================================

A document found is **finished exactly as a create would have finished it**, so an
adopted document converges to the state a clean run reaches: the target's own
follow-ups (``adopt_document``: Zoho Books marks a draft invoice sent), then the
rounding settlement (``rounding.settle_rounding``). The crash may have fallen
anywhere between the create and the last follow-up; each step is skipped when
already done (sent is not marked again, a settled total needs no call).

A target that cannot read a kind back leaves its ``find_*`` unimplemented; the record
is then parked for an operator (``OutcomeUnverifiable``) instead of risking a double
payment or refund.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..contracts.target import Target
from ..errors import OutcomeUnverifiable
from ..plan import (
    CreditApplication,
    CreditRefundDraft,
    DocumentDraft,
    PaymentDraft,
    TargetRef,
)
from .journal import Batch, Journal
from .planner import Draft, Operation, PlannedWrite
from .rounding import settle_rounding
from .taxcheck import gap_ceiling


class Adoption:
    """Looks up what a write with an unknown outcome did, and finishes it."""

    def __init__(self, target: Target, journal: Journal) -> None:
        self.target = target
        self.journal = journal

    async def find(
        self,
        write: PlannedWrite,
        draft: Draft | None,
        batch: Batch,
        ref: TargetRef | None = None,
    ) -> TargetRef | None:
        """The record the write made, finished (``adopted=True``); ``None`` when it certainly
        did not happen. ``ref``: the document a void or an update is about."""
        op = write.operation
        if op in (Operation.CREATE_DOCUMENT, Operation.CREATE_CREDIT_NOTE):
            assert isinstance(draft, DocumentDraft)
            return await self._document(write, draft, batch)
        if op is Operation.RECORD_PAYMENT:
            assert isinstance(draft, PaymentDraft)
            key = draft.key
            return await self._read(
                lambda: self.target.find_payment(key),
                f"a payment for {key.source_key} may have been recorded",
            )
        if op is Operation.REFUND_CREDIT:
            assert isinstance(draft, CreditRefundDraft)
            if draft.credit_note.target_id is None:
                return None  # no credit note yet: the refund cannot have been sent
            refund = draft
            return await self._read(
                lambda: self.target.find_refund(refund),
                f"a refund of credit note {draft.credit_note.target_id} may have been made",
            )
        if op is Operation.APPLY_CREDIT:
            assert isinstance(draft, CreditApplication)
            if draft.credit_note.target_id is None or draft.document.target_id is None:
                return None
            application = draft
            return await self._read(
                lambda: self.target.find_credit_application(application),
                f"credit note {draft.credit_note.target_id} may have been applied to "
                f"{draft.document.target_id}",
            )
        if op is Operation.VOID_DOCUMENT and ref is not None:
            doc = await self.target.get_document(ref)
            return ref.model_copy(update={"adopted": True}) if doc.status == "void" else None
        return None  # updates are safe to repeat

    async def _document(
        self, write: PlannedWrite, draft: DocumentDraft, batch: Batch
    ) -> TargetRef | None:
        found = await self.target.find_document(draft.kind, draft.key)
        if found is None:
            return None
        ref = await self.target.adopt_document(found, draft)
        expected = write.expected_total
        if (
            expected is not None
            and ref.total is not None
            and abs(expected - ref.total) > gap_ceiling(draft.currency)
        ):
            # Not rounding: the lost call wrote another version of the record (the source
            # changed before this run). Bring it to this version first.
            ref = await self.target.update_document(ref, draft)
        ref = await settle_rounding(
            self.target, self.journal, ref, draft, expected, batch, created=True
        )
        return ref.model_copy(update={"adopted": True})

    async def _read(
        self, read: Callable[[], Awaitable[TargetRef | None]], what: str
    ) -> TargetRef | None:
        try:
            found = await read()
        except NotImplementedError:
            raise OutcomeUnverifiable(
                f"{what} before a crash or a lost response, and "
                f"{type(self.target).__name__} cannot read it back; check the target, "
                "then replay"
            ) from None
        return found.model_copy(update={"adopted": True}) if found is not None else None
