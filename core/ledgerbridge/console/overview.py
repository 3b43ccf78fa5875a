"""The overview page: per tenant and pipeline the last and next run, checkpoint, counts per
state with their 7-day trend, the lease; each target organisation's API usage against its
limits; the connections that need reconnecting and the other leases.

API usage comes from the shared limiter in Redis when the deployment shares limits
(``workers: {limits: redis}``: every worker's calls, the counters the limiter enforces);
otherwise from the writes the store recorded -- reads are not recorded, so the page says
the figures are a lower bound.  The page never asks a platform (it must render fast and
offline) and never shows a figure it does not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from ..engine.lease import lease_name
from ..errors import LedgerbridgeError
from ..store import console_queries as q
from ..store.console_overview import TREND_DAYS, states_and_trend, writes_recorded
from ..store.types import utcnow
from .auth import Principal
from .web import Console

STATES = (
    "pending", "synced", "retrying", "failed", "needs_mapping", "conflict", "skipped", "waiting",
)  # fmt: skip


@dataclass
class PipelineRow:
    tenant: str
    pipeline: str
    source: str
    target: str
    last_activity: str | None
    next_run: str
    checkpoints: dict[str, str]
    states: dict[str, int]
    trend: dict[str, list[int]]
    lease: Any


@dataclass
class Usage:
    """One target organisation's calls against its limits, and where the figures come from."""

    connection: str
    account: str
    source: str
    minute: int | None = None
    per_minute: int | None = None
    day: int | None = None
    daily_quota: int | None = None
    notes: list[str] = field(default_factory=list)


def sparkline(values: list[int], days: list[str]) -> Markup:
    """A small inline SVG of daily counts (oldest first), with the figures as its title."""
    width, height = 70, 18
    top = max(values) or 1
    step = width / max(1, len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )
    label = ", ".join(f"{d}: {v}" for d, v in zip(days, values, strict=True))
    return Markup(
        '<svg class="spark" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{label}"><title>{label}</title><polyline fill="none" '
        'stroke="currentColor" stroke-width="1.5" points="{points}"/></svg>'
    ).format(w=width, h=height, label=label, points=points)


def _next_run(enabled: bool, last: datetime | None, interval: timedelta, now: datetime) -> str:
    """When the scheduler (``ledgerbridge run`` or the workers) next polls the pipeline:
    its interval after the last activity -- or now, when that has passed or it never ran."""
    every = _duration(interval)
    if not enabled:
        return "disabled"
    if last is None or last + interval <= now:
        return f"due now (every {every})"
    return f"{(last + interval).isoformat(timespec='seconds')} (every {every})"


