"""Operator commands: sync, run, serve, status, failures, replay, conflicts, audit, unlock.

Each failure line answers three questions a support person has: *what record*,
*why* (error class, platform code and message, or the missing mapping key), and
*whether a retry is safe*.  Every command exits with a code from ``exitcodes``
(documented in docs/operations.md, "Exit codes") so cron and Kubernetes can act on it.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import operator_locks
from .config import load_config
from .engine import Engine, RecordOutcome, RunReport
from .exitcodes import ExitCode, most_urgent
from .store import RecordState, Store, SyncRecord

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG")
]
DEFAULT_CONFIG = Path("ledgerbridge.yaml")
COUNTERS = (
    "read {task.fields[read]} · written {task.fields[written]} · parked {task.fields[parked]}"
)

conflicts_app = typer.Typer(help="List and resolve conflicts.", invoke_without_command=True)


def _engine(config: Path, **kw: Any) -> Engine:
    loaded = load_config(config)
    return Engine(loaded, Store(loaded.config.database), **kw)


def _exit(code: ExitCode) -> None:
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def report_code(report: RunReport) -> ExitCode:
    """What one pipeline's run comes to, as an exit code."""
    if report.halted is not None:
        return ExitCode.CREDENTIALS
    if report.parked:
        return ExitCode.PARKED
    if report.busy is not None:
        return ExitCode.BUSY
    if report.retrying:
        return ExitCode.RETRYING
    return ExitCode.OK


def _explain(reports: list[RunReport]) -> ExitCode:
    """Say on stderr why runs stopped early; the exit code of them all."""
    for report in reports:
        if report.halted is not None:
            err_console.print(f"[red]error:[/] {report.halted}", highlight=False, soft_wrap=True)
            err_console.print(
                f"reconnect: [bold]{report.halted.instruction}[/]", highlight=False, soft_wrap=True
            )
        if report.busy is not None:
            err_console.print(f"[yellow]busy:[/] {report.busy}", highlight=False, soft_wrap=True)
    return most_urgent(report_code(r) for r in reports)


# --------------------------------------------------------------------------- sync


class _WaitDisplay(logging.Handler):
    """Shows rate-limit waits in the progress display instead of a frozen screen."""

    def __init__(self, progress: Progress, task: Any) -> None:
        super().__init__(logging.INFO)
        self.progress, self.task = progress, task

    def emit(self, record: logging.LogRecord) -> None:
        seconds = getattr(record, "wait_seconds", None)
        reason = getattr(record, "wait_reason", "")
        if seconds is not None:
            self.progress.update(
                self.task, description=f"[yellow]waiting {seconds:.0f}s ({reason})[/]"
            )


def sync(
    pipeline: Annotated[str | None, typer.Argument(help="Pipeline id (default: all).")] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    since: Annotated[
        str | None, typer.Option(help="Read changes since this checkpoint/ISO time.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Plan only: show the writes, make none.")] = False,
    backfill: Annotated[bool, typer.Option(help="Use the source's bulk path.")] = False,
) -> None:
    """Run pipelines once, with progress and a closing summary."""
    counts = {"read": 0, "written": 0, "parked": 0}

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=None),
        TextColumn(COUNTERS),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("syncing", total=None, read=0, written=0, parked=0)

        def on_record(outcome: RecordOutcome) -> None:
            counts["read"] += 1
            counts["written"] += sum(1 for _, r in outcome.writes if r == "written")
            if outcome.state in (
                RecordState.FAILED,
                RecordState.NEEDS_MAPPING,
                RecordState.CONFLICT,
            ):
                counts["parked"] += 1
            progress.update(
                task,
                description="syncing",
                read=counts["read"],
                written=counts["written"],
                parked=counts["parked"],
            )

        handler = _WaitDisplay(progress, task)
        logging.getLogger("ledgerbridge.retry").addHandler(handler)
        logging.getLogger("ledgerbridge.retry").setLevel(logging.INFO)
        try:
            engine = _engine(config, on_record=on_record)

            async def main() -> list[RunReport]:
                async with engine:
                    return await engine.sync(
                        pipeline, dry_run=dry_run, since=since, backfill=backfill
                    )

            reports = anyio.run(main)
        finally:
            logging.getLogger("ledgerbridge.retry").removeHandler(handler)
        progress.update(task, description="done")
    _print_reports(reports)
    if dry_run:
        _print_plans(reports)
        return
    _exit(_explain(reports))


