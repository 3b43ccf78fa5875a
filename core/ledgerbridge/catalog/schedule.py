"""Catalog pipelines in the embedded scheduler (``ledgerbridge run``): each on its interval,
under the scheduler's concurrency slots, never beside another pipeline of its tenant, and
one catalog's trouble logged as its own -- the order pipelines' rules
(``engine/scheduler.py``)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import anyio

from ..config.catalog import CatalogEntry
from ..logs import bound
from .runner import CatalogReport, run_catalog

if TYPE_CHECKING:
    from ..engine import Engine
    from ..engine.scheduler import Scheduler

log = logging.getLogger("ledgerbridge.engine.scheduler")


async def run_one(scheduler: Scheduler, entry: CatalogEntry) -> None:
    """One run of a catalog pipeline under the scheduler's slots; never raises for its trouble."""
    async with scheduler.slots:
        await run_logged(scheduler.engine, entry)


async def run_logged(
    engine: Engine, entry: CatalogEntry, *, holder: str | None = None
) -> CatalogReport | None:
    """One run, its outcome logged as this pipeline's own (also a distributed worker's
    ``ledgerbridge.catalog`` task); None when it failed -- never raises for its trouble."""
    pipe = entry.pipeline
    with bound(tenant=entry.tenant.id, pipeline=pipe.id):
        try:
            report = await run_catalog(engine, entry, holder=holder)
        except Exception as exc:  # one pipeline's failure is never the others'
            log.error("error: %s: %s", pipe.id, exc, extra={"error_class": type(exc).__name__})
            return None
        if report.busy is not None:
            log.warning("busy: %s", report.busy)
            return report
        log.info(
            "%s: written %d, failed %d, conflicts %d, parked %d", pipe.id, report.written,
            report.failed, report.conflicts, report.parked,
        )  # fmt: skip
        return report


async def run_all_once(scheduler: Scheduler) -> None:
    """Every enabled catalog pipeline once, tenants concurrently (``run --once``)."""
    entries = [e for e in scheduler.engine.config.catalogs if e.pipeline.enabled]
    async with anyio.create_task_group() as group:
        for entry in entries:
            group.start_soon(run_one, scheduler, entry)


def launch_due(scheduler: Scheduler, group: Any, now: float) -> None:
    """Start the catalog pipelines that are due and whose tenant has nothing in flight."""
    for entry in scheduler.engine.config.catalogs:
        pipe, tenant = entry.pipeline, entry.tenant.id
        due = scheduler.finished_at.get(pipe.id, -1e18) + pipe.interval.total_seconds()
        if not pipe.enabled or now < due or tenant in scheduler.busy_tenants:
            continue
        scheduler.busy_tenants.add(tenant)
        scheduler.running.add(pipe.id)
        group.start_soon(_launch, scheduler, entry)


async def _launch(scheduler: Scheduler, entry: CatalogEntry) -> None:
    try:
        await run_one(scheduler, entry)
    finally:
        scheduler.finished_at[entry.pipeline.id] = time.monotonic()
        scheduler.running.discard(entry.pipeline.id)
        scheduler.busy_tenants.discard(entry.tenant.id)