def _duration(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _usage(console: Console, user: Principal, now: datetime) -> list[Usage]:
    from ..engine.assembly import configured_limiters

    problem: str | None = None
    try:
        shared = configured_limiters(console.loaded)
    except LedgerbridgeError as exc:
        shared, problem = None, str(exc)
    targets: dict[str, tuple[str, str, dict[str, Any], list[str]]] = {}
    for tenant, pipeline in console.loaded.pipelines():
        if not user.sees(tenant.id):
            continue
        conn = tenant.connections[pipeline.target]
        key = f"{tenant.id}/{pipeline.target}"
        found = targets.setdefault(key, (tenant.id, conn.platform, dict(conn.settings), []))
        found[3].append(pipeline.id)
    out = []
    for key, (tenant_id, platform, settings, pipelines) in targets.items():
        account = str(settings.get("organization_id") or key)
        row = None
        if shared is not None:
            row = _from_redis(shared, key, platform, account)
        if row is None:
            row = _from_store(console, key, tenant_id, account, pipelines, settings, now)
            if shared is not None:
                row.notes.append("the shared limiter (Redis) could not be read")
            if problem:
                row.notes.append(f"shared limits not read: {problem}")
        out.append(row)
    return out


def _from_redis(shared: Any, key: str, platform: str, account: str) -> Usage | None:
    from redis.exceptions import RedisError

    from ..limits.redis import PREFIX

    try:
        usage = shared.usage(platform, account)
        conf = shared.client().hgetall(f"{PREFIX}:{platform}:{account}:conf")
    except (RedisError, OSError):  # Redis down: the store's figures, labelled as such
        return None
    row = Usage(key, account, "shared limiter (Redis): every worker's calls")
    row.minute, row.day = int(usage["minute"]), int(usage["day"])
    row.per_minute = int(conf["per_minute"]) if "per_minute" in conf else None
    row.daily_quota = int(conf["daily_quota"]) if "daily_quota" in conf else None
    if usage.get("blocked_for"):
        row.notes.append(f"blocked by the platform for {usage['blocked_for']:.0f}s")
    if usage.get("exhausted_for"):
        row.notes.append(f"daily quota used up; resets in {usage['exhausted_for']:.0f}s")
    return row


def _from_store(
    console: Console,
    key: str,
    tenant_id: str,
    account: str,
    pipelines: list[str],
    settings: dict[str, Any],
    now: datetime,
) -> Usage:
    row = Usage(key, account, "writes recorded in the store (reads are not recorded)")
    row.minute, row.day = writes_recorded(console.store, tenant_id, pipelines, now)
    per_minute, quota = settings.get("requests_per_minute"), settings.get("daily_quota")
    row.per_minute = int(per_minute) if per_minute else None
    row.daily_quota = int(quota) if quota else None
    if row.daily_quota is None:
        plan = f"the {settings['plan']} plan" if settings.get("plan") else "the plan"
        row.notes.append(f"daily quota: that of {plan} (`ledgerbridge status` asks the target)")
    return row


def _overview(console: Console, user: Principal) -> dict[str, Any]:
    store = console.store
    now = utcnow()
    today = now.date()
    days = [(today - timedelta(days=TREND_DAYS - 1 - n)).isoformat() for n in range(TREND_DAYS)]
    leases = {lease.name: lease for lease in store.leases()}
    rows = []
    for tenant, pipeline in console.loaded.pipelines():
        if not user.sees(tenant.id):
            continue
        last = q.last_activity(store, pipeline.id)
        states, trend = states_and_trend(store, pipeline.id, STATES, today)
        rows.append(
            PipelineRow(
                tenant.id,
                pipeline.id,
                f"{pipeline.source} ({tenant.connections[pipeline.source].platform})",
                f"{pipeline.target} ({tenant.connections[pipeline.target].platform})",
                last.isoformat(timespec="seconds") if last else None,
                _next_run(pipeline.enabled, last, pipeline.interval, now),
                {
                    e.value: cp
                    for e in pipeline.entities
                    if (cp := store.get_checkpoint(pipeline.id, e.value)) is not None
                },
                states,
                trend,
                leases.get(lease_name(pipeline.id)),
            )
        )
    from ..engine.assembly import reconnect_instruction

    dead = [
        {
            "id": c.id,
            "since": c.reconnect_since.isoformat(timespec="seconds") if c.reconnect_since else "",
            "why": c.reconnect_reason,
            "fix": reconnect_instruction(c.tenant_id, c.name, c.platform),
        }
        for c in store.needing_reconnect()
        if user.sees(c.tenant_id)
    ]
    other_leases = (
        [lease for name, lease in leases.items() if not name.startswith("pipeline:")]
        if user.role == "admin"
        else []
    )
    from ..catalog.status import catalog_row

    catalogs = [  # their own table: sides, bindings, held writes, field conflicts
        catalog_row(store, entry) for entry in console.loaded.catalogs if user.sees(entry.tenant.id)
    ]
    return {
        "rows": rows,
        "catalogs": catalogs,
        "days": days,
        "usage": _usage(console, user, now),
        "dead": dead,
        "other_leases": other_leases,
        "sparkline": sparkline,
    }


async def overview(console: Console, request: Request) -> Response:
    data = await anyio.to_thread.run_sync(_overview, console, request.state.user)
    return console.render(request, "overview.html", **data)


__all__ = ["STATES", "overview", "sparkline"]
