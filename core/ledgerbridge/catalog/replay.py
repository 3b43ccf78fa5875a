"""Replaying a catalog pipeline's parked records (``ledgerbridge replay``): each record's
variants are marked pending -- re-matched if unbound, re-planned if bound -- and the
pipeline runs once.  Writes are absolute values, so a replay never doubles anything."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine.journal import off_loop
from ..errors import UnknownId
from ..store import SyncRecord
from .runner import CatalogReport, run_catalog
from .state import CatalogState

if TYPE_CHECKING:
    from ..engine import Engine


async def replay_catalog(
    engine: Engine, pipeline_id: str, records: list[SyncRecord]
) -> CatalogReport:
    entry = next((e for e in engine.config.catalogs if e.pipeline.id == pipeline_id), None)
    if entry is None:
        raise UnknownId(f"no catalog pipeline {pipeline_id!r}")
    tenant = entry.tenant.id
    a, b = entry.pipeline.connections
    state = CatalogState(engine.store, pipeline_id)
    ids: dict[str, list[str]] = {a: [], b: []}
    for record in records:
        side, _, vid = record.external_id.partition(":")
        if side in ids:
            ids[side].append(vid)
    bound = await off_loop(
        lambda: state.bindings(tenant, f"{tenant}/{a}", f"{tenant}/{b}", a_ids=ids[a])
    )
    ids[b] += list(bound.values())
    for side, wanted in ids.items():
        if wanted:
            await off_loop(state.mark_pending, side, wanted)
    return await run_catalog(engine, entry)
