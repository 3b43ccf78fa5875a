"""``ledgerbridge worker`` and ``ledgerbridge beat``: the distributed mode's processes.

Both take the config file like every command; anything after ``--`` goes to
Celery unchanged (``ledgerbridge worker -- --hostname w1@%h --loglevel DEBUG``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG")
]
DEFAULT_CONFIG = Path("ledgerbridge.yaml")
err_console = Console(stderr=True)


def worker(
    config: ConfigOption = DEFAULT_CONFIG,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-C", help="Task slots (workers.concurrency).")
    ] = None,
    pool: Annotated[str, typer.Option(help="Celery pool: threads (default), solo, prefork.")] = (
        "threads"
    ),
    name: Annotated[str | None, typer.Option(help="Worker name (Celery --hostname).")] = None,
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    celery_args: Annotated[
        list[str] | None, typer.Argument(help="More Celery worker options, after --.")
    ] = None,
) -> None:
    """Run a Celery worker: it executes pipeline shares, webhook events and sweeps.

    Start one per machine (or several); they share the store, the broker, and each
    target account's limits in Redis. SIGTERM finishes the tasks in flight; SIGKILL
    loses nothing (tasks are acknowledged after they ran and handed out again).
    """
    from .app import app, configure_from

    settings = configure_from(config)
    argv = [
        "worker",
        "--pool",
        pool,
        "--concurrency",
        str(concurrency or settings.concurrency),
        "--queues",
        settings.queue,
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
    ]
    if name:
        argv += ["--hostname", name]
    app.worker_main([*argv, *(celery_args or [])])


def beat(
    config: ConfigOption = DEFAULT_CONFIG,
    schedule: Annotated[
        Path | None, typer.Option(help="Where beat keeps its schedule state (a file).")
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    celery_args: Annotated[
        list[str] | None, typer.Argument(help="More Celery beat options, after --.")
    ] = None,
) -> None:
    """Run the scheduler: every ``workers.sweep_every`` it sends the sweep, which queues
    each pipeline at its ``interval``, pipelines with webhook events waiting, and due
    retries. Run exactly one."""
    from .app import app, configure_from

    configure_from(config)
    state = schedule or Path(config).resolve().parent / ".ledgerbridge-beat"
    argv = ["beat", "--schedule", str(state), "--loglevel", loglevel]
    app.start([*argv, *(celery_args or [])])


def register(app: typer.Typer) -> None:
    for command in (worker, beat):
        app.command(context_settings={"allow_extra_args": False})(command)
