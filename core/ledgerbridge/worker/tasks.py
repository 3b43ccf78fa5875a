"""The tasks: the engine's units of work, each safe to run twice (``acks_late``).

* ``ledgerbridge.work(pipeline)`` -- a bounded share of one pipeline: its waiting
  webhook events, due retries, one page of changes, closed summary days
  (``Engine.work``); queues the next share when work remains.
* ``ledgerbridge.catalog(pipeline)`` -- one run of a catalog pipeline
  (``run_catalog`` under its lease); its failure is logged as its own (``catalogs.py``).
* ``ledgerbridge.sweep()`` -- sent by ``ledgerbridge beat``: queues the pipelines
  whose interval passed, that have webhook events waiting, or retries due, and the
  catalog pipelines whose interval passed.
* ``ledgerbridge.event(connection)`` -- sent by ``ledgerbridge serve`` when a
  webhook event is stored: queues the pipelines reading that connection.

A second run of a share finds its records synced (no-ops), its intents recorded
(no second create) and its checkpoint moved: that is why a task may be redelivered.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from ..engine.runner import PipelineBusy
from . import catalogs
from .app import app
from .runtime import runtime

log = logging.getLogger(__name__)


@app.task(name="ledgerbridge.work", bind=True, max_retries=None)  # type: ignore[untyped-decorator]
def work(self: Any, pipeline_id: str) -> dict[str, Any]:
    rt = runtime(app.send_task)
    try:
        result = rt.work(pipeline_id, self.request.id)
    except PipelineBusy as exc:
        # Another holder runs the pipeline; a dead one's lease lapses within lease_ttl.
        log.info("%s; trying again shortly", exc)
        raise self.retry(countdown=rt.settings.lease_ttl.total_seconds() / 2) from None
    log.info("share done: %s", result)
    return dataclasses.asdict(result)


@app.task(name=catalogs.CATALOG, bind=True)  # type: ignore[untyped-decorator]
def catalog(self: Any, pipeline_id: str) -> dict[str, object]:
    return catalogs.run(runtime(app.send_task), pipeline_id, self.request.id)


@app.task(name="ledgerbridge.sweep")  # type: ignore[untyped-decorator]
def sweep() -> dict[str, str]:
    return runtime(app.send_task).sweep()


@app.task(name="ledgerbridge.event")  # type: ignore[untyped-decorator]
def event(connection_id: str) -> dict[str, str]:
    rt = runtime(app.send_task)
    return {
        pipeline.id: rt.dispatch(pipeline.id)
        for tenant, pipeline in rt.engine.pipelines()
        if f"{tenant.id}/{pipeline.source}" == connection_id
    }
