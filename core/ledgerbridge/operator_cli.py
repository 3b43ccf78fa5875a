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
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import operator_locks
from .config import load_config
from .engine import Engine, RunReport
from .engine.scheduler import PipelineResult
from .errors import LedgerbridgeError
from .exitcodes import ExitCode, most_urgent
from .operator_state import audit, conflicts_app, failures, find_one_order, status
from .operator_views import checkpoints_text
from .progress import ProgressReport
from .store import RecordState, Store

console = Console()
err_console = Console(stderr=True)
log = logging.getLogger("ledgerbridge.cli")

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG")
]
DEFAULT_CONFIG = Path("ledgerbridge.yaml")


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

    def __init__(self, progress: ProgressReport) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        seconds = getattr(record, "wait_seconds", None)
        reason = getattr(record, "wait_reason", "")
        if seconds is not None:
            self.progress.waiting(seconds, reason)


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
    """Run pipelines once, with progress (stderr: done/total, ETA) and a closing summary."""
    if json_out and not dry_run:
        err_console.print("[red]error:[/] --json goes with --dry-run")
        raise typer.Exit(int(ExitCode.USAGE))
    if pipeline is not None:  # a catalog pipeline runs through its own runner (catalog/cli.py)
        from .catalog.cli import find, run_and_print

        loaded = load_config(config)
        if find(loaded, pipeline) is not None:
            run_and_print(loaded, pipeline, dry_run=dry_run, as_json=json_out)
            return
    with ProgressReport("backfill" if backfill else "syncing") as progress:
        handler = _WaitDisplay(progress)
        logging.getLogger("ledgerbridge.retry").addHandler(handler)
        try:
            engine = _engine(config, on_record=progress.record, on_expect=progress.expect)

            async def main() -> list[RunReport]:
                async with engine:
                    return await engine.sync(
                        pipeline, dry_run=dry_run, since=since, backfill=backfill
                    )

            reports = anyio.run(main)
        finally:
            logging.getLogger("ledgerbridge.retry").removeHandler(handler)
    catalogs = [] if pipeline is not None or backfill or since else _catalog_ids(config)
    if json_out and catalogs:  # one JSON document: the catalogs' reports are asked by id
        err_console.print(
            "catalog pipelines not in this report: "
            + ", ".join(f"ledgerbridge sync {c} --dry-run --json" for c in catalogs),
            highlight=False,
            soft_wrap=True,
        )
        catalogs = []
    if dry_run:  # what would post and what would park (dryrun_cli.py)
        from .dryrun_cli import show_dry_run

        show_dry_run(reports, as_json=json_out)
    elif reports or not catalogs:
        _print_reports(reports)
    code = _explain(reports)
    if catalogs:  # every enabled catalog pipeline too, after the order ones (catalog/cli.py)
        from .catalog.cli import run_and_report

        loaded = load_config(config)
        codes = [run_and_report(loaded, c, dry_run=dry_run, as_json=False) for c in catalogs]
        code = most_urgent([code, *codes])
    _exit(code)


def _catalog_ids(config: Path) -> list[str]:
    """The enabled catalog pipelines of the configuration, in file order."""
    return [e.pipeline.id for e in load_config(config).catalogs if e.pipeline.enabled]


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
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1, help="Pipelines of different tenants running at once (run.concurrency; 4)."
        ),
    ] = None,
) -> None:
    """The long-running scheduler: polls pipelines on their interval and drains the webhook inbox.

    Tenants' pipelines run concurrently; one pipeline's error, busy lease or refused
    credentials is logged with its tenant and pipeline, and the others go on.
    SIGTERM/SIGINT stop it cleanly: the record in flight finishes, nothing is lost.
    """
    from .cli import exit_code_of
    from .engine.scheduler import Scheduler

    stop = {"requested": False}
    engine = _engine(config)
    engine.should_stop = lambda: stop["requested"]
    codes: list[ExitCode] = []

    def request_stop(signum: int, _frame: Any) -> None:
        stop["requested"] = True
        log.warning("%s: finishing the record in flight", signal.Signals(signum).name)

    def on_result(result: PipelineResult) -> None:
        error = result.error
        if not once:
            return  # a long run logs each result; only ``--once`` exits with them
        if error is None:
            assert result.report is not None
            codes.append(report_code(result.report))
        elif isinstance(error, LedgerbridgeError):
            codes.append(exit_code_of(error))
        else:
            codes.append(ExitCode.INTERNAL)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    scheduler = Scheduler(
        engine,
        concurrency=concurrency or engine.config.config.run.concurrency,
        inbox_every=inbox_every,
        should_stop=lambda: stop["requested"],
        on_result=on_result,
    )
    log.info(
        "scheduler started: %d pipeline(s), up to %d at once",
        len(engine.pipelines()),
        scheduler.concurrency,
    )

    async def main() -> None:
        async with engine:
            if once:
                await scheduler.run_once()
            else:
                await scheduler.run_forever()

    anyio.run(main)
    if once:  # the round's results on stdout (the log lines went to stderr as it ran)
        for result in scheduler.results:
            console.print(_result_line(result), highlight=False, soft_wrap=True)
    console.print("stopped")
    if once:  # one round for cron: its worst outcome, as for ``sync``
        _exit(most_urgent(codes))


def _result_line(result: PipelineResult) -> str:
    report = result.report
    head = f"{result.tenant_id}/{result.pipeline_id}"
    if result.error is not None or report is None:
        return f"{head}: error: {result.error}"
    if report.busy is not None:
        return f"{head}: busy: {report.busy}"
    line = f"{head}: read {report.read}, writes {report.writes}, parked {report.parked}"
    return line + (f" (halted: {report.halted})" if report.halted is not None else "")


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
                log.warning(
                    "the store is not ready (%s); deliveries are answered 503 until it is "
                    "(retrying every few seconds)",
                    readiness["problem"],
                )
            console.file.flush()

    receiver = app(config) if only != "console" else None
    served = with_console(receiver, config, only=only)
    from .logs import uvicorn_log_config

    settings = uvicorn.Config(
        served, host=host, port=port, log_level="warning", log_config=uvicorn_log_config()
    )
    Announcing(settings).run()


def serving_line(only: str | None, url: str) -> str:
    """What ``serve`` prints once it listens."""
    if only == "console":
        return f"ledgerbridge console listening on {url}/console/"
    receiver = "(POST /webhooks/{tenant}/{connection}, GET /health"
    if only == "receiver":
        return f"ledgerbridge receiver listening on {url} {receiver}; no console)"
    return f"ledgerbridge receiver listening on {url} {receiver}; console at /console)"


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
    with ProgressReport("replaying") as progress:
        engine = _engine(config, on_record=progress.record, on_expect=progress.expect)
        engine.store.migrate()
        record_ids: list[int] | None = None
        if ids:
            record_ids = []
            for query in ids:
                found = find_one_order(
                    engine, query, tenant=tenant, pipeline=pipeline, record_ids=True
                )
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
