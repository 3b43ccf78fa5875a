"""Operator commands that read the store: status, failures, conflicts, audit.

An order is shown by the number the shop shows with its source id beside it, and found by
either (``store/orders.py``, shared with the console); ``--tenant``/``--pipeline`` narrow
a number several pipelines share, and an ambiguous one lists the candidates (exit 2).
Each command has ``--json`` (the shapes in ``operator_views``, documented in
docs/operations.md, "Machine-readable output"); its tables fit 100 columns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from . import operator_locks
from . import operator_views as views
from .config import load_config
from .engine import Engine, RecordOutcome
from .exitcodes import ExitCode
from .store import RecordState, Store, SyncRecord
from .store.orders import find_orders, order_events, order_label, records_by_id

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG")
]
DEFAULT_CONFIG = Path("ledgerbridge.yaml")
conflicts_app = typer.Typer(help="List and resolve conflicts.", invoke_without_command=True)


def _engine(config: Path, **kw: Any) -> Engine:
    loaded = load_config(config)
    return Engine(loaded, Store(loaded.config.database), **kw)


def _exit(code: ExitCode) -> None:
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


JsonOption = Annotated[
    bool, typer.Option("--json", help="Machine-readable output (docs/operations.md).")
]


def _print_json(data: Any) -> None:
    """JSON on stdout, whole and unwrapped (a pipe reads it whatever the terminal's width)."""
    print(json.dumps(data, indent=2, default=str), flush=True)


def status(
    config: ConfigOption = DEFAULT_CONFIG,
    limits: Annotated[
        bool, typer.Option(help="Ask each target for its rate-limit state (one call each).")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Per tenant and pipeline: last activity, checkpoint, counts per record state, limits;
    then connections that need reconnecting, and the leases with their holders and expiry."""
    from .catalog.status import catalog_rows, print_catalogs
    from .worker.status import shared_state

    engine = _engine(config)
    engine.store.migrate()
    limit_state: dict[str, Any] = {}
    if limits:

        async def read_limits() -> dict[str, Any]:
            async with engine:
                return await engine.limits()

        limit_state = anyio.run(read_limits)
    pending = len(engine.store.pending_inbox(limit=100000))
    pipes = {p.id: p for _, p in engine.config.pipelines()}
    dead = list({c.id: c for c in engine.needing_reconnect()}.values())
    rows: list[dict[str, Any]] = []
    for st in engine.status():
        target = f"{st.tenant_id}/{pipes[st.pipeline_id].target}"
        rows.append(
            {
                "tenant": st.tenant_id,
                "pipeline": st.pipeline_id,
                "last_activity": st.last_activity,
                "checkpoints": dict(st.checkpoints),
                "states": dict(sorted(st.states.items())),
                "inbox_waiting": pending,
                "limits": _limits_shown(limit_state.get(target)) if limits else None,
            }
        )
    catalogs = catalog_rows(engine.store, list(engine.config.catalogs))
    if as_json:
        _print_json(
            {
                "pipelines": rows,
                "catalogs": catalogs,
                "reconnect": [operator_locks.dead_connection_row(c) for c in dead],
                "leases": operator_locks.lease_rows(engine),
                "shared": shared_state(engine.config),
            }
        )
        return
    table = Table(title="Pipelines")
    for col in ("tenant", "pipeline", "last activity", "checkpoint", "states", "inbox", "limits"):
        table.add_column(Text(col), overflow="fold")
    for row in rows:
        _add_row(
            table,
            row["tenant"],
            row["pipeline"],
            _when(row["last_activity"]),
            views.checkpoints_text(row["checkpoints"]),
            "\n".join(f"{k}: {v}" for k, v in row["states"].items()) or "-",
            f"{pending} waiting",
            _limits_text(row["limits"]) if limits else "-",
        )
    console.print(table)
    print_catalogs(console, catalogs)
    operator_locks.print_dead_connections(console, dead)
    operator_locks.print_leases(console, engine)
    from .worker.status import render as render_shared

    render_shared(engine.config, console)  # distributed mode: the workers' shared state


def _add_row(table: Table, *cells: str) -> None:
    """A row of plain text: a reason such as "[payment 1001:paid]" is shown, not read as
    console markup."""
    table.add_row(*(Text(cell) for cell in cells))


def _when(iso: str | None) -> str:
    """A timestamp in a table: to the minute, UTC ("2026-12-04 10:31")."""
    return views.summarise_checkpoint(iso) if iso else "never"


def _limits_shown(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """What ``status`` may say about a target's limits: only figures every process shares.

    ``status`` is a process of its own: its limiter's minute budget counts its own one call,
    not the workers' (the shared per-minute counts are in the "Shared limits" table of the
    distributed mode).  Calls left today are shown when the platform itself counted them."""
    if not state:
        return None
    if "error" in state:
        return {"error": state["error"]}
    shown: dict[str, Any] = {k: state[k] for k in ("organization_id", "daily_quota") if k in state}
    if state.get("today_counted_by") == "platform":
        shown["calls_left_today"] = state.get("calls_left_today")
    return shown


def _limits_text(state: dict[str, Any] | None) -> str:
    if not state:
        return "-"
    if "error" in state:
        return f"unknown ({state['error']})"
    if state.get("calls_left_today") is None:
        return "today: not known"
    return f"{state['calls_left_today']}/{state['daily_quota']} left today"


def failures(
    config: ConfigOption = DEFAULT_CONFIG,
    state: Annotated[
        list[RecordState] | None,
        typer.Option(help="failed, needs_mapping, retrying, conflict, waiting"),
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="One line per record instead of grouped by cause.")
    ] = False,
    group: Annotated[
        bool, typer.Option("--group", help="With --json: the groups instead of the records.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """What failed, why, and whether a retry is safe: grouped by cause (the missing mapping
    key, else the error) with counts and the orders of each; `--all` lists every record."""
    engine = _engine(config)
    engine.store.migrate()
    records = engine.failures(state, tenant=tenant)
    rows = [views.failure_row(r) for r in records if pipeline in (None, r.pipeline_id)]
    code = _rows_code(rows)
    if as_json:
        _print_json(views.failure_groups(rows) if group else rows)
        _exit(code)
        return
    if not rows:
        console.print("no failures")
        return
    if show_all:
        _print_failure_list(rows)
    else:
        _print_failure_groups(rows)
    _exit(code)


def _print_failure_list(rows: list[dict[str, Any]]) -> None:
    table = Table(title="Failures")
    for col in ("id", "order", "state", "why", "retry safe", "tries"):
        table.add_column(Text(col), overflow="fold")
    for row in rows:
        why = f"{row['error_class'] or ''}: {row['why']}"
        if row["platform_code"]:
            why += f" (code {row['platform_code']})"
        _add_row(
            table,
            str(row["id"]),
            f"{row['order']}\n{row['pipeline']}",
            row["state"],
            why,
            "yes" if row["retry_safe"] else "no — fix first",
            str(row["attempts"]),
        )
    console.print(table)


def _print_failure_groups(rows: list[dict[str, Any]]) -> None:
    groups = views.failure_groups(rows)
    table = Table(title=f"Failures: {len(rows)} record(s) in {len(groups)} group(s) by cause")
    for col in ("n", "state", "why", "retry safe", "orders [record id]"):
        table.add_column(Text(col), overflow="fold")
    for g in groups:
        why = f"{g['error_class'] or ''}: {g['why']}"
        code = g["records"][0]["platform_code"]
        shown = [f"{r['order']} [{r['id']}]" for r in g["records"][:10]]
        if g["count"] > len(shown):
            shown.append(f"… and {g['count'] - len(shown)} more (--all)")
        _add_row(
            table,
            str(g["count"]),
            g["state"],
            why + (f" (code {code})" if code else ""),
            "yes" if g["retry_safe"] else "no — fix first",
            ", ".join(shown),
        )
    console.print(table)
    console.print("one line per record: ledgerbridge failures --all (or --json)")


def _rows_code(rows: list[dict[str, Any]]) -> ExitCode:
    """``failures`` exits with the worst state it lists: PARKED for failed, needs_mapping or
    conflict rows (a person must act), RETRYING when only retrying rows are listed."""
    parked = {RecordState.FAILED, RecordState.NEEDS_MAPPING, RecordState.CONFLICT}
    states = {RecordState(row["state"]) for row in rows} - {RecordState.WAITING}  # not a fault
    if states & parked:
        return ExitCode.PARKED
    return ExitCode.RETRYING if states else ExitCode.OK


def find_one_order(
    engine: Engine,
    query: str,
    *,
    tenant: str | None,
    pipeline: str | None,
    record_ids: bool = False,
) -> SyncRecord | None:
    """The one order record ``query`` names (number, '#number', source id; with
    ``record_ids`` a record id too); several: list them and exit 2 (usage)."""
    found = find_orders(
        engine.store,
        query,
        tenant=tenant,
        pipelines=[pipeline] if pipeline else None,
        record_ids=record_ids,
    )
    if len(found) > 1:
        hint = ", or write '#' before an order number" if record_ids else ""
        err_console.print(
            f"[red]error:[/] {escape(repr(query))} names {len(found)} records; narrow it with "
            f"--tenant or --pipeline{hint}",
            highlight=False,
            soft_wrap=True,
        )
        for line in views.candidates_text(found):
            err_console.print(line, highlight=False, soft_wrap=True)
        raise typer.Exit(int(ExitCode.USAGE))
    return found[0] if found else None


@conflicts_app.callback()
def conflicts(
    ctx: typer.Context,
    config: ConfigOption = DEFAULT_CONFIG,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Open conflicts: records changed both in the source and in the target."""
    ctx.obj = config
    if ctx.invoked_subcommand is not None:
        return
    engine = _engine(config)
    engine.store.migrate()
    found = engine.conflicts(tenant=tenant)
    records = records_by_id(engine.store, [c.record_id for c in found if c.record_id is not None])
    rows = [views.conflict_row(c, records.get(c.record_id or -1)) for c in found]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        console.print("no open conflicts")
        return
    table = Table(title="Conflicts (`conflicts resolve ID --keep source|target`)")
    for col in ("id", "pipeline", "order", "target id", "fields", "since"):
        table.add_column(Text(col), overflow="fold")
    for row in rows:
        _add_row(
            table,
            str(row["id"]), row["pipeline"], f"{row['entity']} {row['order']}",
            row["target_id"] or "-", ", ".join(row["fields"]), _when(row["since"]),
        )  # fmt: skip
    console.print(table)


@conflicts_app.command("resolve")
def resolve(
    ctx: typer.Context,
    conflict_id: Annotated[int, typer.Argument(help="Conflict id.")],
    keep: Annotated[str, typer.Option(help="source | target")],
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG"),
    ] = None,
) -> None:
    """Resolve a conflict by keeping the source's or the target's version."""
    if keep not in ("source", "target"):
        err_console.print("[red]error:[/] --keep must be 'source' or 'target'")
        raise typer.Exit(2)
    # -c is accepted after `resolve` too (`conflicts resolve 3 --keep source -c x.yaml`)
    engine = _engine(config or ctx.obj or DEFAULT_CONFIG)

    async def main() -> RecordOutcome | None:
        async with engine:
            return await engine.resolve_conflict(conflict_id, keep)

    outcome = anyio.run(main)
    state = outcome.state.value if outcome and outcome.state else "synced"
    console.print(f"conflict {conflict_id} resolved (kept {keep}); record is {state}")


def audit(
    order: Annotated[
        str, typer.Argument(help="Order number as the shop shows it ('#1003', '1003') or id.")
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every write made for one source order, in order, with its outcome."""
    engine = _engine(config)
    engine.store.migrate()
    record = find_one_order(engine, order, tenant=tenant, pipeline=pipeline)
    if record is not None:
        events = order_events(engine.store, record)
    else:  # writes of a record the store no longer keeps: by source id, as before
        events = [
            e
            for e in engine.audit(order)
            if tenant in (None, e.tenant_id) and pipeline in (None, e.pipeline_id)
        ]
        if len({(e.tenant_id, e.pipeline_id) for e in events}) > 1:
            err_console.print(
                f"[red]error:[/] {escape(repr(order))} names orders in several pipelines"
            )
            raise typer.Exit(int(ExitCode.USAGE))
    if record is None and not events:
        err_console.print(f"no writes recorded for order {order}", highlight=False, markup=False)
        raise typer.Exit(int(ExitCode.NOT_FOUND))
    if as_json:
        _print_json(views.audit_json([record] if record else [], events))
        return
    title = f"Audit of order {order_label(record) if record else order}"
    if record is not None:
        title += f" — {record.tenant_id}/{record.pipeline_id}, {record.state}"
    if not events:
        console.print(f"{title}: no writes recorded", highlight=False, soft_wrap=True)
        return
    table = Table(title=title)
    for col in ("at", "operation", "outcome", "target id", "version", "ms", "key"):
        table.add_column(Text(col), overflow="fold")
    for e in events:
        _add_row(
            table,
            _when(e.at.isoformat()), e.operation, e.outcome, e.target_id or "-",
            e.source_version or "-", str(e.duration_ms or 0), e.idempotency_key,
        )  # fmt: skip
    console.print(table)


__all__ = ["audit", "conflicts", "conflicts_app", "failures", "find_one_order", "status"]
