"""The conflicts pages: records changed both in the source and in the target since the last
write, the two versions side by side field by field, and the two ways out the engine
defines -- the source wins (the source's version is written over the target's edit) or
the target is kept (the engine re-baselines on the target's version) -- through
``Engine.resolve_conflict``, the path of ``ledgerbridge conflicts resolve``.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from ..engine import Engine
from ..errors import LedgerbridgeError
from ..store import console_queries as q
from .auth import Principal
from .compare import compare, other_target_fields
from .present import zoho_link
from .web import Console, not_found, redirect

KEEP = {
    "source": "The source wins: the source's version is written over the target's edit.",
    "target": "Keep the target: the target's version stays, and later syncs start from it.",
}


async def conflicts(console: Console, request: Request) -> Response:
    user: Principal = request.state.user
    rows = await anyio.to_thread.run_sync(
        lambda: q.open_conflicts(console.store, console.pipelines(user))
    )
    return console.render(request, "conflicts.html", rows=rows)


def _conflict_page(console: Console, user: Principal, conflict_id: int) -> dict[str, Any] | None:
    conflict = q.conflict_in(console.store, conflict_id, console.pipelines(user))
    if conflict is None:
        return None
    record = (
        q.record_in(console.store, conflict.record_id, console.pipelines(user))
        if conflict.record_id
        else None
    )
    source_total = None
    if record is not None:
        for b in q.bindings_of(
            console.store, record.tenant_id, console.source_connection(record.pipeline_id),
            record.entity, record.external_id,
        ):  # fmt: skip
            if b.target_id == conflict.target_id:
                source_total = b.snapshot.get("total")
    kind = str(conflict.source_snapshot.get("kind") or "invoice")
    settings = console.target_settings(conflict.pipeline_id)
    events = q.record_events(console.store, conflict.record_id) if conflict.record_id else []
    return {
        "conflict": conflict,
        "record": record,
        "rows": compare(conflict.source_snapshot, conflict.target_snapshot, source_total),
        "others": other_target_fields(conflict.target_snapshot),
        "link": zoho_link(settings, kind, conflict.target_id) if conflict.target_id else None,
        "keep": KEEP,
        "actions": [e for e in events if e.operation == "operator_resolve"],
    }


async def conflict(console: Console, request: Request) -> Response:
    data = await anyio.to_thread.run_sync(
        _conflict_page, console, request.state.user, int(request.path_params["conflict_id"])
    )
    if data is None:
        raise not_found()
    return console.render(request, "conflict.html", **data)


async def resolve(console: Console, request: Request) -> Response:
    """Resolve through the engine with a fresh config, then an audit event naming the user."""
    user: Principal = request.state.user
    conflict_id = int(request.path_params["conflict_id"])
    keep = str(request.state.form.get("keep") or "")
    pipelines = console.pipelines(user)
    found = await anyio.to_thread.run_sync(
        lambda: q.conflict_in(console.store, conflict_id, pipelines)
    )
    if found is None:
        raise not_found()
    if keep not in KEEP:
        return console.render(request, "error.html", 400, message="keep must be source or target")
    if found.status != "open":
        return redirect(request, f"/conflicts/{conflict_id}")
    error = None
    try:
        engine = Engine(console.fresh_config(), console.store, transports=console.transports)
        async with engine:
            await engine.resolve_conflict(conflict_id, keep)
    except LedgerbridgeError as exc:
        error = str(exc)

    def audit() -> None:
        record = q.record_in(console.store, found.record_id, pipelines) if found.record_id else None
        if record is not None:
            q.record_operator_action(
                console.store, record, user=user.username, action="resolve",
                outcome="error" if error else record.state,
                details={"role": user.role, "conflict_id": conflict_id, "keep": keep,
                         "error": error},
            )  # fmt: skip

    await anyio.to_thread.run_sync(audit)
    return redirect(request, f"/conflicts/{conflict_id}")


__all__ = ["conflict", "conflicts", "resolve"]
