"""The deployment walk without Docker: the demo's three merchants through workers on real services.

``python -m demo.distributed`` (``make demo-workers``) runs, as subprocesses, exactly the
commands ``docs/deployment.md`` gives ("Without Docker"):

    ledgerbridge migrate --database "$DATABASE_URL"
    ledgerbridge worker -c ledgerbridge.yaml --name w1@%h      # and w2
    ledgerbridge beat   -c ledgerbridge.yaml --schedule beat-schedule
    ledgerbridge serve  -c ledgerbridge.yaml --port 8787
    ledgerbridge status -c ledgerbridge.yaml

against PostgreSQL (a database of its own) and Redis (broker and shared limits) already
running on this machine, and the demo's emulators (Shopify, WooCommerce, API2Cart, Zoho
Books) on loopback.  Worker ``w1`` is SIGKILLed mid-run, after the first Zoho writes.
Then the same reconciliation as ``make demo`` -- shop totals against the Zoho invoices,
per source and currency -- plus a check of the books from the Zoho emulator itself: one
live invoice per order, no payment twice.  Exit 1 when anything differs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path

from rich.console import Console

from .reconcile import reconcile
from .run import PIPELINES, cli_env, print_reconciliation
from .world import ORGS, TENANTS, Running, running

console = Console(width=120)
PG_ENV = "LEDGERBRIDGE_TEST_POSTGRES_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_DEFAULT = "redis://127.0.0.1:6379/0"
WORKERS = """
workers:
  broker_url: "{redis}"
  redis_url: "{redis}"
  queue: {queue}
  sweep_every: 2s
  visibility_timeout: 15s      # a killed worker's share is handed out again after this
  lease_ttl: 10s
"""
SETTLED = {"synced", "skipped", "failed", "needs_mapping", "conflict"}


@dataclass
class OnPostgres(Running):
    """The demo's world with its store on PostgreSQL (the reconciliation reads it there)."""

    url: str = ""

    @property
    def database_url(self) -> str:
        return self.url


def _database(admin: str) -> tuple[str, str]:
    """A database of its own on the server of ``admin``; (its URL, its name)."""
    import psycopg

    name = f"lbwalk_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name, name


def _drop(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Walk:
    def __init__(self, world: OnPostgres, env: dict[str, str]) -> None:
        self.world, self.env = world, env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        console.print(f"[bold cyan]$ ledgerbridge {' '.join(args)}[/]", highlight=False)
        done = subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "ledgerbridge", *args], env=self.env, text=True,
            capture_output=True, cwd=self.world.directory, check=False,
        )  # fmt: skip
        console.print(done.stdout.rstrip(), markup=False, highlight=False)
        if done.returncode not in (0, 3, 4):
            console.print(done.stderr, markup=False, highlight=False)
            raise SystemExit(f"ledgerbridge {args[0]} exited with {done.returncode}")
        return done

    def start(self, name: str, *args: str) -> None:
        console.print(f"[bold cyan]$ ledgerbridge {' '.join(args)} &[/]", highlight=False)
        log = (self.world.directory / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "ledgerbridge", *args], env=self.env, stdout=log,
            stderr=subprocess.STDOUT, cwd=self.world.directory, start_new_session=True,
        )  # fmt: skip

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        console.print(f"[bold red]SIGKILL[/] {name} (pid {proc.pid}), mid-run")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def open_records(self) -> int:
        """Records not yet at an outcome, and orders the store has not seen yet."""
        from sqlmodel import select

        from ledgerbridge.store import Store, SyncRecord

        store = Store(self.world.database_url)
        try:
            with store.session() as s:
                states = Counter(r.state for r in s.exec(select(SyncRecord)))
        finally:
            store.close()
        seen = sum(states.values())
        return sum(n for state, n in states.items() if state not in SETTLED) + (seen == 0)


