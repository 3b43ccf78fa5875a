"""One record's money at a glance: what the source order came to, what the target document
says, the payments and credit notes written for it -- all ``Decimal``, all from what the
engine recorded (each binding keeps the amount its plan wrote; a conflict keeps the
target's figures as the target returned them).  The console never asks a platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ..store import ConflictRecord, CrossReference

DOCUMENTS = ("invoice", "sales_receipt")


@dataclass
class Money:
    currency: str = ""
    source_total: Decimal | None = None
    target_total: Decimal | None = None
    target_total_from: str = ""
    payments: list[tuple[str, Decimal]] = field(default_factory=list)
    credit_notes: list[tuple[str, Decimal]] = field(default_factory=list)
    credits_applied: list[tuple[str, Decimal]] = field(default_factory=list)
    refunded: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def paid(self) -> Decimal:
        return sum((a for _, a in self.payments), Decimal(0))

    @property
    def credited(self) -> Decimal:
        return sum((a for _, a in self.credits_applied), Decimal(0))

    @property
    def balance(self) -> Decimal | None:
        """What the target document should still be owed, by the recorded writes."""
        if self.target_total is None:
            return None
        return self.target_total - self.paid - self.credited

    @property
    def differs(self) -> bool:
        return (
            self.source_total is not None
            and self.target_total is not None
            and self.source_total != self.target_total
        )

    @property
    def empty(self) -> bool:
        return self.source_total is None and not (self.payments or self.credit_notes)


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def money_summary(bindings: Sequence[CrossReference], conflicts: Sequence[ConflictRecord]) -> Money:
    money = Money()
    for b in bindings:
        snap = b.snapshot
        label = f"{b.entity} {b.external_id} → {b.target_kind} {b.target_id}"
        if b.target_kind in DOCUMENTS:
            money.source_total = _amount(snap.get("total"))
            money.currency = str(snap.get("currency") or "")
            money.target_total = money.source_total
            money.target_total_from = "as written by the last plan"
            for c in conflicts:  # the target's own figure, when a conflict read it back
                if c.target_id == b.target_id and _amount(c.target_snapshot.get("total")):
                    money.target_total = _amount(c.target_snapshot.get("total"))
                    money.target_total_from = f"as the target returned it (conflict {c.id})"
        elif b.target_kind == "customer_payment" and (a := _amount(snap.get("amount"))):
            money.payments.append((label, a))
        elif (
            b.target_kind in ("credit_note", "edit_credit_note")  # an edit's: edit_refunds.py
            and (a := _amount(snap.get("credit"))) is not None
        ):
            money.credit_notes.append((label, a))
        elif b.target_kind == "credit_application" and (a := _amount(snap.get("amount"))):
            money.credits_applied.append((label, a))
        elif (
            b.target_kind == "credit_refund" or b.target_kind.startswith("edit_credit_refund:")
        ) and (a := _amount(snap.get("amount"))):
            money.refunded.append((label, a))
    return money


__all__ = ["Money", "money_summary"]