def _print_reports(reports: list[RunReport]) -> None:
    table = Table(title="Sync summary")
    for col in ("pipeline", "read", "unchanged", "writes", "adopted", "synced", "skipped",
                "parked", "retrying", "checkpoint"):  # fmt: skip
        table.add_column(col, justify="right" if col not in ("pipeline", "checkpoint") else "left")
    for r in reports:
        table.add_row(
            r.pipeline_id,
            str(r.read),
            str(r.unchanged),
            str(r.writes),
            str(r.adopted),
            str(r.states["synced"]),
            str(r.states["skipped"]),
            str(r.parked),
            str(r.states["retrying"]),
            ", ".join(f"{k}={v}" for k, v in r.checkpoints.items()) or "-",
        )
    console.print(table)


def _print_plans(reports: list[RunReport]) -> None:
    for report in reports:
        for plan in report.plans:
            if plan.skipped:
                console.print(f"[dim]{plan.order_key}: skipped — {plan.skipped}[/]")
                continue
            console.print(f"[bold]{plan.order_key}[/] (version {plan.version})")
            for write in plan.writes:
                payload = write.draft.model_dump(mode="json") if write.draft is not None else {}
                console.print(f"  • {write.operation.value}: {write.reason}")
                console.print_json(json.dumps(payload))


# --------------------------------------------------------------------------- run


def run(
    config: ConfigOption = DEFAULT_CONFIG,
    inbox_every: Annotated[float, typer.Option(help="Seconds between inbox drains.")] = 2.0,
    once: Annotated[bool, typer.Option(help="One scheduling round, then exit.")] = False,
) -> None:
    """The long-running scheduler: polls pipelines on their interval and drains the webhook inbox.

    SIGTERM/SIGINT stop it cleanly: the record in flight finishes, nothing is lost.
    """
    stop = {"requested": False}
    engine = _engine(config)
    engine.should_stop = lambda: stop["requested"]
    last_run: dict[str, float] = {}
    codes: list[ExitCode] = []

    def request_stop(signum: int, _frame: Any) -> None:
        stop["requested"] = True
        err_console.print(
            f"[yellow]{signal.Signals(signum).name}: finishing the record in flight[/]"
        )

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    async def main() -> None:
        async with engine:
            await engine.prepare()
            while not stop["requested"]:
                for _, pipeline in engine.pipelines():
                    due = last_run.get(pipeline.id, 0.0) + pipeline.interval.total_seconds()
                    if time.monotonic() >= due and not stop["requested"]:
                        [report] = await engine.sync(pipeline.id)
                        last_run[pipeline.id] = time.monotonic()
                        console.print(
                            f"{pipeline.id}: read {report.read}, writes {report.writes}, "
                            f"parked {report.parked}"
                        )
                        codes.append(_explain([report]))
                outcomes = await engine.process_inbox()
                if outcomes:
                    console.print(f"inbox: {len(outcomes)} event(s) processed")
                if once:
                    break
                with anyio.move_on_after(inbox_every):
                    while not stop["requested"]:
                        await anyio.sleep(0.1)

    anyio.run(main)
    console.print("stopped")
    if once:  # one round for cron: its outcome, as for ``sync``
        _exit(most_urgent(codes))


