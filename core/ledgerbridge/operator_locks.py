"""Leases and dead connections as an operator sees them: ``ledgerbridge unlock`` and the
parts of ``ledgerbridge status`` that show who holds each lease and which connections
need reconnecting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .engine import Engine
from .exitcodes import ExitCode

console = Console()
err_console = Console(stderr=True)
DEFAULT_CONFIG = Path("ledgerbridge.yaml")
ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG")
]


def print_dead_connections(console: Console, connections: list[Any]) -> None:
    """The connections a run found with dead credentials, and the command that mends each."""
    from .engine.assembly import reconnect_instruction

    if not connections:
        return
    table = Table(title="Connections that need reconnecting")
    for col in ("connection", "since", "why", "reconnect with"):
        table.add_column(col)
    for c in connections:
        table.add_row(
            c.id,
            c.reconnect_since.isoformat(timespec="seconds") if c.reconnect_since else "-",
            c.reconnect_reason or "-",
            reconnect_instruction(c.tenant_id, c.name, c.platform),
        )
    console.print(table)


def dead_connection_row(c: Any) -> dict[str, Any]:
    """A connection that needs reconnecting (``status --json``, ``reconnect``)."""
    from .engine.assembly import reconnect_instruction

    return {
        "connection": c.id,
        "platform": c.platform,
        "since": c.reconnect_since.isoformat(timespec="seconds") if c.reconnect_since else None,
        "why": c.reconnect_reason,
        "reconnect_with": reconnect_instruction(c.tenant_id, c.name, c.platform),
    }


def lease_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every lease (``status --json``, ``leases``): holder, times and its state."""
    from .store.holders import holder_is_dead
    from .store.types import utcnow

    now = utcnow()
    return [
        {
            "lease": lease.name,
            "holder": lease.holder,
            "acquired": lease.acquired_at.isoformat(timespec="seconds"),
            "expires": lease.expires_at.isoformat(timespec="seconds"),
            "state": "expired"
            if lease.expires_at <= now
            else "holder_dead"
            if holder_is_dead(lease.holder)
            else "held",
        }
        for lease in engine.leases()
    ]


def print_leases(console: Console, engine: Engine) -> None:
    """Every lease with its holder and expiry, and whether the holder is provably gone."""
    from .engine.lease import LEASE_TTL
    from .store.holders import holder_is_dead
    from .store.types import utcnow

    leases = engine.leases()
    if not leases:
        console.print(f"no leases held (a run holds its pipeline's lease; TTL {LEASE_TTL})")
        return
    table = Table(title=f"Leases (TTL {LEASE_TTL}; `ledgerbridge unlock PIPELINE` releases one)")
    for col in ("lease", "holder", "acquired", "expires", "state"):
        table.add_column(col)
    now = utcnow()
    for lease in leases:
        if lease.expires_at <= now:
            state = "expired (free)"
        elif holder_is_dead(lease.holder):
            state = "holder dead (taken over by the next run)"
        else:
            state = "held"
        table.add_row(
            lease.name,
            lease.holder,
            lease.acquired_at.isoformat(timespec="seconds"),
            lease.expires_at.isoformat(timespec="seconds"),
            state,
        )
    console.print(table)


def unlock(
    pipeline: Annotated[str, typer.Argument(help="Pipeline id whose lease to release.")],
    config: ConfigOption = DEFAULT_CONFIG,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Release a pipeline's lease held by a worker that is gone (e.g. on another host).

    A worker on this host whose process died is taken over by the next run anyway; this is
    for a holder elsewhere, whose lease would otherwise block the pipeline until it expires.
    Make sure the holder named in the confirmation is really stopped: two runs of one
    pipeline at once are what the lease prevents.
    """
    from .operator_cli import _engine
    from .store.types import utcnow

    engine = _engine(config)
    engine.store.migrate()
    lease = engine.pipeline_lease(pipeline)
    if lease is None:
        console.print(f"pipeline {pipeline} is not locked")
        return
    expired = lease.expires_at <= utcnow()
    when = f"{'expired' if expired else 'expires'} {lease.expires_at.isoformat(timespec='seconds')}"
    question = f"release the lease of pipeline {pipeline} held by {lease.holder} ({when})?"
    if not yes and not typer.confirm(question, default=False):
        err_console.print("not released")
        raise typer.Exit(int(ExitCode.BUSY))
    if engine.unlock(pipeline, lease.holder):
        console.print(f"released the lease of pipeline {pipeline} (was held by {lease.holder})")
        return
    err_console.print(
        f"[yellow]the lease of pipeline {pipeline} changed hands meanwhile; not released[/]"
    )
    raise typer.Exit(int(ExitCode.BUSY))


__all__ = [
    "dead_connection_row",
    "lease_rows",
    "print_dead_connections",
    "print_leases",
    "unlock",
]
