"""What the harness does to a chaos book's workers: the four scenarios, then the settling.

- ``kills``: SIGKILLs from the Zoho Books emulator right after the N-th committed write of
  a kind, before its response leaves.  The kills are planned on the reference book's
  writes (its count per write kind, known once the quiet run is done): each run arms one
  kill whose kind is drawn in proportion to the writes of that kind still to come and
  whose N spreads the remaining kills evenly over them, so the planned number lands
  however fast the machine is.  A quarter of the runs also get a timer (a random point of
  a run: reading, planning, between calls), an extra kill that counts on top of the plan.
- ``faults``: every fault kind on every write kind -- a lost response after the commit,
  5xx, 429 with Zoho's codes 1070 and 44 -- each rule firing at random on its share of
  the writes of that kind.
- ``tokens``: every access token expired mid-run (after a few committed writes), then the
  refresh token revoked mid-run (a few writes later): the worker must stop, non-zero, after
  at most 2 token requests; the harness reconnects (a new grant code through
  ``ledgerbridge connect zohobooks``) and the run resumes.
- ``concurrent``: four workers of one pipeline at once on a PostgreSQL store, killed on
  timers and on committed writes (a kill on a write takes down every registered worker of
  the organisation, as a node failure would).

``settle`` then ends the chaos: faults off, ``sync`` until nothing is retrying (``replay
--state retrying`` instead of waiting out a back-off), and one clean ``sync`` whose writes
the emulator counts: it must make none.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from ledgerbridge_zohobooks.emulator.control import KINDS
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MERCHANT,
)

from .worker import Outcome, Tally, Worker
from .world import Book, World

FAULTS = ("lose_response", "error_5xx", "throttle_1070")
SETTLE_PASSES = 8


@dataclass
class Budget:
    kills: int  # per chaos book
    fault_rate: float = 0.15  # share of the writes of a kind that a fault rule hits
    faults_per_rule: int = 2  # each (write kind, fault kind) rule fires at most this often


@dataclass
class BookRun:
    """One chaos book's chaos phase and settling, as the verifier needs it."""

    book: Book
    tally: Tally = field(default_factory=Tally)
    injected: dict[str, int] = field(default_factory=dict)
    clean_writes: int | None = None
    clean_exit: int | None = None
    token_requests_after_revoke: list[int] = field(default_factory=list)
    revoked_exits: list[int] = field(default_factory=list)
    seconds: float = 0.0
    plan: dict[str, int] = field(default_factory=dict)  # the reference's writes per kind
    planned_kills: int = 0  # write kills this book must take (kills scenario)


def _committed(world: World, book: Book) -> int:
    counters = world.control("zohobooks").get("counters")
    return sum(counters["committed"].get(book.org_id, {}).values())


def _arm_write_kill(world: World, book: Book, rng: random.Random) -> None:
    kind = rng.choice([*KINDS, "*", "*", "*"])  # "*": any write, weighted like the common kinds
    world.control("zohobooks").post(
        "kill", {"scope": book.org_id, "kind": kind, "after": rng.randint(1, 6)}
    )


def planned_kills(budget: Budget, plan: dict[str, int]) -> int:
    """The kills a book must take: the budget, or fewer when the book has fewer writes.

    Each write kill consumes at least one committed write (the one it fires after), so a
    book whose clean sync makes W writes can take at most W of them.
    """
    return min(budget.kills, sum(plan.values()))


