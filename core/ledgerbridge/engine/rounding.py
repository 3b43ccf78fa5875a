"""Totals to the cent: settle the target's rounding gap into a document's adjustment.

Platforms round tax per line or per document; when the target's own arithmetic
lands a few cents off the source total, the difference goes into the document's
rounding adjustment (one more call, only then). It is part of finishing a
document, whether the engine just created it or adopted it after an unknown
outcome: both must leave the document in the same state (``adoption``).
"""

from __future__ import annotations

from decimal import Decimal

from ..contracts.target import Target
from ..errors import ValidationFailed
from ..plan import DocumentDraft, DocumentKind, TargetRef
from .journal import Batch, Journal
from .taxcheck import gap_ceiling

# A target/source gap above this is a mapping problem, not tax rounding (``gap_ceiling``:
# ten of the currency's smallest unit where that is more, e.g. 10 JPY).
ROUNDING_CEILING = Decimal("0.10")


async def settle_rounding(
    target: Target,
    journal: Journal,
    ref: TargetRef,
    draft: DocumentDraft,
    expected: Decimal | None,
    batch: Batch,
    *,
    created: bool,
) -> TargetRef:
    """Make the document total equal the source's to the cent.

    A larger gap is not rounding but a mapping problem (e.g. a discount the
    source applied after tax): a document just created (or adopted: created by
    the lost call) with wrong totals is voided at once -- never left open in the
    books -- and the record is parked.

    Repeating it is harmless: a document already settled has the source's total
    and costs no call. The returned ref keeps ``ref.adopted``.
    """
    if expected is None or ref.total is None or ref.total == expected:
        return ref
    gap = expected - ref.total
    if abs(gap) > gap_ceiling(draft.currency):
        voided = False
        if created and draft.kind is not DocumentKind.SALES_RECEIPT:
            await target.void_document(ref)
            voided = True
        raise ValidationFailed(
            f"{draft.kind.value} {ref.number or ref.target_id} totals {ref.total} in the "
            f"target but {expected} at the source; a difference of {gap} is not rounding"
            f"{' (the document was voided)' if voided else ''}. Check the mapping: a tax "
            "rate that differs between source and target, or a discount applied before/after "
            "tax differently than the source did",
            details={"target_id": ref.target_id, "difference": str(gap), "voided": voided},
        )
    fixed = draft.model_copy(
        update={
            "adjustment": (draft.adjustment or Decimal(0)) + gap,
            "adjustment_description": draft.adjustment_description
            or "Rounding difference (tax rounded per line at the source)",
        }
    )
    corrected = await target.update_document(ref, fixed)
    batch.audits.append(
        journal.audit(
            source_id=draft.key.source_key,
            idempotency_key=f"rounding:{ref.target_id}",
            operation="rounding_adjustment",
            target_id=ref.target_id,
            outcome="ok",
            details={"difference": str(gap), "expected": str(expected)},
        )
    )
    return corrected.model_copy(update={"adopted": ref.adopted}) if ref.adopted else corrected
