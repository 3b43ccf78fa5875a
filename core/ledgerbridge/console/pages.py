"""The records, one record and failures pages, and the replay action (run as a job with
live progress, ``jobs.py``).

Every page is limited to the pipelines of the tenants the user may see: a record of another
tenant is answered 404 exactly like one that does not exist.  Replay goes through
``Engine.replay``, the path of ``ledgerbridge replay`` (intents keep it from posting twice),
and leaves an audit event naming the user.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..engine import Engine, RunReport
from ..errors import LedgerbridgeError
from ..store import SyncRecord
from ..store import console_queries as q
from . import jobs
from .auth import Principal
from .money import money_summary
from .present import mapping_hint, zoho_link
from .web import Console, not_found

RETRY_SAFE = (
    "Retry is safe: every write carries an idempotency key recorded before it is sent, so a "
    "replay adopts a document the target already has instead of posting it twice."
)
RETRY_UNSAFE = (
    "Fix the cause first: replaying before the mapping, the data or the target is fixed "
    "parks the record again with the same reason."
)


# --------------------------------------------------------------------------- records


STATES = (
    "pending", "synced", "retrying", "failed", "needs_mapping", "conflict", "skipped", "waiting",
)  # fmt: skip


def _day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"{field}: not a date (YYYY-MM-DD): {text[:20]!r}") from None


async def records(console: Console, request: Request) -> Response:
    """Search by order number or source id, target document number, state and first-seen
    dates."""
    user: Principal = request.state.user
    params = request.query_params
    state = params.get("state") or None
    if state is not None and state not in STATES:
        raise HTTPException(400, f"state: not one of {', '.join(STATES)}")
    search = (params.get("q") or "").strip() or None
    number = (params.get("number") or "").strip() or None
    first, last = _day(params.get("from", ""), "from"), _day(params.get("to", ""), "to")
    since = datetime(first.year, first.month, first.day, tzinfo=UTC) if first else None
    until = (
        datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1) if last else None
    )
    before_text = params.get("before") or ""
    before = int(before_text) if before_text.isdigit() else None
    pipelines = console.pipelines(user)

    def read() -> list[SyncRecord]:
        if number or search:
            # a handful of records: the other criteria narrow them here
            found = (
                q.records_by_number(console.store, pipelines, number)
                if number
                else q.records_by_order(console.store, pipelines, search or "")
            )
            named = (
                {r.id for r in q.records_by_order(console.store, pipelines, search)}
                if (number and search)
                else None
            )
            return [
                r for r in found
                if (not state or r.state == state) and (named is None or r.id in named)
                and (since is None or r.created_at >= since)
                and (until is None or r.created_at < until)
            ]  # fmt: skip
        return q.records_page(
            console.store, pipelines, state=state, search=search, before_id=before,
            since=since, until=until,
        )  # fmt: skip

    rows = await anyio.to_thread.run_sync(read)
    more = rows[-1].id if len(rows) == q.PAGE_SIZE and not (number or search) else None
    query = {
        "q": search or "", "number": number or "", "state": state or "",
        "from": first.isoformat() if first else "", "to": last.isoformat() if last else "",
    }  # fmt: skip
    return console.render(
        request,
        "records.html",
        rows=rows,
        state=state or "",
        search=search or "",
        number=number or "",
        first=query["from"],
        last=query["to"],
        more_query=urlencode({**query, "before": more}) if more else None,
        states=STATES,
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
    numbers = q.document_numbers(console.store, record_id)
    documents = [
        {
            "kind": b.target_kind,
            "source": f"{b.entity} {b.external_id}",
            "target_id": b.target_id,
            "number": numbers.get(b.target_id, ""),
            "link": zoho_link(settings, b.target_kind, b.target_id),
            "total": b.snapshot.get("total") or b.snapshot.get("amount"),
            "currency": b.snapshot.get("currency", ""),
        }
        for b in bindings
    ]
    conflicts = q.conflicts_of(console.store, record.tenant_id, record_id)
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
        "money": money_summary(bindings, conflicts),
        "conflicts": conflicts,
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


async def replay_records(
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
    return await jobs.started(
        console, request, f"replay of {found.entity} {found.external_id}", [found], single=True
    )


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
    title = f"replay of the {state} group" + (f" {key}" if key else "")
    return await jobs.started(console, request, title, members, single=False)


__all__ = ["failures", "record", "records", "replay_group", "replay_one", "replay_records"]