def next_write_kill(
    plan: dict[str, int], done: dict[str, int], kills_left: int, rng: random.Random
) -> list[tuple[str, int]]:
    """The rules of the next kill, ``(kind, N)``: after the N-th write of ``kind`` from now.

    ``plan`` is what a clean sync of the book writes per kind (the reference book's
    counters), ``done`` what this book has committed so far: the difference is what is
    still to come.  The kind is drawn in proportion to it and N uniformly from 1 to twice
    that kind's even share among the ``kills_left``, so the kills spread over the book and
    its kinds.  A kill on one kind lets the writes of other kinds go by, so a backstop on
    any write (``*``) comes with it, at twice the even share of all remaining writes: the
    first of the two to come round kills.  With the backstop each kill uses at most
    ``2R/(k+1)`` of the R remaining writes, which leaves at least one per kill still to
    land; where fewer than three writes per kill remain, the kill is on any write with N
    at most the even share, which fits exactly.  Empty when nothing is left to write.
    """
    remaining = {k: max(0, n - done.get(k, 0)) for k, n in plan.items()}
    remaining = {k: n for k, n in remaining.items() if n > 0}
    total = sum(remaining.values())
    if total == 0:
        return []
    if total <= 3 * kills_left:  # little slack: any write, each kill its share at most
        return [("*", rng.randint(1, max(1, total // kills_left)))]
    backstop = ("*", rng.randint(1, max(1, (2 * total) // (kills_left + 1))))
    if rng.random() < 1 / 3:
        return [backstop]
    kinds = sorted(remaining)
    kind = rng.choices(kinds, weights=[remaining[k] for k in kinds])[0]
    share = max(1, (2 * remaining[kind]) // (kills_left + 1))
    return [(kind, rng.randint(1, min(share, remaining[kind]))), backstop]


def drive_kills(world: World, run: BookRun, budget: Budget, rng: random.Random) -> None:
    """Kill on committed writes until the planned number has landed (timers add extras)."""
    zoho = world.control("zohobooks")
    worker = Worker(world, run.book, run.tally, rng)
    run.planned_kills = planned_kills(budget, run.plan)
    misses = 0
    while run.tally.kills - run.tally.timer_kills < run.planned_kills and misses < 3:
        zoho.delete(f"kill?scope={run.book.org_id}")
        done = zoho.get("counters")["committed"].get(run.book.org_id, {})
        left = run.planned_kills - (run.tally.kills - run.tally.timer_kills)
        armed = next_write_kill(run.plan, done, left, rng)
        if not armed:
            break  # the book is written out: the shortfall shows in the row
        for kind, after in [("*", 1)] if misses else armed:  # after a miss: the next write
            zoho.post("kill", {"scope": run.book.org_id, "kind": kind, "after": after})
        timer = rng.uniform(1.0, 10.0) if rng.random() < 0.25 else None
        outcome = worker.sync_through_lease(kill_after=timer)
        misses = 0 if outcome.killed else misses + 1
    zoho.delete(f"kill?scope={run.book.org_id}")


def drive_faults(world: World, run: BookRun, budget: Budget, rng: random.Random) -> None:
    rules: list[dict[str, Any]] = [
        {
            "fault": fault,
            "kind": kind,
            "scope": run.book.org_id,
            "times": budget.faults_per_rule,
            "rate": budget.fault_rate,
        }
        for kind in KINDS
        for fault in FAULTS
    ]
    # Zoho's code 44 blocks the organisation for a minute (the connector waits it out): once.
    rules.append({"fault": "throttle_44", "kind": "*", "scope": run.book.org_id, "skip": 3})
    world.control("zohobooks").post("faults", {"rules": rules})
    worker = Worker(world, run.book, run.tally, rng)
    for _ in range(3):
        worker.sync_through_lease()
    world.control("zohobooks").delete(f"faults?scope={run.book.org_id}")


def drive_tokens(world: World, run: BookRun, budget: Budget, rng: random.Random) -> None:
    """Tokens expire, then the refresh token is revoked, both mid-run: after committed writes."""
    zoho = world.control("zohobooks")
    worker = Worker(world, run.book, run.tally, rng)
    first, second = rng.randint(2, 4), rng.randint(6, 9)
    token = world.refresh[run.book.name]  # this book's own: the other books keep theirs
    for action, after in (("expire_tokens", first), ("revoke", second)):
        rule = {"action": action, "args": {"tokens": [token]}}
        zoho.post("kill", {"scope": run.book.org_id, "after": after, **rule})
    outcome = worker.sync_through_lease()
    counters = zoho.post("action/auth_counters", {"token": token})
    if not counters["revoked"]:
        worker.tally.errors.append(f"{run.book.name}: the run ended before the revocation")
    else:  # refreshes since the revocation mean nothing when there was none
        run.token_requests_after_revoke.append(counters["since_revoke"])
        run.revoked_exits.append(outcome.returncode)
    zoho.delete(f"kill?scope={run.book.org_id}")
    reconnect(world, run.book, worker)


def reconnect(world: World, book: Book, worker: Worker) -> None:
    """The operator's reconnect: consent (the emulator approves at once), then ``connect``."""
    # Twice at most: a token-expiry fault the scenario set up may still fire while the first
    # connect checks its brand-new token (an artefact of the harness; an operator re-runs it).
    for attempt in (1, 2):
        done = _connect_once(world, book, worker)
        if done.returncode == 0:
            return
        if attempt == 2:
            worker.tally.errors.append(
                f"{book.name}: reconnect failed: {done.stderr.strip()[-300:]}"
            )


def _connect_once(world: World, book: Book, worker: Worker) -> Any:
    zoho = world.urls["zohobooks"]
    consent = httpx.get(
        f"{zoho}/oauth/v2/auth",
        params={
            "client_id": EMULATOR_CLIENT_ID,
            "user": MERCHANT,
            "redirect_uri": "http://127.0.0.1:8765/callback",
        },
        follow_redirects=False,
    )
    code = parse_qs(urlparse(consent.headers["location"]).query)["code"][0]
    from ledgerbridge.config import load_config

    database = load_config(book.config).config.database
    done = worker.cli(
        "connect", "zohobooks", "--tenant", book.tenant, "--name", "books", "--code", code,
        "--client-id", EMULATOR_CLIENT_ID, "--client-secret", EMULATOR_CLIENT_SECRET,
        "--accounts-url", zoho, "--api-url", zoho, "--organization-id", book.org_id,
        "--database-url", str(database),
    )  # fmt: skip
    return done


def drive_concurrent(world: World, run: BookRun, budget: Budget, rng: random.Random) -> None:
    worker = Worker(world, run.book, run.tally, rng)
    kills = {"armed": 0}

    def one(n: int) -> None:
        local = random.Random(f"{rng.random()}:{n}")
        while True:
            kill = run.tally.kills < budget.kills and local.random() < 0.5
            outcome = worker.sync_through_lease(
                kill_after=local.uniform(3.0, 20.0) if kill else None, siblings=True
            )
            if not outcome.killed:
                return  # this worker saw the pipeline through once

    threads = [threading.Thread(target=one, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    zoho = world.control("zohobooks")
    while any(t.is_alive() for t in threads):
        time.sleep(rng.uniform(1.0, 4.0))
        if kills["armed"] < budget.kills // 2 and worker.live:
            zoho.delete(f"kill?scope={run.book.org_id}")
            for pid in list(worker.live):  # the rule kills every worker registered now
                zoho.post("kill", {"pid": pid, "scope": run.book.org_id})
            _arm_write_kill(world, run.book, rng)
            kills["armed"] += 1
    zoho.delete(f"kill?scope={run.book.org_id}")
    worker.close()


def settle(world: World, run: BookRun, rng: random.Random) -> Outcome | None:
    """Faults off, converge, then one clean run whose writes the emulator counts."""
    zoho = world.control("zohobooks")
    zoho.delete(f"faults?scope={run.book.org_id}")
    zoho.delete(f"kill?scope={run.book.org_id}")
    worker = Worker(world, run.book, run.tally, rng)
    for _ in range(SETTLE_PASSES):
        worker.sync_through_lease()
        retrying = [r for r in worker.failures() if r["state"] == "retrying"]
        if not retrying:
            break
        worker.cli("replay", "--state", "retrying", "-c", str(run.book.config))
    before = _committed(world, run.book)
    outcome = worker.sync_through_lease()
    run.clean_writes = _committed(world, run.book) - before
    run.clean_exit = outcome.returncode
    counters = zoho.get("counters")
    run.injected = counters["injected"].get(run.book.org_id, {})
    return outcome


def _after(seconds: float, action: Callable[[], Any]) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


DRIVERS: dict[str, Callable[[World, BookRun, Budget, random.Random], None]] = {
    "kills": drive_kills,
    "faults": drive_faults,
    "tokens": drive_tokens,
    "concurrent": drive_concurrent,
}