def serve(
    config: ConfigOption = DEFAULT_CONFIG,
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 8787,
    host: Annotated[str, typer.Option(help="Interface.")] = "127.0.0.1",
    only: Annotated[
        str | None,
        typer.Option(help="Serve one part alone: 'receiver' or 'console' (default: both)."),
    ] = None,
) -> None:
    """Run the webhook receiver (POST /webhooks/{tenant}/{connection}) and the operator
    console (/console); ``--only receiver`` or ``--only console`` serves one of them.

    The store is set up before the port opens; then it prints the URL it listens on.
    """
    if only not in (None, "receiver", "console"):
        err_console.print("[red]error:[/] --only must be 'receiver' or 'console'")
        raise typer.Exit(2)
    import uvicorn

    from .console import with_console
    from .webhooks import app

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.should_exit:
                return
            for server in self.servers:
                for sock in server.sockets:
                    address, bound = sock.getsockname()[:2]
                    console.print(
                        serving_line(only, f"http://{address}:{bound}"),
                        highlight=False,
                        soft_wrap=True,
                    )
            readiness = receiver.state.readiness if receiver is not None else {"ready": True}
            if not readiness["ready"]:
                err_console.print(
                    f"[yellow]the store is not ready ({readiness['problem']}); deliveries are "
                    "answered 503 until it is (retrying every few seconds)[/]",
                    highlight=False,
                    soft_wrap=True,
                )
            console.file.flush()

    receiver = app(config) if only != "console" else None
    served = with_console(receiver, config, only=only)
    Announcing(uvicorn.Config(served, host=host, port=port, log_level="warning")).run()


def serving_line(only: str | None, url: str) -> str:
    """What ``serve`` prints once it listens."""
    if only == "console":
        return f"ledgerbridge console listening on {url}/console/"
    receiver = "(POST /webhooks/{tenant}/{connection}, GET /health"
    if only == "receiver":
        return f"ledgerbridge receiver listening on {url} {receiver}; no console)"
    return f"ledgerbridge receiver listening on {url} {receiver}; console at /console)"


# --------------------------------------------------------------------------- reading state


def status(
    config: ConfigOption = DEFAULT_CONFIG,
    limits: Annotated[
        bool, typer.Option(help="Ask each target for its rate-limit state (one call each).")
    ] = True,
) -> None:
    """Per tenant and pipeline: last activity, checkpoint, counts per record state, limits;
    then connections that need reconnecting, and the leases with their holders and expiry."""
    engine = _engine(config)
    engine.store.migrate()
    limit_state: dict[str, Any] = {}
    if limits:

        async def read_limits() -> dict[str, Any]:
            async with engine:
                return await engine.limits()

        limit_state = anyio.run(read_limits)
    table = Table(title="Pipelines")
    for col in ("tenant", "pipeline", "last activity", "checkpoint", "states", "inbox", "limits"):
        table.add_column(col)
    pending = len(engine.store.pending_inbox(limit=100000))
    pipes = {p.id: p for _, p in engine.config.pipelines()}
    dead = {c.id: c for c in engine.needing_reconnect()}
    for st in engine.status():
        target = f"{st.tenant_id}/{pipes[st.pipeline_id].target}"
        table.add_row(
            st.tenant_id,
            st.pipeline_id,
            st.last_activity or "never",
            ", ".join(f"{k}={v}" for k, v in st.checkpoints.items()) or "-",
            ", ".join(f"{k}: {v}" for k, v in sorted(st.states.items())) or "-",
            f"{pending} waiting",
            _limits_text(limit_state.get(target)) if limits else "-",
        )
    console.print(table)
    operator_locks.print_dead_connections(console, list(dead.values()))
    operator_locks.print_leases(console, engine)
    from .worker.status import render as render_shared

    render_shared(engine.config, console)  # distributed mode: the workers' shared state


def _limits_text(state: dict[str, Any] | None) -> str:
    if not state:
        return "-"
    if "error" in state:
        return f"unknown ({state['error']})"
    return (
        f"{state['calls_left_this_minute']}/{state['per_minute']} this minute (this process), "
        f"{state['calls_left_today']}/{state['daily_quota']} today"
    )


def _failure_row(record: SyncRecord) -> dict[str, Any]:
    why = record.reason or ""
    if record.missing_key:
        why = f"missing mapping: {record.missing_key} — {why}"
    return {
        "id": record.id,
        "tenant": record.tenant_id,
        "pipeline": record.pipeline_id,
        "record": f"{record.entity} {record.external_id}",
        "version": record.source_version,
        "state": record.state,
        "error_class": record.error_class,
        "platform_code": record.error_code,
        "why": why,
        "retry_safe": record.retry_safe,
        "attempts": record.attempt_count,
        "next_attempt": record.next_attempt_at.isoformat() if record.next_attempt_at else None,
    }


