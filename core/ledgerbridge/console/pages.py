"""The console's pages and its replay action.

Every page is limited to the pipelines of the tenants the user may see: a record of another
tenant is answered 404 exactly like one that does not exist.  Replay goes through
``Engine.replay``, the path of ``ledgerbridge replay`` (intents keep it from posting twice),
and leaves an audit event naming the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from ..engine import Engine, RunReport
from ..engine.lease import lease_name
from ..errors import LedgerbridgeError
from ..store import SyncRecord
from ..store import console_queries as q
from .auth import Principal
from .present import mapping_hint, zoho_link
from .web import Console, not_found, redirect

RETRY_SAFE = (
    "Retry is safe: every write carries an idempotency key recorded before it is sent, so a "
    "replay adopts a document the target already has instead of posting it twice."
)
RETRY_UNSAFE = (
    "Fix the cause first: replaying before the mapping, the data or the target is fixed "
    "parks the record again with the same reason."
)


@dataclass
class PipelineRow:
    tenant: str
    pipeline: str
    source: str
    target: str
    last_activity: str | None
    checkpoints: dict[str, str]
    states: dict[str, int]
    lease: Any


# --------------------------------------------------------------------------- overview


def _overview(console: Console, user: Principal) -> dict[str, Any]:
    store = console.store
    leases = {lease.name: lease for lease in store.leases()}
    rows = []
    for tenant, pipeline in console.loaded.pipelines():
        if not user.sees(tenant.id):
            continue
        last = q.last_activity(store, pipeline.id)
        rows.append(
            PipelineRow(
                tenant.id,
                pipeline.id,
                f"{pipeline.source} ({tenant.connections[pipeline.source].platform})",
                f"{pipeline.target} ({tenant.connections[pipeline.target].platform})",
                last.isoformat(timespec="seconds") if last else None,
                {
                    e.value: cp
                    for e in pipeline.entities
                    if (cp := store.get_checkpoint(pipeline.id, e.value)) is not None
                },
                q.state_counts(store, pipeline.id),
                leases.get(lease_name(pipeline.id)),
            )
        )
    from ..engine.engine import reconnect_instruction

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
    return {"rows": rows, "dead": dead, "other_leases": other_leases}


async def overview(console: Console, request: Request) -> Response:
    data = await anyio.to_thread.run_sync(_overview, console, request.state.user)
    return console.render(request, "overview.html", **data)


# --------------------------------------------------------------------------- records


async def records(console: Console, request: Request) -> Response:
    user: Principal = request.state.user
    params = request.query_params
    state = params.get("state") or None
    search = (params.get("q") or "").strip() or None
    before_text = params.get("before") or ""
    before = int(before_text) if before_text.isdigit() else None
    rows = await anyio.to_thread.run_sync(
        lambda: q.records_page(
            console.store, console.pipelines(user), state=state, search=search, before_id=before
        )
    )
    more = rows[-1].id if len(rows) == q.PAGE_SIZE else None
    return console.render(
        request,
        "records.html",
        rows=rows,
        state=state or "",
        search=search or "",
        more=more,
        states=("pending", "synced", "retrying", "failed", "needs_mapping", "conflict", "skipped"),
    )


def _record_page(console: Console, user: Principal, record_id: int) -> dict[str, Any] | None:
    record = q.record_in(console.store, record_id, console.pipelines(user))
    if record is None:
        return None
    settings = console.target_settings(record.pipeline_id)
    bindings = q.bindings_of(
        console.store,
        record.tenant_id,
        console.source_connection(record.pipeline_id),
        record.entity,
        record.external_id,
    )
    documents = [
        {
            "kind": b.target_kind,
            "source": f"{b.entity} {b.external_id}",
            "target_id": b.target_id,
            "link": zoho_link(settings, b.target_kind, b.target_id),
            "total": b.snapshot.get("total") or b.snapshot.get("amount"),
            "currency": b.snapshot.get("currency", ""),
        }
        for b in bindings
    ]
    hint = (
        mapping_hint(record.reason, record.missing_key, console.mapping_files())
        if record.state == "needs_mapping"
        else None
    )
    return {
        "record": record,
        "history": q.history(console.store, record_id),
        "events": q.record_events(console.store, record_id),
        "documents": documents,
        "hint": hint,
        "retry_text": RETRY_SAFE if record.retry_safe else RETRY_UNSAFE,
    }


async def record(console: Console, request: Request) -> Response:
    user: Principal = request.state.user
    record_id = int(request.path_params["record_id"])
    data = await anyio.to_thread.run_sync(_record_page, console, user, record_id)
    if data is None:
        raise not_found()
    return console.render(request, "record.html", replayed=_replayed(request, data), **data)


def _replayed(request: Request, data: dict[str, Any]) -> str | None:
    """The note after a replay: the record's state, or the error the replay met as its
    audit event stored it -- never text taken from the URL (no spoofed notices)."""
    if "replayed" not in request.query_params:
        return None
    actions = [e for e in data["events"] if e.operation == "operator_replay"]
    if actions and actions[-1].details.get("error"):
        return f"failed: {actions[-1].details['error']}"
    return str(data["record"].state)


# --------------------------------------------------------------------------- failures


def _failures(console: Console, user: Principal) -> list[dict[str, Any]]:
    pipelines = console.pipelines(user)
    out = []
    for group in q.failure_groups(console.store, pipelines):
        sample = q.record_in(console.store, group.sample_id, pipelines)
        members = q.group_members(
            console.store, pipelines, group.state, group.error_class, group.key, limit=20
        )
        hint = None
        if sample is not None and group.state == "needs_mapping":
            hint = mapping_hint(sample.reason, sample.missing_key, console.mapping_files())
        out.append(
            {
                "group": group,
                "reason": sample.reason if sample else "",
                "retry_text": RETRY_SAFE if sample is None or sample.retry_safe else RETRY_UNSAFE,
                "hint": hint,
                "members": members,
            }
        )
    return out


async def failures(console: Console, request: Request) -> Response:
    groups = await anyio.to_thread.run_sync(_failures, console, request.state.user)
    shown = request.query_params.get("replayed", "")
    return console.render(
        request,
        "failures.html",
        groups=groups,
        replayed=shown if shown.isdigit() else None,  # a count; never text from the URL
    )


# --------------------------------------------------------------------------- replay


async def _replay(
    console: Console, user: Principal, chosen: list[SyncRecord]
) -> tuple[list[RunReport], str | None]:
    """Replay ``chosen`` through the engine (a fresh config: a fixed mapping applies) and
    record one audit event per record naming the user, whatever came of it."""
    reports: list[RunReport] = []
    error: str | None = None
    try:
        engine = Engine(console.fresh_config(), console.store, transports=console.transports)
        async with engine:
            reports = await engine.replay([r.id for r in chosen if r.id is not None])
    except LedgerbridgeError as exc:
        error = str(exc)
    problems = [str(r.halted) for r in reports if r.halted is not None]
    problems += [r.busy for r in reports if r.busy is not None]
    error = error or ("; ".join(problems) if problems else None)
    pipelines = console.pipelines(user)

    def audit() -> None:
        for before in chosen:
            after = q.record_in(console.store, before.id or 0, pipelines) or before
            q.record_operator_action(
                console.store,
                after,
                user=user.username,
                action="replay",
                outcome="error" if error else after.state,
                details={"role": user.role, "from_state": before.state, "error": error},
            )

    await anyio.to_thread.run_sync(audit)
    return reports, error


async def replay_one(console: Console, request: Request) -> Response:
    user: Principal = request.state.user
    record_id = int(request.path_params["record_id"])
    found = await anyio.to_thread.run_sync(
        lambda: q.record_in(console.store, record_id, console.pipelines(user))
    )
    if found is None:
        raise not_found()
    _, error = await _replay(console, user, [found])
    after = await anyio.to_thread.run_sync(
        lambda: q.record_in(console.store, record_id, console.pipelines(user))
    )
    outcome = "error" if error else (after.state if after else "gone")
    return redirect(request, f"/records/{record_id}", replayed=outcome)


async def replay_group(console: Console, request: Request) -> Response:
    user: Principal = request.state.user
    form = request.state.form
    state = str(form.get("state") or "")
    error_class = str(form.get("error_class") or "") or None
    key = str(form.get("key") or "") or None
    members = await anyio.to_thread.run_sync(
        lambda: q.group_members(console.store, console.pipelines(user), state, error_class, key)
    )
    if not members:
        raise not_found()
    _, error = await _replay(console, user, members)
    if error:  # the reason is in each record's timeline (its operator_replay event)
        return redirect(request, f"/records/{members[0].id}", replayed="error")
    return redirect(request, "/failures", replayed=len(members))


__all__ = ["failures", "overview", "record", "records", "replay_group", "replay_one"]
