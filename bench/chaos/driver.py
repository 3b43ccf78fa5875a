"""Runs the scenarios over the (source, posting policy) matrix and turns each book into a row.

``FULL`` is every scenario on all nine pairs; ``REDUCED`` (what ``make test``
runs) gives each scenario three pairs in a Latin square, so every source and
every policy meets every scenario once and every pair meets at least one
scenario, at a third of the cost.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .scenarios import DRIVERS, BookRun, Budget, settle
from .verify import Verdict, verify
from .worker import LIVE, Tally, Worker
from .world import POLICIES, SOURCES, Book, World, start

SCENARIOS = ("kills", "faults", "tokens", "concurrent")
ALL_PAIRS = [(s, p) for s in SOURCES for p in POLICIES]
LATIN = [
    [("shopify", "invoice"), ("woocommerce", "sales_receipt"), ("api2cart", "daily_summary")],
    [("shopify", "sales_receipt"), ("woocommerce", "daily_summary"), ("api2cart", "invoice")],
    [("shopify", "daily_summary"), ("woocommerce", "invoice"), ("api2cart", "sales_receipt")],
]
REDUCED = dict(zip(SCENARIOS, [LATIN[0], LATIN[1], LATIN[2], LATIN[0]], strict=True))
PG_ENV = "LEDGERBRIDGE_TEST_POSTGRES_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Row:
    scenario: str
    source: str
    policy: str
    orders: int
    kills: int
    faults: int
    verdict: Verdict
    clean_writes: int | None
    lease_blocked: int
    seconds: float
    problems: list[str] = field(default_factory=list)
    timer_kills: int = 0
    planned_kills: int = 0
    runs: int = 0
    exits: dict[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict.clean and self.clean_writes == 0 and not self.problems

    def as_json(self) -> dict[str, Any]:
        v = self.verdict
        return {
            "scenario": self.scenario, "source": self.source, "policy": self.policy,
            "orders": self.orders, "kills": self.kills, "faults": self.faults,
            "duplicates": v.duplicates, "missing": v.missing, "orphans": v.orphans,
            "money_differences": v.money, "money_amount": str(v.money_total),
            "state_differences": v.state, "parked": dict(v.parked),
            "parked_by_harness": v.parked_by_harness, "clean_rerun_writes": self.clean_writes,
            "lease_blocked": self.lease_blocked, "seconds": round(self.seconds, 1),
            "timer_kills": self.timer_kills, "planned_kills": self.planned_kills,
            "write_kills": self.kills - self.timer_kills, "runs": self.runs, "exits": self.exits,
            "ok": self.ok, "problems": self.problems, "details": v.details,
        }  # fmt: skip


def postgres_url() -> str:
    url = os.environ.get(PG_ENV) or PG_DEFAULT
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _databases(pairs: list[tuple[str, str]], url: str) -> dict[str, str]:
    """A database of its own for each chaos book of the concurrent scenario."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    made = {}
    with psycopg.connect(plain, autocommit=True) as conn:
        for source, policy in pairs:
            name = f"chaos_{uuid.uuid4().hex[:10]}"
            conn.execute(f'CREATE DATABASE "{name}"')
            made[Book(source, policy, False, "", Path()).name] = url.rsplit("/", 1)[0] + "/" + name
    return made


def _drop(databases: dict[str, str]) -> None:
    import psycopg

    if not databases:
        return
    admin = next(iter(databases.values())).replace("postgresql+psycopg://", "postgresql://", 1)
    admin = admin.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        for url in databases.values():
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _reference(world: World, book: Book, seed: int) -> list[dict[str, Any]]:
    """The quiet run: no faults, no kills; what a clean sync makes of the same shop."""
    worker = Worker(world, book, Tally(), random.Random(seed))
    for _ in range(3):
        worker.sync_through_lease()
        parks = worker.failures()
        if not any(r["state"] == "retrying" for r in parks):
            return parks
        worker.cli("replay", "--state", "retrying", "-c", str(book.config))
    return worker.failures()


