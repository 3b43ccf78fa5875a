"""Resolving a catalog conflict (``ledgerbridge conflicts resolve ID --keep source|target``).

``source`` keeps the owner's value, ``target`` the other side's: the kept value is written
to the side that does not hold it (as an approved held write, so the same checks apply:
it is written only if the side it comes from still holds it) and the pipeline runs.
Keeping the non-owner's value needs the owner's connector to write the field; otherwise
the owner's side is left as it is and the difference is kept (logged as drift).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..contracts.catalog import CatalogField
from ..engine.journal import Journal, Scope, off_loop
from ..errors import UnknownId
from ..store import ConflictRecord
from . import connectors
from .runner import CatalogReport, run_catalog
from .state import CatalogState, FieldRow

if TYPE_CHECKING:
    from ..engine import Engine


async def resolve_catalog_conflict(
    engine: Engine, conflict: ConflictRecord, keep: str
) -> CatalogReport:
    entry = next((e for e in engine.config.catalogs if e.pipeline.id == conflict.pipeline_id), None)
    if entry is None:
        raise UnknownId(f"conflict {conflict.id}: no catalog pipeline {conflict.pipeline_id!r}")
    pipe, tenant = entry.pipeline, entry.tenant
    a, b = pipe.connections
    field = str(conflict.source_snapshot["field"])
    owner = pipe.owner(CatalogField(field))
    owner_side, other_side = ("a", "b") if owner == a else ("b", "a")
    values = {
        owner_side: conflict.source_snapshot.get("value"),
        other_side: conflict.target_snapshot.get("value"),
    }
    row = FieldRow(conflict.external_id, field, conflict.target_id or "", values["a"], values["b"])
    if keep == "source":
        row.held_side, row.held_value, row.approved = other_side, values[owner_side], True
    elif CatalogField(field) in connectors.catalog_spec(engine, tenant, owner).writes:
        row.held_side, row.held_value, row.approved = owner_side, values[other_side], True
    state = CatalogState(engine.store, pipe.id)
    journal = Journal(
        engine.store, Scope(tenant.id, pipe.id, f"{tenant.id}/{a}", f"{tenant.id}/{b}")
    )
    assert conflict.id is not None
    await off_loop(journal.resolve_conflict, conflict.id, keep)
    await off_loop(state.put_fields, [row])
    await off_loop(state.mark_pending, a, [conflict.external_id])
    await off_loop(state.mark_pending, b, [conflict.target_id or ""])
    return await run_catalog(engine, entry)
