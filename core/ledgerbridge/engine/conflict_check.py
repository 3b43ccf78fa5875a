"""The guard before updating a document: refuse to overwrite what someone edited (or
paid) in the target since our last write, and record the conflict for a person."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ..contracts.target import Target, TargetDocument
from ..errors import Conflict
from ..plan import TargetRef
from ..store import ConflictRecord
from .journal import Journal, off_loop
from .planner import Draft, PlannedWrite


async def check_conflict(
    target: Target,
    journal: Journal,
    source_wins: bool,
    write: PlannedWrite,
    draft: Draft | None,
    record_id: int | None,
    source_id: str,
    unrecorded: bool = False,
) -> None:
    """Refuse to overwrite a document someone edited in the target since our last write.

    ``unrecorded``: an update of ours may have landed without its answer (a pending
    intent), so a changed ``last_modified`` may be our own write: only a payment in
    the target then stops the update, which is safe to send again."""
    bound = await off_loop(
        journal.binder.binding, write.entity, write.external_id, write.target_kind
    )
    if bound is None or write.ref is None or write.ref.target_id is None:
        return
    current: TargetDocument = await target.get_document(
        TargetRef(kind=write.target_kind, target_id=write.ref.target_id)
    )
    ours = bound.snapshot.get("last_modified")
    theirs = current.last_modified.isoformat() if current.last_modified else None
    edited = not unrecorded and ours is not None and theirs is not None and theirs != ours
    paid = (
        current.balance is not None
        and current.total is not None
        and current.balance < current.total
    )
    if not (edited or paid) or (source_wins and not paid):
        return
    why = "was paid in the target" if paid else "was edited in the target"
    conflict = ConflictRecord(
        tenant_id=journal.scope.tenant_id,
        pipeline_id=journal.scope.pipeline_id,
        record_id=record_id,
        entity=write.entity,
        external_id=write.external_id,
        target_id=write.ref.target_id,
        fields=sorted(current.fields) or ["document"],
        source_snapshot=draft.model_dump(mode="json") if draft is not None else {},
        target_snapshot={
            **_jsonable(current.fields),
            "last_modified": theirs,
            "total": _str(current.total),
            "balance": _str(current.balance),
        },
    )
    await off_loop(journal.add_conflict, conflict)
    raise Conflict(
        f"{write.target_kind} {write.ref.target_id} {why} since our last write "
        f"(ours {ours}, now {theirs}); the source changed too. Resolve with "
        "`ledgerbridge conflicts resolve ID --keep source|target`",
        details={"conflict_id": conflict.id},
    )


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(json.dumps(fields, default=str)))
