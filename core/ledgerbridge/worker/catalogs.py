"""Catalog pipelines on the distributed workers (docs/catalog.md, docs/deployment.md).

The order pipelines' rules, through the same gate (``dispatch.py``):

* the sweep queues each enabled catalog pipeline when its ``interval`` has passed
  (``lb:due:<pipeline>``, claimed atomically, so two sweeps never queue it twice);
* one ``ledgerbridge.catalog`` task per pipeline queued or running
  (``lb:dispatch:<pipeline>``), counted in the budget of its Zoho Books organisation;
* the task runs ``run_catalog`` -- one whole run, which takes the pipeline's lease
  itself, so a catalog never runs beside another run of itself (``ledgerbridge sync``,
  a redelivered task); the lease holder is the task, not the process;
* a failure is logged as that pipeline's own (``tenant``/``pipeline`` on the line) and
  the task returns: the next interval tries again, as ``ledgerbridge run`` does.  A run
  that found the lease held ran nothing, so its interval is offered again at once.

A catalog run reads both sides to the end and writes in batches; it is not cut into
shares the way an order pipeline's pages are -- its cost is bounded by what changed.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from ..catalog.schedule import run_logged
from ..config.catalog import CatalogEntry
from ..errors import UnknownId
from .dispatch import DUE, account_of

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger(__name__)
CATALOG = "ledgerbridge.catalog"


def entry_of(rt: Runtime, pipeline_id: str) -> CatalogEntry:
    for entry in rt.engine.config.catalogs:
        if entry.pipeline.id == pipeline_id:
            return entry
    raise UnknownId(f"no catalog pipeline {pipeline_id!r} in {rt.engine.config.path}")


def account(entry: CatalogEntry) -> str:
    """Whose budget a catalog run counts in: the side with an organisation (Zoho Books),
    else the first connection -- as an order pipeline counts in its target's."""
    tenant = entry.tenant
    for name in entry.pipeline.connections:
        conn = tenant.connections[name]
        if conn.settings.get("organization_id"):
            return account_of(conn.platform, str(conn.settings["organization_id"]))
    first = entry.pipeline.connections[0]
    return account_of(tenant.connections[first].platform, f"{tenant.id}/{first}")


def sweep(rt: Runtime) -> dict[str, str]:
    """Queue every enabled catalog pipeline whose interval has passed."""
    out: dict[str, str] = {}
    for entry in rt.engine.config.catalogs:
        pipe = entry.pipeline
        if not pipe.enabled or not rt.dispatcher.due(pipe.id, pipe.interval.total_seconds()):
            continue
        out[pipe.id] = rt.dispatcher.dispatch(pipe.id, account(entry), task=CATALOG)
        if out[pipe.id] == "over budget":
            unclaim(rt, pipe.id)  # offer it again at the next sweep
    return out


def unclaim(rt: Runtime, pipeline_id: str) -> None:
    rt.dispatcher.redis.delete(f"{DUE}:{pipeline_id}")


def run(rt: Runtime, pipeline_id: str, task_id: str) -> dict[str, object]:
    """The ``ledgerbridge.catalog`` task: one run, then the pipeline's marker released."""
    entry = entry_of(rt, pipeline_id)
    held = account(entry)
    holder = f"{rt.engine.holder}:{task_id[:12]}"
    try:
        report = rt.portal.call(partial(run_logged, rt.engine, entry, holder=holder))
    finally:
        rt.dispatcher.release(pipeline_id, held, task_id)
    if report is None:
        return {"pipeline": pipeline_id, "failed": True}
    if report.busy is not None:
        unclaim(rt, pipeline_id)  # it ran nothing: the next sweep offers it again
        return {"pipeline": pipeline_id, "busy": report.busy}
    return {
        "pipeline": pipeline_id,
        "written": report.written,
        "failed": report.failed,
        "conflicts": report.conflicts,
        "parked": report.parked,
    }
