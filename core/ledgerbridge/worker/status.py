"""``ledgerbridge status`` in the distributed mode: the shared state every worker sees.

Per target account, calls this minute and today from the shared limits (Redis),
not one process's view; per pipeline, its depth: shares waiting in the broker and
held by workers (``depth.py``, read from the broker itself), the webhook events
waiting in the inbox for it and its records waiting to be retried (the store).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ..config import LoadedConfig
from .depth import broker_depth
from .settings import WorkerSettings, configured


def shared_state(loaded: LoadedConfig) -> dict[str, Any] | None:
    """The shared counters and queue state, or None in the embedded mode."""
    if not configured(loaded):
        return None
    from ..limits.redis import RedisLimiters
    from .dispatch import Dispatcher

    settings = WorkerSettings.of(loaded)
    limiters = RedisLimiters(settings.redis_url)
    dispatcher = Dispatcher(settings.redis_url, None, queue=settings.queue, marker_ttl=1)
    accounts: dict[str, dict[str, Any]] = {}
    pipelines = []
    for tenant, pipeline in loaded.pipelines():
        conn = tenant.connections[pipeline.target]
        account = str(conn.settings.get("organization_id") or f"{tenant.id}/{pipeline.target}")
        key = f"{conn.platform}:{account}"
        if key not in accounts:
            conf = limiters.client().hgetall(f"lb:limits:{key}:conf")
            accounts[key] = {**{k: int(v) for k, v in conf.items()}, **limiters.usage(
                conn.platform, account
            )}  # fmt: skip
        pipelines.append(pipeline.id)
    shares = dispatcher.state(pipelines)
    marked = {p for p, state in shares.items() if state == "queued"}
    depth = broker_depth(settings.broker_url, settings.queue, marked)
    work = _waiting_work(loaded)
    per_pipeline = {
        pipeline_id: {
            "share": shares[pipeline_id],
            "waiting": depth.waiting[pipeline_id] if depth else None,
            "held": depth.held[pipeline_id] if depth else None,
            **work.get(pipeline_id, {}),
        }
        for pipeline_id in pipelines
    }
    return {
        "accounts": accounts,
        "pipelines": shares,
        "depth": per_pipeline,
        "exact": depth.exact if depth else False,
        "queue": settings.queue,
        "queue_length": depth.ready if depth else dispatcher.queue_length(settings.broker_url),
    }


def _waiting_work(loaded: LoadedConfig) -> dict[str, dict[str, int]]:
    """Per pipeline: webhook events waiting for its source, records waiting for a retry."""
    from ..store import Store, work_queries

    store = Store(loaded.config.database)
    try:
        events = work_queries.pending_events(store)
        return {
            pipeline.id: {
                "events": events.get(f"{tenant.id}/{pipeline.source}", 0),
                "retrying": work_queries.retrying(store, pipeline.id),
                "retries_due": work_queries.retries_due(store, pipeline.id),
            }
            for tenant, pipeline in loaded.pipelines()
        }
    except Exception:  # no schema yet (never migrated): nothing is waiting in it
        return {}
    finally:
        store.close()


def render(loaded: LoadedConfig, console: Console) -> None:
    state = shared_state(loaded)
    if state is None:
        return
    table = Table(title="Shared limits (all workers)")
    for col in ("account", "this minute", "today", "in flight", "blocked"):
        table.add_column(col)
    for key, a in state["accounts"].items():
        table.add_row(
            key,
            f"{a['minute']}/{a.get('per_minute', '?')}",
            f"{a['day']}/{a.get('daily_quota', '?')}",
            f"{a['in_flight']}/{a.get('max_in_flight', '?')}",
            f"{a['blocked_for']:.0f}s" if a["blocked_for"] else "-",
        )
    console.print(table)
    note = "" if state["exact"] else "; waiting inferred from the share markers"
    queue = Table(title=f"Queue {state['queue']} ({state['queue_length'] or 0} ready{note})")
    for col in ("pipeline", "share", "in broker", "held by workers", "webhook events",
                "retrying (due)"):  # fmt: skip
        queue.add_column(col)
    for pipeline_id, d in state["depth"].items():

        def num(value: Any) -> str:
            return "?" if value is None else str(value)

        queue.add_row(
            pipeline_id, d["share"], num(d["waiting"]), num(d["held"]), num(d.get("events")),
            f"{num(d.get('retrying'))} ({num(d.get('retries_due'))})",
        )  # fmt: skip
    console.print(queue)
