"""``python -m bench.chaos``: run the chaos scenarios and print the figures table.

Exits 1 when any check fails (a duplicate, a missing document, a money
difference, an order parked by the harness's own faults, a write on the clean
re-run, a restart blocked by a dead worker's lease, a revoked credential not
stopping the run), 0 when every row is clean.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from .catalog_drive import CatalogBudget, CatalogRow, run_catalog
from .driver import ALL_PAIRS, REDUCED, SCENARIOS, Row, run_scenario
from .report import catalog_table, markdown, table
from .scenarios import Budget
from .worker import kill_all

# make chaos: >= 1,000 orders and >= 50 kills per scenario (nine books of 120 orders, up to 8
# kills each: a book that is fully synced early has nothing left to kill)
FULL = {"orders": 120, "kills": 8}
# make test: three books of 8 orders per shop, 3 kills each (the suite runs five chaos tests
# on two cores beside everything else: this keeps CI under its 15 minutes; make chaos is the
# long run)
CI = {"orders": 8, "kills": 3}
# the catalog scenario (one book per storefront): products per shop, kills per book, rounds
CATALOG_FULL = {"products": 40, "kills": 8, "rounds": 4, "faults_per_rule": 2}
CATALOG_CI = {"products": 4, "kills": 2, "rounds": 2, "faults_per_rule": 1}
STOREFRONTS = ["shopify", "woocommerce", "api2cart"]


def _stop(*_: object) -> None:
    kill_all()
    sys.exit(143)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--full", action="store_true", help="every scenario on all nine pairs")
    parser.add_argument(
        "--scenario", action="append", choices=(*SCENARIOS, "catalog"), help="only these"
    )
    parser.add_argument("--products", type=int, help="catalog: products in each shop")
    parser.add_argument("--rounds", type=int, help="catalog: rounds of edits (round 0 aligns)")
    parser.add_argument("--fault-times", type=int, help="catalog: firings per fault rule")
    parser.add_argument("--orders", type=int, help="orders in each shop")
    parser.add_argument("--kills", type=int, help="kills per chaos book")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--jobs", type=int, help="books driven at once (default 9 with --full, else 3)"
    )
    parser.add_argument("--dir", type=Path, help="work directory (kept); default: a temporary one")
    parser.add_argument("--json", type=Path, help="also write the rows (with details) here")
    parser.add_argument("--markdown", type=Path, help="also write the Markdown table here")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: every scenario's finally stops its workers and emulators
    signal.signal(signal.SIGTERM, _stop)
    size = FULL if args.full else CI
    orders, kills = args.orders or size["orders"], args.kills or size["kills"]
    root = args.dir or Path(tempfile.mkdtemp(prefix="ledgerbridge-chaos-"))
    console = Console(width=max(200, shutil.get_terminal_size().columns))
    rows: list[Row] = []
    catalog: list[CatalogRow] = []
    started = time.monotonic()
    for scenario in args.scenario or [*SCENARIOS, "catalog"]:
        if scenario == "catalog":
            catalog = _catalog(args, console, root)
            continue
        pairs = ALL_PAIRS if args.full else REDUCED[scenario]
        console.print(
            f"[bold]{scenario}[/]: {len(pairs)} pair(s), {orders} orders, {kills} kills per book"
        )
        got = run_scenario(
            scenario, pairs, root=root, orders=orders, budget=Budget(kills=kills),
            seed=args.seed, jobs=args.jobs or (9 if args.full else 3),
        )  # fmt: skip
        rows.extend(got)
        if args.json:  # after every scenario: a long run stopped early keeps what it measured
            args.json.write_text(json.dumps([r.as_json() for r in rows], indent=2))
        for row in got:
            for line in [*row.problems, *row.verdict.details]:
                console.print(f"  {row.source}/{row.policy}: {line}", highlight=False, markup=False)
    mode = "full" if args.full else "reduced"
    saved = [r.as_json() for r in rows] + [r.as_json() for r in catalog]
    if args.json:
        args.json.write_text(json.dumps(saved, indent=2))
    title = f"Chaos ({mode}), {time.monotonic() - started:.0f} s"
    if rows:
        console.print(table([r.as_json() for r in rows], title))
    if catalog:
        console.print(catalog_table([r.as_json() for r in catalog], f"{title}: catalog"))
    if args.markdown:
        args.markdown.write_text(markdown(saved))
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)
    every: list[Row | CatalogRow] = [*rows, *catalog]
    failed = [r for r in every if not r.ok]
    console.print(f"{len(every) - len(failed)} of {len(every)} rows clean")
    return 1 if failed else 0


def _catalog(args: argparse.Namespace, console: Console, root: Path) -> list[CatalogRow]:
    """The catalog scenario: one catalog book per storefront (docs/reliability.md)."""
    size = CATALOG_FULL if args.full else CATALOG_CI
    products = args.products or size["products"]
    budget = CatalogBudget(
        kills=args.kills or size["kills"],
        rounds=args.rounds or size["rounds"],
        faults_per_rule=args.fault_times or size["faults_per_rule"],
    )
    console.print(
        f"[bold]catalog[/]: {len(STOREFRONTS)} storefronts, {products} products, "
        f"{budget.kills} kills per book, {budget.rounds} rounds"
    )
    got = run_catalog(
        STOREFRONTS, root=root, products=products, budget=budget, seed=args.seed,
        jobs=args.jobs or 3,
    )  # fmt: skip
    for row in got:
        for line in [*row.problems, *row.verdict.details]:
            console.print(f"  catalog {row.source}: {line}", highlight=False, markup=False)
    return got


if __name__ == "__main__":
    sys.exit(main())
