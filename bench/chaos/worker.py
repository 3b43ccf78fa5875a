"""The worker under test: the real ``ledgerbridge`` CLI in a subprocess, killed on purpose.

A worker is ``python -m ledgerbridge sync PIPELINE -c CONFIG``, as cron would run
it.  Before it can write, its PID is registered with the Zoho Books emulator's
control surface, so a kill rule there can SIGKILL it right after a committed
write; the driver's own timer kills it at random points too.

A restart after a kill may meet the dead worker's lease.  The product's promise
is that it resumes within 10 s; the worker retries that long and, past it, counts
the wait as **lease blocked** (a failed check) and releases the lease as an operator
would (the store's ``release_lease``, which is what an unlock does) so the rest of
the scenario still measures something.
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .world import Book, World

BUSY = "is already running"
HOLDER = re.compile(r"already running \([^:()\s]+:(\d+):")
HOLDER_PID = re.compile(r"[^:]+:(\d+):")  # a lease holder is host:pid:nonce
RESUME_WITHIN = 10.0  # seconds a restart may wait for a dead worker's lease
RUN_TIMEOUT = 1800.0
LIVE: set[subprocess.Popen[str]] = set()  # every worker process of this driver, for cleanup
STOP = threading.Event()  # the driver is stopping: start no more workers


class Stopped(Exception):
    """Raised in the driving threads once the driver stops."""


def kill_all() -> None:
    """SIGKILL every worker still running and start no more (the driver is stopping)."""
    STOP.set()
    for proc in list(LIVE):
        if proc.poll() is None:
            proc.kill()


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL

    @property
    def busy(self) -> bool:
        return BUSY in self.stderr or BUSY in self.stdout

    @property
    def holder_pid(self) -> int | None:
        """The PID in the refusal's lease holder (``host:pid:nonce``), when it names one."""
        found = HOLDER.search(self.stderr + self.stdout)
        return int(found.group(1)) if found else None


@dataclass
class Tally:
    """What one book's workers went through."""

    kills: int = 0
    timer_kills: int = 0
    runs: int = 0
    lease_blocked: int = 0
    lease_waits: list[float] = field(default_factory=list)
    exits: dict[int, int] = field(default_factory=dict)  # exit code of finished runs -> n
    errors: list[str] = field(default_factory=list)


