"""``ledgerbridge users`` makes a log-in that works (only the argon2 hash stored), and
``ledgerbridge serve``'s app answers both the console and the webhook receiver."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
from typer.testing import CliRunner

import ledgerbridge.console
import ledgerbridge.webhooks
from ledgerbridge.cli import app as cli
from ledgerbridge.exitcodes import ExitCode
from ledgerbridge.store import console_queries as q

from .conftest import Client, World


def _users(world: World, *args: str, stdin: str = "") -> Any:
    """``ledgerbridge users ...`` in-process (typer's runner: the real command, no fork)."""
    return CliRunner().invoke(cli, ["users", *args, "-c", str(world.config_path)], input=stdin)


def test_users_add_makes_a_log_in_with_only_the_hash_stored(world: World) -> None:
    done = _users(world, "add", "sam", "--role", "operator", "--tenant", "west",
                  "--password-stdin", stdin="sam's long password\n")  # fmt: skip
    assert done.exit_code == 0, done.output
    row = q.get_user(world.store, "sam")
    assert row is not None and row.role == "operator" and row.tenants == ["west"]
    assert row.password_hash.startswith("$argon2") and "long password" not in row.password_hash
    short = _users(world, "add", "tim", "--tenant", "west", "--password-stdin", stdin="short\n")
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    untargeted = _users(world, "add", "tim", "--password-stdin", stdin="long enough pw\n")
    assert untargeted.exit_code == 2 and "--tenant" in untargeted.output
    assert q.get_user(world.store, "tim") is None
    assert "sam" in _users(world, "list").stdout

    async def main() -> None:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            assert (await client.login("sam", "sam's long password")).status_code == 303
            assert "sam (operator)" in (await client.get("/")).text
        finally:
            await client.aclose()

    anyio.run(main)
    assert _users(world, "remove", "sam").exit_code == 0
    assert _users(world, "remove", "sam").exit_code == ExitCode.NOT_FOUND


def test_the_served_app_has_the_console_and_the_receiver(world: World) -> None:
    served = ledgerbridge.console.with_console(
        ledgerbridge.webhooks.app(world.config_path, world.store), world.config_path
    )

    async def main() -> tuple[int, int, int]:
        transport = httpx.ASGITransport(app=served)
        # The outer app's lifespan sets the receiver's store up, as uvicorn does under serve.
        async with (
            served.router.lifespan_context(served),
            httpx.AsyncClient(transport=transport, base_url="http://serve") as http,
        ):
            login = await http.get("/console/login")
            unsigned = await http.post("/webhooks/west/shop", content=b"{}")
            unknown = await http.post("/webhooks/nobody/shop", content=b"{}")
            return login.status_code, unsigned.status_code, unknown.status_code

    assert anyio.run(main) == (200, 401, 404)


def _serve(world: World, only: str) -> tuple[int, int, int]:
    """``ledgerbridge serve --only ONLY`` as a process on a free port: what answers there."""
    import os
    import re
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "ledgerbridge", "serve", "--only", only, "--port", "0",
         "-c", str(world.config_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"listening on (http://[\d.]+:\d+)", line)
        assert found is not None, line + proc.stdout.read() if proc.poll() is not None else line
        url = found.group(1)
        with httpx.Client(base_url=url, timeout=10) as http:
            return (
                http.get("/console/login").status_code,
                http.post("/webhooks/west/shop", content=b"{}").status_code,
                http.get("/health").status_code,
            )
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_only_runs_one_part(world: World) -> None:
    # console alone: its pages, no webhook receiver (and no /health of the receiver)
    assert _serve(world, "console") == (200, 404, 404)
    # receiver alone: deliveries are checked (401 unsigned), the console is not there
    assert _serve(world, "receiver") == (404, 401, 200)
    wrong = CliRunner().invoke(cli, ["serve", "--only", "both", "-c", str(world.config_path)])
    assert wrong.exit_code == 2 and "--only must be" in wrong.output
