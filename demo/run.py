"""The demo script: what an operator would type, run against the emulators.

1. ``ledgerbridge check`` the config, then ``ledgerbridge sync PIPELINE`` for the
   three merchants (three processes at once: each books into its own Zoho
   organisation, whose per-minute budget is its own).
2. ``ledgerbridge failures --state needs_mapping``: one order paid with a gateway
   the tenant mapping does not name yet.  The demo adds it to the YAML mapping,
   runs ``ledgerbridge replay --state needs_mapping`` and ``ledgerbridge audit``.
3. The reconciliation table (shop totals vs Zoho totals, per source and currency)
   and the number of Zoho writes this run made -- zero on every run after the first.
4. The west shop is also booked as daily summaries (``west-daily``, a second Zoho
   organisation): per closed day, what its documents still owe against what the shop
   says is unpaid -- zero for every day whose money has all moved.
5. A partly shipped order under ``posting_trigger: fulfilled`` (``demo/shipments.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ledgerbridge.store import generate_key

from . import shipments
from .catalog import catalog_step
from .console_login import announce
from .daily import Day, reconcile_days
from .reconcile import Row, reconcile
from .world import (
    DAILY_PIPELINE,
    PAYPAL_GATEWAY,
    SOURCE_OF,
    Running,
    running,
    write_private,
)

console = Console(width=max(100, shutil.get_terminal_size().columns))
PIPELINES = ("north-orders", "west-orders", "cart-orders")
FIX_ANCHOR = "      bacs:"


def cli_env(directory: Path) -> dict[str, str]:
    """The environment of every ``ledgerbridge`` subprocess: the store's key file."""
    directory.mkdir(parents=True, exist_ok=True)
    key_file = directory / "secret.key"
    if not key_file.exists():
        write_private(key_file, generate_key())
    env = dict(os.environ)
    env.pop("LEDGERBRIDGE_SECRET_KEY", None)
    env.pop("LEDGERBRIDGE_CONFIG", None)
    env["LEDGERBRIDGE_SECRET_KEY_FILE"] = str(key_file)
    env["COLUMNS"] = str(max(120, shutil.get_terminal_size().columns))
    return env


def echo(output: str) -> None:
    """Show a command's output as it printed it (its own width, not re-wrapped)."""
    sys.stdout.write(output.rstrip() + "\n")
    sys.stdout.flush()


# Exit codes that mean "the command did its work" (docs/operations.md, "Exit codes"): the demo
# parks a record on purpose (a payment gateway without a mapping) and fixes it later.
DONE = {0, 3, 4}  # ExitCode.OK, PARKED, RETRYING


def ledgerbridge(*args: str) -> list[str]:
    return [sys.executable, "-m", "ledgerbridge", *args]


def run_cli(
    world: Running, *args: str, env: dict[str, str], show: bool = True, config: bool = True
) -> str:
    """Run one ``ledgerbridge`` command against the demo config; fail loudly."""
    argv = [*args, "-c", str(world.config_path)] if config else list(args)
    if show:
        console.print(f"\n[bold cyan]$ ledgerbridge {' '.join(argv)}[/]", highlight=False)
    done = subprocess.run(  # noqa: S603 - our own CLI
        ledgerbridge(*argv), env=env, capture_output=True, text=True, check=False
    )
    if done.returncode not in DONE:
        console.print(done.stdout, done.stderr, markup=False, highlight=False)
        raise SystemExit(f"ledgerbridge {args[0]} exited with {done.returncode}")
    if show:
        echo(done.stdout)
    return done.stdout


