"""Operator commands: sync, run, serve, replay; status, failures, conflicts and audit are in
``operator_state``, unlock in ``operator_locks``.

Each failure line answers three questions a support person has: *what record*,
*why* (error class, platform code and message, or the missing mapping key), and
*whether a retry is safe*.  Every command exits with a code from ``exitcodes``
(documented in docs/operations.md, "Exit codes") so cron and Kubernetes can act on it.
"""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import operator_locks
from .config import load_config
from .engine import Engine, RecordOutcome, RunReport
from .exitcodes import ExitCode, most_urgent
from .operator_state import audit, conflicts_app, failures, find_one_order, status
from .operator_views import checkpoints_text
from .store import RecordState, Store

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG")
]
DEFAULT_CONFIG = Path("ledgerbridge.yaml")
COUNTERS = (
    "read {task.fields[read]} · written {task.fields[written]} · parked {task.fields[parked]}"
)


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
    dry_run: Annotated[
        bool,
        typer.Option(help="Plan only: what would post and what would park, and why; no writes."),
    ] = False,
    backfill: Annotated[bool, typer.Option(help="Use the source's bulk path.")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="With --dry-run: the same report as JSON.")
    ] = False,
) -> None:
    """Run pipelines once, with progress and a closing summary."""
    if json_out and not dry_run:
        err_console.print("[red]error:[/] --json goes with --dry-run")
        raise typer.Exit(int(ExitCode.USAGE))
    counts = {"read": 0, "written": 0, "parked": 0}

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=None),
        TextColumn(COUNTERS),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=json_out,
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
    if dry_run:  # what would post and what would park (dryrun_cli.py)
        from .dryrun_cli import show_dry_run

        show_dry_run(reports, as_json=json_out)
        _exit(_explain(reports))
        return
    _print_reports(reports)
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
            checkpoints_text(r.checkpoints),
        )
    console.print(table)


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
) -> None:
    """Run the webhook receiver (POST /webhooks/{tenant}/{connection}) and the operator
    console (/console).

    The store is set up before the port opens; then it prints the URL it listens on.
    """
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
                        f"ledgerbridge receiver listening on http://{address}:{bound} "
                        "(POST /webhooks/{tenant}/{connection}, GET /health; console at /console)",
                        highlight=False,
                        soft_wrap=True,
                    )
            readiness = receiver.state.readiness
            if not readiness["ready"]:
                err_console.print(
                    f"[yellow]the store is not ready ({readiness['problem']}); deliveries are "
                    "answered 503 until it is (retrying every few seconds)[/]",
                    highlight=False,
                    soft_wrap=True,
                )
            console.file.flush()

    receiver = app(config)
    served = with_console(receiver, config)
    Announcing(uvicorn.Config(served, host=host, port=port, log_level="warning")).run()


# --------------------------------------------------------------------------- replay


def replay(
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Record ids (from `failures`), order numbers ('#1003') or ids."),
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    state: Annotated[
        RecordState | None, typer.Option(help="Replay every record in this state.")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
) -> None:
    """Re-run parked records safely (each write is idempotent through its intent)."""
    if not ids and state is None:
        err_console.print("[red]error:[/] name record ids or --state")
        raise typer.Exit(2)
    engine = _engine(config)
    engine.store.migrate()
    record_ids: list[int] | None = None
    if ids:
        record_ids = []
        for query in ids:
            found = find_one_order(engine, query, tenant=tenant, pipeline=pipeline, record_ids=True)
            if found is None or found.id is None:
                err_console.print(f"[red]error:[/] no record or order {escape(repr(query))}")
                raise typer.Exit(int(ExitCode.NOT_FOUND))
            record_ids.append(found.id)
    elif pipeline is not None and state is not None:
        record_ids = [r.id for r in engine.failures([state], tenant=tenant)
                      if r.pipeline_id == pipeline and r.id is not None]  # fmt: skip
        if not record_ids:
            console.print(f"no {state.value} records in {pipeline}")
            return

    async def main() -> list[RunReport]:
        async with engine:
            return await engine.replay(record_ids, state=state, tenant=tenant)

    reports = anyio.run(main)
    if ids and not reports:
        err_console.print(f"[red]error:[/] no records with id {', '.join(map(str, ids))}")
        raise typer.Exit(int(ExitCode.NOT_FOUND))
    _print_reports(reports)
    _exit(_explain(reports))


def register(app: typer.Typer) -> None:
    for command in (sync, run, serve, status, failures, replay, audit, operator_locks.unlock):
        app.command()(command)
    app.add_typer(conflicts_app, name="conflicts")
