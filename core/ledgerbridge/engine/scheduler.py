"""The embedded scheduler behind ``ledgerbridge run``: pipelines on their intervals.

Why a module of its own: the scheduler's job is isolation and fairness, not syncing.

* Isolation -- one pipeline's trouble is its own: an exception, a lease another live
  worker holds (busy), credentials the platform refuses.  Each is logged with the
  tenant and pipeline and becomes that pipeline's ``PipelineResult``; every other
  pipeline still runs, now and on later rounds.
* Fairness -- pipelines of different tenants run concurrently (at most
  ``concurrency`` at once: ``run: {concurrency: N}`` in the config or
  ``--concurrency``), so a slow shop does not hold up every other merchant.  A
  tenant's own pipelines run one after another.  Pipelines that reach one target
  account (a Zoho Books organisation shared between tenants) still share that
  account's rate limiter: the connector keeps one limiter per organisation per
  process (``ledgerbridge_zohobooks.limits.limiter_for``), or in Redis.
* The webhook inbox is drained between scheduling ticks, leaving out events of
  pipelines running at that moment (they wait for the next drain).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from ..config import PipelineConfig, TenantConfig
from ..errors import LedgerbridgeError
from ..logs import bound
from .outcomes import RunReport

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 4
TICK = 0.1  # seconds between looks at the clock and the stop flag


@dataclass
class PipelineResult:
    """One pipeline's run in a round: its report, or the error that ended it."""

    tenant_id: str
    pipeline_id: str
    report: RunReport | None = None
    error: Exception | None = None
    seconds: float = 0.0


OnResult = Callable[[PipelineResult], None]


class Scheduler:
    """Runs an ``Engine``'s enabled pipelines; see the module doc for the rules."""

    def __init__(
        self,
        engine: Engine,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        inbox_every: float = 2.0,
        should_stop: Callable[[], bool] = lambda: False,
        on_result: OnResult | None = None,
    ) -> None:
        self.engine = engine
        self.concurrency = max(1, concurrency)
        self.inbox_every = inbox_every
        self.should_stop = should_stop
        self.on_result = on_result
        self.slots = anyio.CapacityLimiter(self.concurrency)
        self.running: set[str] = set()  # pipeline ids in flight
        self.busy_tenants: set[str] = set()
        self.finished_at: dict[str, float] = {}
        self.results: list[PipelineResult] = []  # ``run_once``'s (a long run keeps none)
        self._keep = False

    # ----------------------------------------------------------------- one pipeline

    async def run_pipeline(self, tenant: TenantConfig, pipeline: PipelineConfig) -> PipelineResult:
        """Sync one pipeline under a concurrency slot; never raises for its trouble."""
        result = PipelineResult(tenant.id, pipeline.id)
        async with self.slots:
            with bound(tenant=tenant.id, pipeline=pipeline.id):
                began = time.monotonic()
                log.info("%s: started", pipeline.id)
                try:
                    [result.report] = await self.engine.sync(pipeline.id)
                except Exception as exc:  # one pipeline's failure is never the others'
                    result.error = exc
                result.seconds = time.monotonic() - began
                _log_result(pipeline, result)
        if self._keep:
            self.results.append(result)
        if self.on_result is not None:
            self.on_result(result)
        return result

    async def _tenant_round(self, tenant: TenantConfig, pipelines: list[PipelineConfig]) -> None:
        for pipeline in pipelines:
            if self.should_stop():
                return
            await self.run_pipeline(tenant, pipeline)
            self.finished_at[pipeline.id] = time.monotonic()

    # ----------------------------------------------------------------- rounds

    async def run_once(self) -> list[PipelineResult]:
        """Every enabled pipeline once (tenants concurrently), then one inbox drain."""
        await self.engine.prepare()
        self._keep = True
        by_tenant: dict[str, tuple[TenantConfig, list[PipelineConfig]]] = {}
        for tenant, pipeline in self.engine.pipelines():
            by_tenant.setdefault(tenant.id, (tenant, []))[1].append(pipeline)
        async with anyio.create_task_group() as group:
            for tenant, pipelines in by_tenant.values():
                group.start_soon(self._tenant_round, tenant, pipelines)
        from ..catalog import schedule as catalogs  # kind: catalog pipelines (docs/catalog.md)

        await catalogs.run_all_once(self)
        await self.drain_inbox()
        return self.results

    async def run_forever(self) -> None:
        """Start each pipeline when it is due (its interval after its last run ended) and
        its tenant has none in flight; drain the inbox every ``inbox_every`` seconds; on
        ``should_stop``, let the pipelines in flight finish their record and return."""
        from ..catalog import schedule as catalogs

        await self.engine.prepare()
        next_drain = 0.0
        async with anyio.create_task_group() as group:
            while not self.should_stop():
                now = time.monotonic()
                for tenant, pipeline in self.engine.pipelines():
                    due = self.finished_at.get(pipeline.id, -1e18) + (
                        pipeline.interval.total_seconds()
                    )
                    if now < due or tenant.id in self.busy_tenants:
                        continue
                    self.busy_tenants.add(tenant.id)
                    self.running.add(pipeline.id)
                    group.start_soon(self._launch, tenant, pipeline)
                catalogs.launch_due(self, group, now)  # kind: catalog pipelines
                if now >= next_drain:
                    await self.drain_inbox()
                    next_drain = time.monotonic() + self.inbox_every
                await anyio.sleep(TICK)

    async def _launch(self, tenant: TenantConfig, pipeline: PipelineConfig) -> None:
        try:
            await self.run_pipeline(tenant, pipeline)
        finally:
            self.finished_at[pipeline.id] = time.monotonic()
            self.running.discard(pipeline.id)
            self.busy_tenants.discard(tenant.id)

    async def drain_inbox(self) -> int:
        """Process waiting webhook events, except those of pipelines in flight."""
        try:
            outcomes = await self.engine.process_inbox(skip=frozenset(self.running))
        except Exception:
            log.exception("inbox: draining failed; the events wait for the next drain")
            return 0
        if outcomes:
            log.info("inbox: %d event(s) processed", len(outcomes))
        return len(outcomes)


def _log_result(pipeline: PipelineConfig, result: PipelineResult) -> None:
    report, error = result.report, result.error
    if error is not None:
        instruction = getattr(error, "instruction", None)
        if instruction is not None:  # dead credentials found before the run began
            log.error("error: %s", error, extra={"error_class": type(error).__name__})
            log.error("reconnect: %s", instruction)
        elif isinstance(error, LedgerbridgeError):
            log.error("error: %s", error, extra={"error_class": type(error).__name__})
        else:
            log.error(
                "error: %s: %r", pipeline.id, error, exc_info=error,
                extra={"error_class": type(error).__name__},
            )  # fmt: skip
        return
    assert report is not None
    if report.busy is not None:
        log.warning("busy: %s", report.busy)
        return
    if report.halted is not None:
        log.error("reconnect: %s", report.halted.instruction)
    log.info(
        "%s: read %d, writes %d, parked %d",
        pipeline.id,
        report.read,
        report.writes,
        report.parked,
        extra={
            "read": report.read,
            "writes": report.writes,
            "parked": report.parked,
            "retrying": report.retrying,
            "seconds": round(result.seconds, 3),
        },
    )


__all__ = ["DEFAULT_CONCURRENCY", "PipelineResult", "Scheduler"]
