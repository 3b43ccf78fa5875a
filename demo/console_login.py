"""The demo's console log-in: a ``demo`` operator for every tenant, made on the first run
with a random password that is printed once and stored only as its argon2 hash."""

from __future__ import annotations

import secrets
from pathlib import Path

from rich.console import Console

from ledgerbridge.console.auth import hash_password
from ledgerbridge.store import Store
from ledgerbridge.store import console_queries as q

USER = "demo"
URL = "http://127.0.0.1:8787/console/"


def announce(console: Console, database_url: str, config_path: Path, directory: Path) -> None:
    """Make the demo user when it does not exist yet, then say how to open the console."""
    store = Store(database_url)
    try:
        store.migrate()
        password = None
        if q.get_user(store, USER) is None:
            password = secrets.token_urlsafe(12)
            q.put_user(store, USER, password_hash=hash_password(password), role="operator",
                       tenants=["*"])  # fmt: skip
    finally:
        store.close()
    console.rule("Operator console")
    console.print(
        f"Serve it with `LEDGERBRIDGE_SECRET_KEY_FILE={directory / 'secret.key'} "
        f"ledgerbridge serve -c {config_path}`, then open {URL}",
        highlight=False,
        soft_wrap=True,
    )
    if password is not None:
        console.print(
            f"Log in as [bold]{USER}[/] with password [bold]{password}[/] (shown this once; "
            "only its hash is stored).",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(
            f"Log in as [bold]{USER}[/] with the password the first run printed (set a new "
            f"one with `ledgerbridge users add {USER} --role operator --all-tenants "
            f"-c {config_path}`).",
            highlight=False,
            soft_wrap=True,
        )