def sync_all(world: Running, env: dict[str, str]) -> None:
    """One ``ledgerbridge sync`` process per merchant, all at once."""
    console.print(
        "\n[bold]Syncing the three merchants at once[/] (one `ledgerbridge sync` process each; "
        "Zoho Books allows each organisation 100 calls a minute, and the connector paces to it)"
    )
    procs = {}
    for pipeline in (*PIPELINES, DAILY_PIPELINE):
        argv = ledgerbridge("sync", pipeline, "-c", str(world.config_path))
        procs[pipeline] = subprocess.Popen(  # noqa: S603 - our own CLI
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    for pipeline, proc in procs.items():
        out, err = proc.communicate()
        console.print(f"\n[bold cyan]$ ledgerbridge sync {pipeline} -c {world.config_path}[/]")
        echo(out)
        if proc.returncode not in DONE:
            console.print(err, markup=False, highlight=False)
            raise SystemExit(f"ledgerbridge sync {pipeline} exited with {proc.returncode}")


def parked(world: Running, env: dict[str, str]) -> list[dict[str, Any]]:
    out = run_cli(world, "failures", "--state", "needs_mapping", "--json", env=env, show=False)
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def fix_mapping(world: Running) -> bool:
    """The integrator's fix: name the new gateway in the west merchant's mapping."""
    path = world.directory / "mappings" / "woocommerce.yaml"
    text = path.read_text()
    if f"{PAYPAL_GATEWAY}:" in text:
        return False
    account = world.org("west")
    clearing = next(
        a["account_id"] for a in account.bank_accounts.values()
        if a["account_name"] == "Stripe Clearing"
    )  # fmt: skip
    line = f'      {PAYPAL_GATEWAY}: {{payment_mode: others, account_id: "{clearing}"}}\n'
    lines = text.splitlines(keepends=True)
    at = next(i for i, ln in enumerate(lines) if ln.startswith(FIX_ANCHOR))
    lines.insert(at + 1, line)
    path.write_text("".join(lines))
    console.print(f"\n[bold]Fix:[/] added to {path} under lookups.payment_methods.entries:")
    console.print(f"[green]+{line.rstrip()}[/]", highlight=False)
    return True


def show_parked_and_fix(world: Running, env: dict[str, str]) -> None:
    rows = parked(world, env)
    console.rule("A parked record, explained and fixed")
    run_cli(world, "failures", "--state", "needs_mapping", env=env)
    if not rows:
        console.print("(nothing parked: the mapping was fixed on an earlier run)")
        return
    fixed = fix_mapping(world)
    if not fixed:
        return
    run_cli(world, "replay", "--state", "needs_mapping", env=env)
    run_cli(world, "failures", "--state", "needs_mapping", env=env)
    order = rows[0]["record"].split()[-1]  # other merchants' shops have an order 1001 too
    run_cli(world, "audit", order, "--pipeline", rows[0]["pipeline"], env=env)


def print_reconciliation(rows: list[Row]) -> bool:
    table = Table(title="Reconciliation: shop totals vs Zoho Books invoices")
    for name in ("source", "currency", "orders posted", "source total", "Zoho total",
                 "difference", "held", "skipped"):  # fmt: skip
        table.add_column(name, justify="left" if name in ("source", "currency") else "right")
    clean = True
    for row in rows:
        ok = row.difference == 0
        clean = clean and ok
        table.add_row(
            row.source, row.currency, str(row.orders), f"{row.source_total:.2f}",
            f"{row.zoho_total:.2f}", f"[{'green' if ok else 'red'}]{row.difference:.2f}[/]",
            str(row.held), str(row.skipped),
        )  # fmt: skip
    console.print(table)
    console.print(
        "held = not posted, with the reason in `ledgerbridge failures`; "
        "skipped = not for the books (drafts, cancelled before posting, ...)."
    )
    return clean


def print_days(days: list[Day]) -> bool:
    table = Table(title=f"Daily summaries ({DAILY_PIPELINE}): what each closed day still owes")
    for name in ("day", "cur", "invoiced", "open", "unpaid", "credit", "kept", "diff", "settled"):
        table.add_column(name, justify="left" if name in ("day", "cur") else "right", no_wrap=True)
    clean = bool(days)
    for d in days:
        ok = d.difference == 0
        clean = clean and ok
        table.add_row(
            d.day, d.currency, f"{d.invoiced:.2f}", f"{d.zoho_owed:.2f}", f"{d.shop_owed:.2f}",
            f"{d.zoho_credit:.2f}", f"{d.shop_credit:.2f}",
            f"[{'green' if ok else 'red'}]{d.difference:.2f}[/]", "yes" if d.settled else "no",
        )  # fmt: skip
    console.print(table)
    console.print(
        "open / credit = what the day's Zoho invoices still owe / its credit notes still hold; "
        "unpaid / kept = what the shop says is unpaid / was credited without money going back. "
        "Each closed day's payments (one per gateway, into the gateway's clearing account) and "
        "refunds are posted under its summary documents: a day is settled when nothing is open."
    )
    return clean


def record_run(
    directory: Path, *, first: bool, writes: int, rows: list[Row], days: list[Day] | None = None
) -> None:
    """``last-run.json``: the run's outcome for scripts (and the demo's own tests)."""
    summary = {
        "first_run": first,
        "zoho_writes": writes,
        "reconciliation": [
            {
                "source": r.source,
                "currency": r.currency,
                "orders": r.orders,
                "source_total": str(r.source_total),
                "zoho_total": str(r.zoho_total),
                "difference": str(r.difference),
                "held": r.held,
                "skipped": r.skipped,
            }
            for r in rows
        ],
        "daily_summary": [
            {
                "day": d.day,
                "currency": d.currency,
                "invoiced": str(d.invoiced),
                "zoho_open": str(d.zoho_owed),
                "shop_unpaid": str(d.shop_owed),
                "zoho_credit_left": str(d.zoho_credit),
                "shop_credit_kept": str(d.shop_credit),
                "difference": str(d.difference),
                "settled": d.settled,
            }
            for d in days or []
        ],
    }
    (directory / "last-run.json").write_text(json.dumps(summary, indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--dir", type=Path, default=Path(".demo"), help="state between runs")
    parser.add_argument("--orders", type=int, default=20, help="orders per shop (first run)")
    args = parser.parse_args(argv)
    directory: Path = args.dir.resolve()
    started = time.monotonic()
    first = not (directory / "state.db").exists()
    console.rule("ledgerbridge demo")
    console.print(
        "Three merchants -- north (Shopify), west (WooCommerce), cart (API2Cart, an Etsy "
        "shop) -- each book into their own Zoho Books organisation. Every platform is a "
        f"built-in emulator on loopback; the state lives in {directory}."
    )
    env = cli_env(directory)
    with running(directory, args.orders) as world:
        for name, url in world.urls.items():
            console.print(f"  {name:12} emulator at {url}")
        run_cli(world, "check", env=env)
        for tenant, source in SOURCE_OF.items():
            # every id and custom field each mapping needs, checked in its organisation
            mapping = world.directory / "mappings" / f"{source}.yaml"
            run_cli(world, "mappings", "validate", str(mapping), "--against", f"{tenant}/books",
                    env=env)  # fmt: skip
        # once, before three processes share the store
        run_cli(world, "migrate", "--database", world.database_url, env=env, config=False)
        sync_all(world, env)
        show_parked_and_fix(world, env)
        catalogs_ok = catalog_step(
            console,
            world,
            first=first,
            sync=lambda p: run_cli(world, "sync", p, env=env),
            cli=lambda *a, show=True: run_cli(world, *a, env=env, show=show),
        )
        console.rule("Result")
        run_cli(world, "status", env=env)
        rows = reconcile(world)
        clean = print_reconciliation(rows)
        days = reconcile_days(world)
        clean = print_days(days) and clean
        run_cli(world, "failures", env=env)  # what is held, and why
        writes = len(world.writes)
    clean = shipments.run(console) and clean  # a partly shipped order: its own small shop
    record_run(directory, first=first, writes=writes, rows=rows, days=days)
    announce(console, world.database_url, world.config_path, directory)
    elapsed = time.monotonic() - started
    console.print(
        f"\n[bold]Zoho Books writes this run: {writes}[/] "
        f"({'first run' if first else 're-run'}) in {elapsed:.1f} s."
    )
    if first:
        console.print("Run `make demo` again: it reads the same shops and writes nothing.")
    console.print(f"Start over with `rm -rf {directory}`.")
    if not clean:
        console.print("[red]reconciliation shows a difference[/]")
        return 1
    if not catalogs_ok:
        console.print("[red]a price edited in Zoho Books did not reach every shop[/]")
        return 1
    return 0
