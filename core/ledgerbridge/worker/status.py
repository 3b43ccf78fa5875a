"""``ledgerbridge status`` in the distributed mode: the shared state every worker sees.

Per target account, calls this minute and today from the shared limits (Redis),
not one process's view; per pipeline, whether a share is queued or running and
the broker's queue length.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ..config import LoadedConfig
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
    return {
        "accounts": accounts,
        "pipelines": dispatcher.state(pipelines),
        "queue": settings.queue,
        "queue_length": dispatcher.queue_length(settings.broker_url),
    }


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
    queue = Table(title=f"Queue {state['queue']} ({state['queue_length'] or 0} waiting)")
    queue.add_column("pipeline")
    queue.add_column("share")
    for pipeline_id, share in state["pipelines"].items():
        queue.add_row(pipeline_id, share)
    console.print(queue)
