"""What the harness does to a chaos book's workers: the four scenarios, then the settling.

- ``kills``: SIGKILLs, half on a timer (a random point of a run: reading, planning, between
  calls) and half from the Zoho Books emulator right after the N-th committed write of a
  random write kind, before its response leaves.
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


def _committed(world: World, book: Book) -> int:
    counters = world.control("zohobooks").get("counters")
    return sum(counters["committed"].get(book.org_id, {}).values())


def _arm_write_kill(world: World, book: Book, rng: random.Random) -> None:
    kind = rng.choice([*KINDS, "*", "*", "*"])  # "*": any write, weighted like the common kinds
    world.control("zohobooks").post(
        "kill", {"scope": book.org_id, "kind": kind, "after": rng.randint(1, 6)}
    )


def drive_kills(world: World, run: BookRun, budget: Budget, rng: random.Random) -> None:
    worker = Worker(world, run.book, run.tally, rng)
    misses = 0
    while run.tally.kills < budget.kills and misses < 3:
        world.control("zohobooks").delete(f"kill?scope={run.book.org_id}")
        timer = rng.random() < 0.5
        if not timer:
            _arm_write_kill(world, run.book, rng)
        outcome = worker.sync_through_lease(kill_after=rng.uniform(3.0, 20.0) if timer else None)
        misses = 0 if outcome.killed else misses + 1  # three clean runs: nothing left to kill
    world.control("zohobooks").delete(f"kill?scope={run.book.org_id}")


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
