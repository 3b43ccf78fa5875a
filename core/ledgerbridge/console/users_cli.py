"""``ledgerbridge users``: the people who may log in to the console.

Passwords are read from a prompt (or stdin with ``--password-stdin``, for scripts), hashed
with argon2 and only the hash is stored; ``users hash`` prints a hash for a config's
``console.users`` instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..exitcodes import ExitCode
from ..store import Store
from ..store import console_queries as q
from .auth import ROLES, hash_password

app = typer.Typer(help="Console users: add, list, remove.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)
ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG")
]
DatabaseOption = Annotated[
    str | None, typer.Option(help="SQLAlchemy URL (default: the config's database).")
]


def _store(config: Path, database: str | None) -> Store:
    if database is None and config.exists():
        from ..config import load_config

        database = load_config(config).config.database
    store = Store(database)
    store.migrate()
    return store


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Log-in name.")],
    role: Annotated[str, typer.Option(help="viewer, operator or admin.")] = "viewer",
    tenant: Annotated[
        list[str] | None, typer.Option("--tenant", "-t", help="A tenant it may see (repeat).")
    ] = None,
    all_tenants: Annotated[bool, typer.Option(help="May see every tenant.")] = False,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
    config: ConfigOption = Path("ledgerbridge.yaml"),
    database: DatabaseOption = None,
) -> None:
    """Create a console user (or replace its password, role and tenants)."""
    if role not in ROLES:
        err_console.print(f"[red]error:[/] --role must be one of {', '.join(ROLES)}")
        raise typer.Exit(2)
    tenants = ["*"] if all_tenants or role == "admin" else list(tenant or [])
    if not tenants:
        err_console.print("[red]error:[/] name the tenants it may see (--tenant) or --all-tenants")
        raise typer.Exit(2)
    try:
        hashed = hash_password(_password(password_stdin))
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    store = _store(config, database)
    q.put_user(store, username, password_hash=hashed, role=role, tenants=tenants)
    console.print(f"user {username} ({role}; tenants: {', '.join(tenants)}) saved")


@app.command("list")
def list_(
    config: ConfigOption = Path("ledgerbridge.yaml"), database: DatabaseOption = None
) -> None:
    """The users in the store (config users are in the config)."""
    store = _store(config, database)
    table = Table(title="Console users")
    for col in ("user", "role", "tenants"):
        table.add_column(col)
    for user in q.list_users(store):
        table.add_row(user.username, user.role, ", ".join(user.tenants))
    console.print(table)


@app.command("remove")
def remove(
    username: Annotated[str, typer.Argument(help="Log-in name.")],
    config: ConfigOption = Path("ledgerbridge.yaml"),
    database: DatabaseOption = None,
) -> None:
    """Delete a console user; its sessions end at their next request."""
    store = _store(config, database)
    if not q.remove_user(store, username):
        err_console.print(f"[red]error:[/] no user {username}")
        raise typer.Exit(int(ExitCode.NOT_FOUND))
    console.print(f"user {username} removed")


@app.command("hash")
def hash_(
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
) -> None:
    """Print an argon2 hash for a user declared in the config (``console.users``)."""
    try:
        console.print(hash_password(_password(password_stdin)), highlight=False, soft_wrap=True)
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def register(cli: typer.Typer) -> None:
    cli.add_typer(app, name="users")


__all__ = ["app", "register"]