class Worker:
    """Runs one book's pipeline through the CLI."""

    def __init__(self, world: World, book: Book, tally: Tally, rng: random.Random) -> None:
        self.world, self.book, self.tally, self.rng = world, book, tally, rng
        self._lock = threading.Lock()
        self.live: set[int] = set()
        self._store: Any = None

    def cli(self, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "ledgerbridge", *args]
        return subprocess.run(
            cmd,
            cwd=self.book.directory,
            env=self.world.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def sync(self, *, kill_after: float | None = None) -> Outcome:
        """One ``ledgerbridge sync``; ``kill_after`` seconds: SIGKILL it then (timer kill)."""
        if STOP.is_set():
            raise Stopped(self.book.name)
        cmd = [sys.executable, "-m", "ledgerbridge", "sync", self.book.pipeline]
        cmd += ["-c", str(self.book.config)]
        started = time.monotonic()
        proc = subprocess.Popen(
            cmd,
            cwd=self.book.directory,
            env=self.world.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        with self._lock:
            self.live.add(proc.pid)
            LIVE.add(proc)
        if not self.book.reference:
            for platform, scope in self.book.kill_scopes:
                self.world.control(platform).post("kill", {"pid": proc.pid, "scope": scope})
        timer, fired = None, threading.Event()
        if kill_after is not None:
            timer = threading.Timer(kill_after, _kill, (proc, fired))
            timer.start()
        try:
            out, err = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            self.tally.errors.append(f"{self.book.name}: a sync ran over {RUN_TIMEOUT:.0f} s")
        finally:
            if timer is not None:
                timer.cancel()
            with self._lock:
                self.live.discard(proc.pid)
                LIVE.discard(proc)
        outcome = Outcome(proc.returncode, out, err, time.monotonic() - started)
        with (self.book.directory / "runs.log").open("a") as log:  # for a post-mortem
            log.write(
                f"{time.strftime('%H:%M:%S')} pid {proc.pid} exit {proc.returncode} "
                f"{outcome.seconds:.1f}s busy={outcome.busy} {err.strip()[-200:]!r}\n"
            )
        with self._lock:
            self.tally.runs += 1
            if outcome.killed:
                self.tally.kills += 1
                if fired.is_set():
                    self.tally.timer_kills += 1
            elif not outcome.busy:
                self.tally.exits[outcome.returncode] = (
                    self.tally.exits.get(outcome.returncode, 0) + 1
                )
        return outcome

    def sync_through_lease(
        self, *, kill_after: float | None = None, siblings: bool = False
    ) -> Outcome:
        """A sync that, when refused for a lease, retries until it runs.

        ``siblings``: other live workers share the pipeline, so a held lease may be theirs;
        the clock for "a dead worker's lease" only runs while its holder is not one of them.
        """
        waited_from: float | None = None
        while True:
            while siblings and self.sibling_holds_lease():
                time.sleep(0.5)  # cheaper than a refused process start
            outcome = self.sync(kill_after=kill_after)
            if not outcome.busy:
                if waited_from is not None:
                    self.tally.lease_waits.append(time.monotonic() - waited_from)
                return outcome
            if siblings and self.holder_alive(outcome):
                waited_from = None  # a live sibling's lease: wait for it, not against the clock
                time.sleep(2.0 + self.rng.random() * 2.0)
                continue
            waited_from = waited_from or time.monotonic()
            if time.monotonic() - waited_from > RESUME_WITHIN:
                self.tally.lease_waits.append(time.monotonic() - waited_from)
                self.release_stuck_lease()
                waited_from = None
                continue
            time.sleep(1.0)

    def holder_alive(self, outcome: Outcome) -> bool:
        """Is the lease held by one of this book's workers that is still running?"""
        pid = outcome.holder_pid
        if pid is None:  # the refusal does not say: any live sibling may hold it
            return bool(self.live)
        return pid in self.live

    def _lease(self) -> tuple[str, Any] | None:
        """The pipeline's lease as the store holds it (scheduling only, never the verdict)."""
        from ledgerbridge.config import load_config
        from ledgerbridge.store import Store

        if self._store is None:
            self._store = Store(load_config(self.book.config).config.database)
        try:
            return self._store.lease_holder(self.lease_name)
        except Exception:  # no schema yet: nobody holds it
            return None

    def sibling_holds_lease(self) -> bool:
        held = self._lease()
        found = HOLDER_PID.match(held[0]) if held else None
        return found is not None and int(found.group(1)) in self.live

    def release_stuck_lease(self) -> None:
        """What an operator does about a dead worker's lease: release it (counted once)."""
        with self._lock:
            held = self._lease()
            if held is not None and self._store is not None:
                self.tally.lease_blocked += 1
                self._store.release_lease(self.lease_name, held[0])

    @property
    def lease_name(self) -> str:
        return f"pipeline:{self.book.pipeline}"

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def failures(self) -> list[dict[str, Any]]:
        """The product's own account of what it parked (``ledgerbridge failures --json``)."""
        done = self.cli("failures", "--json", "-c", str(self.book.config))
        # 3 and 4: it listed parked or retrying records (docs/operations.md, "Exit codes").
        if done.returncode not in (0, 3, 4):
            why = (done.stderr or "").strip().splitlines()[-1:] or [""]
            self.tally.errors.append(
                f"{self.book.name}: failures exited {done.returncode} {why[0][:300]}"
            )
            return []
        rows: list[dict[str, Any]] = json.loads(done.stdout or "[]")
        return rows


def _kill(proc: subprocess.Popen[str], fired: threading.Event) -> None:
    if proc.poll() is None:
        fired.set()
        proc.send_signal(signal.SIGKILL)
