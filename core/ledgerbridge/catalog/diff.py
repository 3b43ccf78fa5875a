"""What one field of one bound pair of variants needs, from both sides' values and what
the engine last knew each side held (pure: no I/O).

The owner's value flows to the other side.  "Changed" means: differs from the value the
engine last read from, or wrote to, that side (``FieldRow.value_a``/``value_b``):

| owner changed | other changed | outcome |
|---|---|---|
| no state yet  |               | write the owner's value unless equal (first binding) |
| yes | no  | write the owner's value to the other side |
| no  | yes | drift: ``on_drift: revert`` writes the owner's value back, ``log`` keeps it |
| yes | yes | conflict with both values, unless they are equal |
| no  | no  | nothing (a drift kept earlier stays kept) |

A write held for approval (``approve: manual``) or forced by a conflict's resolution is a
``FieldRow.held_*`` value; it is made once approved, if the side it comes from still holds
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .state import FieldRow


class Outcome(StrEnum):
    AGREE = "agree"  # both sides hold the same value: the state follows
    WRITE = "write"  # the owner's value (or an approved held one) goes to ``side``
    REVERT = "revert"  # drift on the non-owning side, put back
    DRIFT_KEPT = "drift_kept"  # drift on the non-owning side, left and logged
    CONFLICT = "conflict"
    NOTHING = "nothing"


@dataclass(frozen=True)
class FieldPlan:
    field: str
    outcome: Outcome
    side: str | None = None  # "a" or "b": where a write goes
    value: str | None = None  # what is written (or agreed)
    owner_value: str | None = None
    other_value: str | None = None
    previous: str | None = None  # what ``side`` held before the write


def plan_field(
    field: str,
    owner: str,
    values: dict[str, str | None],
    row: FieldRow | None,
    *,
    on_drift: str,
    other_reads: bool = True,
) -> FieldPlan:
    """``owner`` is "a" or "b"; ``values`` the current value of each side."""
    other = "b" if owner == "a" else "a"
    vo, vn = values[owner], values[other]
    held = _held(row, values)
    if held is not None:
        return held
    if vo is None:
        return FieldPlan(field, Outcome.NOTHING)
    if vo == vn:
        return FieldPlan(field, Outcome.AGREE, value=vo)
    if row is None:
        return FieldPlan(field, Outcome.WRITE, other, vo, vo, vn, vn)
    base = {"a": row.value_a, "b": row.value_b}
    owner_changed = vo != base[owner]
    other_changed = other_reads and vn != base[other]
    if owner_changed and not other_changed:
        return FieldPlan(field, Outcome.WRITE, other, vo, vo, vn, vn)
    if other_changed and not owner_changed:
        if on_drift == "revert":
            return FieldPlan(field, Outcome.REVERT, other, vo, vo, vn, vn)
        return FieldPlan(field, Outcome.DRIFT_KEPT, other, vn, vo, vn, base[other])
    if owner_changed and other_changed:
        return FieldPlan(field, Outcome.CONFLICT, None, None, vo, vn, base[other])
    return FieldPlan(field, Outcome.NOTHING)


def _held(row: FieldRow | None, values: dict[str, str | None]) -> FieldPlan | None:
    """An approved held write still worth making: the side it copies from holds it yet."""
    if row is None or row.held_side is None or not row.approved:
        return None
    source = "b" if row.held_side == "a" else "a"
    if values[source] != row.held_value or values[row.held_side] == row.held_value:
        return None
    return FieldPlan(
        row.field,
        Outcome.WRITE,
        row.held_side,
        row.held_value,
        values[source],
        values[row.held_side],
        values[row.held_side],
    )


def settled(
    row: FieldRow | None,
    a_id: str,
    b_id: str,
    field: str,
    plan: FieldPlan,
    values: dict[str, str | None],
    written: bool,
) -> FieldRow | None:
    """The field state after ``plan`` (``written``: its write reached the platform).

    ``None``: leave the state as it is (a conflict waits for an operator; a failed write
    is planned again next run)."""
    current = row or FieldRow(a_id, field, b_id, None, None)
    new = FieldRow(a_id, field, b_id, current.value_a, current.value_b)
    if plan.outcome is Outcome.AGREE:
        new.value_a = new.value_b = plan.value
    elif plan.outcome in (Outcome.WRITE, Outcome.REVERT):
        if not written:
            return None
        new.value_a = new.value_b = plan.value
    elif plan.outcome is Outcome.DRIFT_KEPT:
        new.value_a, new.value_b = values["a"], values["b"]
    else:
        return None
    return new
