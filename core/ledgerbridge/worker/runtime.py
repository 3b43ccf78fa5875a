"""The engine a worker process keeps: one event loop, one ``Engine``, shared by its task slots.

Celery calls tasks synchronously (on the ``threads`` pool, from several threads);
the engine is async.  Each process runs one event loop in a background thread
(anyio's blocking portal, as ``ledgerbridge.blocking`` does) and every task runs
its coroutine there, so tasks of different merchants overlap their network waits
on one loop, and connection pools and the shared limiters are made once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

from anyio.from_thread import start_blocking_portal

from ..config import load_config
from ..engine import Engine
from ..engine.runner import PipelineBusy, RunReport
from ..errors import ConfigError
from ..limits.redis import RedisLimiters
from ..store import work_queries
from . import catalogs
from .dispatch import Dispatcher, account_of
from .settings import WorkerSettings

log = logging.getLogger(__name__)
MAX_COUNTDOWN = 60.0  # seconds: the furthest ahead a share is queued


@dataclass(frozen=True)
class ShareResult:
    """What one share of a pipeline did (the task's log line)."""

    pipeline_id: str
    read: int
    writes: int
    parked: int
    more: bool
    next: str  # what was dispatched after it: queued, busy, over budget, or -


class Runtime:
    def __init__(self, config_path: str, send: Any) -> None:
        self.loaded = load_config(config_path)
        self.settings = WorkerSettings.of(self.loaded)
        self.limiters = (
            RedisLimiters(self.settings.redis_url) if self.settings.limits == "redis" else None
        )
        self._stack = ExitStack()
        self.portal = self._stack.enter_context(start_blocking_portal())
        self.engine: Engine = self.portal.call(self._build)
        self.portal.call(self.engine.prepare)
        self.dispatcher = Dispatcher(
            self.settings.redis_url,
            send,
            queue=self.settings.queue,
            marker_ttl=self.settings.visibility_timeout,
        )

    async def _build(self) -> Engine:
        return Engine(self.loaded, limiters=self.limiters)

    def account(self, pipeline_id: str) -> tuple[str, str]:
        """(platform, account) of the pipeline's target: whose limits and budget apply."""
        [(tenant, pipeline)] = self.engine.pipelines(pipeline_id)
        conn = tenant.connections[pipeline.target]
        account = str(conn.settings.get("organization_id") or f"{tenant.id}/{pipeline.target}")
        return conn.platform, account

    def wait_seconds(self, pipeline_id: str) -> float:
        if self.limiters is None:
            return 0.0
        return self.limiters.wait_seconds(*self.account(pipeline_id))

    def dispatch(self, pipeline_id: str, countdown: float = 0) -> str:
        return self.dispatcher.dispatch(
            pipeline_id, account_of(*self.account(pipeline_id)), countdown=countdown
        )

    def events_waiting(self, pipeline_id: str) -> int:
        """Webhook events stored for the pipeline's source and not yet processed."""
        [(tenant, pipeline)] = self.engine.pipelines(pipeline_id)
        return work_queries.events_waiting(self.engine.store, f"{tenant.id}/{pipeline.source}")

    # ----------------------------------------------------------------- tasks

    def work(self, pipeline_id: str, task_id: str) -> ShareResult:
        """One share of a pipeline (``Engine.work``), then the next share dispatched if due.

        Raises ``PipelineBusy`` when another live holder runs the pipeline (the task is
        retried: a dead holder's short lease lapses within ``lease_ttl``)."""
        account = account_of(*self.account(pipeline_id))
        checked = {"at": 0.0, "yield": False}
        yield_after = self.settings.yield_after

        def should_stop() -> bool:
            now = time.monotonic()
            if now - checked["at"] >= 0.5:
                checked["at"] = now
                self.dispatcher.renew(pipeline_id, account, task_id)
                checked["yield"] = self.wait_seconds(pipeline_id) > yield_after
            return bool(checked["yield"])

        holder = f"{self.engine.holder}:{task_id[:12]}"
        try:
            report: RunReport = self.portal.call(
                partial(
                    self.engine.work,
                    pipeline_id,
                    holder=holder,
                    max_pages=1,
                    lease_ttl=self.settings.lease_ttl,
                    should_stop=should_stop,
                )
            )
        except PipelineBusy:
            raise
        except BaseException:
            self.dispatcher.release(pipeline_id, account, task_id)
            raise
        self.dispatcher.release(pipeline_id, account, task_id)
        after = "-"
        if report.more:
            # Out of budget: come back when the organisation has some (at most a minute
            # ahead -- a long countdown outlives a Redis broker's visibility timeout, and a
            # share that finds its organisation still blocked yields again at once).
            wait = self.wait_seconds(pipeline_id)
            after = self.dispatch(
                pipeline_id, countdown=min(wait, MAX_COUNTDOWN) if wait > yield_after else 0
            )
        elif self.events_waiting(pipeline_id):
            # A webhook stored while this share ran found its pipeline busy, so its wake-up
            # queued nothing: without this it waited for the next sweep (``sweep_every``,
            # 30 s by default). Asked after the marker is released, so no event is missed:
            # the receiver stores an event before it asks to dispatch; asked before our
            # release, the event is counted here; after it, the receiver's dispatch queues.
            after = self.dispatch(pipeline_id)
        return ShareResult(
            pipeline_id, report.read, report.writes, report.parked, report.more, after
        )

    def sweep(self) -> dict[str, str]:
        """Queue every pipeline that is due: its interval passed, webhook events wait, or
        retries are due; and every catalog pipeline whose interval passed (``catalogs``).
        Runs on a worker, sent by ``ledgerbridge beat``."""
        events = work_queries.pending_events(self.engine.store)
        out: dict[str, str] = {}
        for tenant, pipeline in self.engine.pipelines():
            source = f"{tenant.id}/{pipeline.source}"
            interval = pipeline.interval.total_seconds()
            if (
                self.dispatcher.due(pipeline.id, interval)
                or events.get(source)
                or work_queries.retries_due(self.engine.store, pipeline.id)
            ):
                out[pipeline.id] = self.dispatch(pipeline.id)
                if out[pipeline.id] == "over budget":
                    self.dispatcher.redis.delete(f"lb:due:{pipeline.id}")  # offer it again
        out.update(catalogs.sweep(self))
        return out

    def close(self) -> None:
        try:
            self.portal.call(self.engine.aclose)
            if self.limiters is not None:
                self.portal.call(self.limiters.aclose)
        finally:
            self._stack.close()


_RUNTIME: Runtime | None = None
_LOCK = threading.Lock()


def runtime(send: Any) -> Runtime:
    """This process's runtime, made on first use (after a prefork child is forked)."""
    global _RUNTIME  # noqa: PLW0603 - one runtime per process, made lazily
    with _LOCK:
        if _RUNTIME is None:
            path = os.environ.get("LEDGERBRIDGE_CONFIG")
            if not path:
                raise ConfigError("LEDGERBRIDGE_CONFIG must name the config file of the worker")
            _RUNTIME = Runtime(path, send)
        return _RUNTIME