def failures(
    config: ConfigOption = DEFAULT_CONFIG,
    state: Annotated[
        list[RecordState] | None, typer.Option(help="failed, needs_mapping, retrying, conflict")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """What failed, why, and whether a retry is safe."""
    engine = _engine(config)
    engine.store.migrate()
    rows = [_failure_row(r) for r in engine.failures(state, tenant=tenant)]
    code = _rows_code(rows)
    if as_json:
        console.print_json(json.dumps(rows))
        _exit(code)
        return
    if not rows:
        console.print("no failures")
        return
    table = Table(title="Failures")
    for col in ("id", "record", "state", "why", "code", "retry safe", "attempts"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            str(row["id"]),
            f"{row['pipeline']}: {row['record']}",
            row["state"],
            f"{row['error_class'] or ''}: {row['why']}",
            row["platform_code"] or "-",
            "yes" if row["retry_safe"] else "no — fix first",
            str(row["attempts"]),
        )
    console.print(table)
    _exit(code)


def _rows_code(rows: list[dict[str, Any]]) -> ExitCode:
    """``failures`` exits with the worst state it lists: PARKED for failed, needs_mapping or
    conflict rows (a person must act), RETRYING when only retrying rows are listed."""
    parked = {RecordState.FAILED, RecordState.NEEDS_MAPPING, RecordState.CONFLICT}
    states = {RecordState(row["state"]) for row in rows}
    if states & parked:
        return ExitCode.PARKED
    return ExitCode.RETRYING if states else ExitCode.OK


def replay(
    ids: Annotated[list[int] | None, typer.Argument(help="Record ids (from `failures`).")] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    state: Annotated[
        RecordState | None, typer.Option(help="Replay every record in this state.")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
) -> None:
    """Re-run parked records safely (each write is idempotent through its intent)."""
    if not ids and state is None:
        err_console.print("[red]error:[/] name record ids or --state")
        raise typer.Exit(2)
    engine = _engine(config)

    async def main() -> list[RunReport]:
        async with engine:
            return await engine.replay(ids, state=state, tenant=tenant)

    reports = anyio.run(main)
    if ids and not reports:
        err_console.print(f"[red]error:[/] no records with id {', '.join(map(str, ids))}")
        raise typer.Exit(int(ExitCode.NOT_FOUND))
    _print_reports(reports)
    _exit(_explain(reports))


@conflicts_app.callback()
def conflicts(ctx: typer.Context, config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Open conflicts: records changed both in the source and in the target."""
    ctx.obj = config
    if ctx.invoked_subcommand is not None:
        return
    engine = _engine(config)
    engine.store.migrate()
    rows = engine.conflicts()
    if not rows:
        console.print("no open conflicts")
        return
    table = Table(title="Conflicts")
    for col in ("id", "pipeline", "record", "target id", "fields", "since"):
        table.add_column(col)
    for c in rows:
        table.add_row(
            str(c.id), c.pipeline_id, f"{c.entity} {c.external_id}", c.target_id or "-",
            ", ".join(c.fields), c.created_at.isoformat(timespec="seconds"),
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
    order: Annotated[str, typer.Argument(help="Source order id.")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Every write made for one source order, in order, with its outcome."""
    engine = _engine(config)
    engine.store.migrate()
    events = engine.audit(order)
    if not events:
        err_console.print(f"no writes recorded for order {order}")
        raise typer.Exit(int(ExitCode.NOT_FOUND))
    table = Table(title=f"Audit of order {order}")
    for col in ("at", "operation", "outcome", "target id", "version", "ms", "key"):
        table.add_column(col)
    for e in events:
        table.add_row(
            e.at.isoformat(timespec="seconds"), e.operation, e.outcome, e.target_id or "-",
            e.source_version or "-", str(e.duration_ms or 0), e.idempotency_key,
        )  # fmt: skip
    console.print(table)


def register(app: typer.Typer) -> None:
    for command in (sync, run, serve, status, failures, replay, audit, operator_locks.unlock):
        app.command()(command)
    app.add_typer(conflicts_app, name="conflicts")