def _chaos(
    world: World, book: Book, scenario: str, budget: Budget, seed: int, plan: dict[str, int]
) -> BookRun:
    run = BookRun(book, plan=plan)
    rng = random.Random(f"{seed}:{book.name}")
    started = time.monotonic()
    if scenario == "concurrent":
        Worker(world, book, run.tally, rng).cli("migrate", "-c", str(book.config))
    DRIVERS[scenario](world, run, budget, rng)
    settle(world, run, rng)
    run.seconds = time.monotonic() - started
    return run


def run_scenario(
    scenario: str,
    pairs: list[tuple[str, str]],
    *,
    root: Path,
    orders: int,
    budget: Budget,
    seed: int,
    jobs: int,
) -> list[Row]:
    databases = _databases(pairs, postgres_url()) if scenario == "concurrent" else {}
    world = start(root / scenario, pairs, orders=orders, seed=seed, database=databases)
    try:
        refs = {(b.source, b.policy): b for b in world.books if b.reference}
        chaos = [b for b in world.books if not b.reference]
        with (
            ThreadPoolExecutor(max_workers=len(refs)) as quiet,
            ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
        ):
            parks = {k: quiet.submit(_reference, world, b, seed) for k, b in refs.items()}
            # tokens: its expiry ends every access token; kills: planned on the reference's
            # writes. Either way the references go first.
            plans: dict[tuple[str, str], dict[str, int]] = {}
            if scenario in ("tokens", "kills"):
                for future in parks.values():
                    future.result()
                committed = world.control("zohobooks").get("counters")["committed"]
                plans = {k: dict(committed.get(b.org_id, {})) for k, b in refs.items()}
            futures = {
                (b.source, b.policy): pool.submit(
                    _chaos, world, b, scenario, budget, seed, plans.get((b.source, b.policy), {})
                )
                for b in chaos
            }
            runs = {k: f.result() for k, f in futures.items()}
            ref_parks = {k: f.result() for k, f in parks.items()}
        zoho = world.control("zohobooks")
        rows = []
        for (source, policy), run in runs.items():
            book, ref = run.book, refs[(source, policy)]
            shop = world.control(source).get("export/orders")
            verdict = verify(
                zoho.get("export", scope=book.org_id),
                zoho.get("export", scope=ref.org_id),
                shop,
                Worker(world, book, run.tally, random.Random(0)).failures(),
                ref_parks[(source, policy)],
            )
            rows.append(_row(scenario, run, verdict, len(shop)))
        return rows
    finally:
        for proc in list(LIVE):  # a scenario that failed midway leaves no worker behind
            if proc.poll() is None:
                proc.kill()
        world.stop()
        _drop(databases)


def _row(scenario: str, run: BookRun, verdict: Verdict, orders: int) -> Row:
    problems = list(run.tally.errors)
    if run.tally.lease_blocked:
        problems.append(
            f"restart blocked by a dead worker's lease {run.tally.lease_blocked} time(s) (> 10 s)"
        )
    for n in run.token_requests_after_revoke:
        if n > 2:
            problems.append(f"{n} token requests after the revocation (at most 2)")
    for code in run.revoked_exits:
        if code == 0:
            problems.append("the run with a revoked refresh token exited 0")
    if run.clean_writes:
        problems.append(f"the clean re-run wrote {run.clean_writes} time(s)")
    write_kills = run.tally.kills - run.tally.timer_kills
    if write_kills < run.planned_kills:
        problems.append(
            f"{write_kills} kill(s) on committed writes landed of {run.planned_kills} planned"
        )
    return Row(
        scenario=scenario, source=run.book.source, policy=run.book.policy, orders=orders,
        kills=run.tally.kills, faults=sum(run.injected.values()), verdict=verdict,
        clean_writes=run.clean_writes, lease_blocked=run.tally.lease_blocked,
        seconds=run.seconds, problems=problems, timer_kills=run.tally.timer_kills,
        planned_kills=run.planned_kills, runs=run.tally.runs, exits=dict(run.tally.exits),
    )  # fmt: skip


def parked_summary(rows: list[Row]) -> Counter[str]:
    total: Counter[str] = Counter()
    for row in rows:
        total.update(row.verdict.parked)
    return total