def books_problems(world: Running) -> list[str]:
    """From the Zoho emulator: one live invoice per order, and no payment recorded twice."""
    problems = []
    for tenant in TENANTS:
        org = world.saved.zoho.organizations[ORGS[tenant]]
        live = Counter(
            str((i.get("custom_field_hash") or {}).get("cf_source_order_id"))
            or i["reference_number"]
            for i in org.invoices.values()
            if i["status"] != "void"
        )
        problems += [f"{tenant}: order {k} has {n} live invoices" for k, n in live.items() if n > 1]
        paid = Counter((p["reference_number"], str(p["amount"])) for p in org.payments.values())
        problems += [f"{tenant}: payment {k} recorded {n} times" for k, n in paid.items() if n > 1]
    return problems


def walk(directory: Path, orders: int, admin: str, redis: str, timeout: float) -> int:
    started = time.monotonic()
    url, name = _database(admin)
    store_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    env = cli_env(directory)
    try:
        with running(directory, orders) as plain:
            world = OnPostgres(**{f.name: getattr(plain, f.name) for f in fields(Running)},
                               url=store_url)  # fmt: skip
            text = world.config_path.read_text()
            text = text.replace(f'database: "{plain.database_url}"', f'database: "{store_url}"')
            text += WORKERS.format(redis=redis, queue=f"lbwalk-{name[-8:]}")
            world.config_path.write_text(text)
            w = Walk(world, env)
            try:
                return _steps(w, world, timeout, started)
            finally:
                w.stop()
    finally:
        _drop(admin, name)


def _steps(w: Walk, world: OnPostgres, timeout: float, started: float) -> int:
    config = str(world.config_path)
    w.run("migrate", "--database", world.database_url)
    w.start("w1", "worker", "-c", config, "--name", "w1@%h", "-C", "4")
    w.start("w2", "worker", "-c", config, "--name", "w2@%h", "-C", "4")
    w.start("beat", "beat", "-c", config, "--schedule", str(world.directory / "beat-schedule"))
    w.start("serve", "serve", "-c", config, "--port", "0")
    deadline = time.monotonic() + timeout
    while len(world.writes) < 3:  # the first Zoho writes: the workers are at it
        if time.monotonic() > deadline:
            raise SystemExit("no Zoho write in time; see the logs in " + str(world.directory))
        time.sleep(0.2)
    w.kill("w1")
    quiet_since, writes = time.monotonic(), len(world.writes)
    while w.open_records() or time.monotonic() - quiet_since < 20:
        if len(world.writes) != writes:
            quiet_since, writes = time.monotonic(), len(world.writes)
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not settle in time; see " + str(world.directory))
        time.sleep(1.0)
    w.run("status", "-c", config)
    w.run("failures", "-c", config)
    rows = reconcile(world)
    clean = print_reconciliation(rows)
    problems = books_problems(world)
    for problem in problems:
        console.print(f"[red]{problem}[/]")
    posted = sum(r.orders for r in rows)
    console.print(
        f"\n{len(PIPELINES)} pipelines through 2 workers (one SIGKILLed mid-run), beat and the "
        f"receiver on PostgreSQL and Redis: {posted} orders posted, {len(world.writes)} Zoho "
        f"writes, {time.monotonic() - started:.0f} s."
    )
    ok = clean and not problems and posted > 0
    console.print("[green]books exact[/]" if ok else "[red]the books differ[/]")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.distributed", description=__doc__)
    parser.add_argument("--orders", type=int, default=20, help="orders per shop")
    parser.add_argument("--dir", type=Path, help="work directory (kept); default: temporary")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to settle")
    args = parser.parse_args(argv)
    admin = os.environ.get(PG_ENV) or PG_DEFAULT
    redis = os.environ.get("LEDGERBRIDGE_TEST_REDIS_URL") or REDIS_DEFAULT
    directory = args.dir or Path(tempfile.mkdtemp(prefix="ledgerbridge-walk-"))
    try:
        return walk(directory.resolve(), args.orders, admin, redis, args.timeout)
    finally:
        if args.dir is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
