"""A catalog pipeline's state at a glance, for ``ledgerbridge catalog status`` (one) and
``ledgerbridge status`` (every catalog pipeline, next to the order pipelines).

Why a row of its own: an order pipeline's checkpoints are per source entity and its work
is records; a catalog's are per side (``catalog:<connection>``) and its work is also
bindings, writes held for approval and field conflicts.  The last run is when a side's
checkpoint or a record last moved: every run stores each side's checkpoint after its
walk, so a run with nothing to write still shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import col, select

from ..engine.journal import Journal, Scope
from ..store.models import Checkpoint, SyncRecord
from .state import CatalogState

if TYPE_CHECKING:
    from ..config.catalog import CatalogEntry
    from ..store import Store


def catalog_row(store: Store, entry: CatalogEntry) -> dict[str, Any]:
    pipeline, tenant = entry.pipeline.id, entry.tenant.id
    a, b = entry.pipeline.connections
    journal = Journal(store, Scope(tenant, pipeline, f"{tenant}/{a}", f"{tenant}/{b}"))
    state = CatalogState(store, pipeline)
    held = state.held()
    with store.session() as s:
        moved = [
            s.exec(
                select(func.max(Checkpoint.updated_at))
                .where(col(Checkpoint.pipeline_id) == pipeline)
                .where(col(Checkpoint.entity).startswith("catalog:"))
            ).first(),
            s.exec(
                select(func.max(SyncRecord.updated_at)).where(SyncRecord.pipeline_id == pipeline)
            ).first(),
        ]
    last = max((m for m in moved if m is not None), default=None)
    return {
        "tenant": tenant,
        "pipeline": pipeline,
        "last_run": last.isoformat() if last else None,
        "checkpoints": {side: store.get_checkpoint(pipeline, f"catalog:{side}") for side in (a, b)},
        "bound": state.bound_count(tenant, f"{tenant}/{a}", f"{tenant}/{b}"),
        "states": dict(sorted(journal.state_counts().items())),
        "held": len(held),
        "pending_approval": sum(1 for r in held if not r.approved),
        "open_conflicts": len(journal.open_conflicts()),
    }


def catalog_rows(store: Store, entries: list[CatalogEntry]) -> list[dict[str, Any]]:
    return [catalog_row(store, entry) for entry in entries]


def print_catalogs(console: Any, rows: list[dict[str, Any]]) -> None:
    """``ledgerbridge status``'s table of catalog pipelines (nothing when there are none)."""
    from rich.table import Table
    from rich.text import Text

    if not rows:
        return
    table = Table(title="Catalog pipelines")
    for name in ("tenant", "pipeline", "last run", "checkpoints", "bound", "states", "held",
                 "pending approval", "open conflicts"):  # fmt: skip
        table.add_column(Text(name), overflow="fold")
    for row in rows:
        table.add_row(
            Text(row["tenant"]), Text(row["pipeline"]), Text(row["last_run"] or "never"),
            Text("\n".join(f"{k}: {v or '-'}" for k, v in row["checkpoints"].items())),
            Text(str(row["bound"])),
            Text("\n".join(f"{k}: {v}" for k, v in row["states"].items()) or "-"),
            Text(str(row["held"])), Text(str(row["pending_approval"])),
            Text(str(row["open_conflicts"])),
        )  # fmt: skip
    console.print(table)
