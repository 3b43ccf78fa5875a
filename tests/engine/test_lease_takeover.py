"""A crashed worker does not block its pipeline: a SIGKILLed ``ledgerbridge sync`` is
replaced within seconds (its lease names a process on this host that is gone), a live
holder is never taken over, and ``ledgerbridge unlock`` releases a lease held from another
host after a confirmation that names the holder.  ``status`` shows the leases.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlmodel import select

from ledgerbridge.engine.lease import LEASE_TTL
from ledgerbridge.exitcodes import ExitCode
from ledgerbridge.store import Lease, Store
from ledgerbridge.store.holders import default_holder, holder_is_dead
from ledgerbridge.store.types import utcnow

from .harness import woocommerce_to_zoho

LEASE = "pipeline:pipe"


def argv(h: Any, *args: str) -> list[str]:
    return [sys.executable, "-m", "ledgerbridge", *args, "-c", str(h.config_path)]


def env(key: str) -> dict[str, str]:
    return {**os.environ, "LEDGERBRIDGE_SECRET_KEY": key, "COLUMNS": "250"}


def cli(h: Any, key: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv(h, *args), env=env(key), input=stdin, capture_output=True, text=True, timeout=180
    )


def lease_holder(h: Any) -> str | None:
    store = Store(h.db_url)
    try:
        with store.session() as s:
            row = s.get(Lease, LEASE)
            return row.holder if row else None
    except OperationalError:
        return None  # the worker has not created the store yet
    finally:
        store.close()


def posted(h: Any) -> int:
    return sum(1 for d in h.documents("invoices") if not d["reference_number"].startswith("SEED-"))


def wait_for(check: Any, timeout: float, step: float = 0.05) -> float:
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(step)
    return time.monotonic() - began


def one_live_invoice_per_order(h: Any) -> None:
    refs = Counter(
        d["reference_number"]
        for d in h.documents("invoices")
        if not d["reference_number"].startswith("SEED-") and d["status"] != "void"
    )
    assert refs and all(n == 1 for n in refs.values()), refs


def test_a_sigkilled_worker_is_replaced_within_seconds(tmp_path: Path, secret_key: str) -> None:
    with woocommerce_to_zoho(tmp_path, orders=8) as h:
        h.zoho_faults.latency = 0.2  # a slow Zoho: the worker is mid-run when it is killed
        first = subprocess.Popen(
            argv(h, "sync"), env=env(secret_key),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: posted(h) >= 2, 60)
        dead_holder = lease_holder(h)
        assert dead_holder is not None and f":{first.pid}:" in dead_holder
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        status = cli(h, secret_key, "status", "--no-limits")
        assert LEASE in status.stdout and dead_holder in status.stdout, status.stdout
        assert "holder dead" in status.stdout

        began = time.monotonic()
        second = subprocess.Popen(
            argv(h, "sync"), env=env(secret_key), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        # The bound is far below the lease's 10-minute TTL (so the dead holder was taken
        # over, not waited out) but leaves room for the interpreter's start and imports,
        # which alone took over 10 s under CI's four test processes on two cores.
        took = wait_for(lambda: (lease_holder(h) or "").find(f":{second.pid}:") > 0, 60)
        out, err = second.communicate(timeout=180)
        assert second.returncode == ExitCode.OK, (second.returncode, out[-2000:], err[-2000:])
        assert took < LEASE_TTL.total_seconds() / 10 and time.monotonic() - began < 180
        one_live_invoice_per_order(h)
        assert lease_holder(h) is None  # released at the end of the run


def plant_lease(h: Any, holder: str) -> None:
    store = Store(h.db_url)
    now = utcnow()
    with store.session() as s:
        s.add(Lease(name=LEASE, holder=holder, expires_at=now + timedelta(minutes=10),
                    acquired_at=now))  # fmt: skip
    store.close()


def test_a_live_or_foreign_holder_blocks_and_unlock_releases_it(
    tmp_path: Path, secret_key: str
) -> None:
    with woocommerce_to_zoho(tmp_path, orders=2) as h:
        Store(h.db_url).migrate()

        # A live process on this host (this test) holds it: never taken over.
        alive = default_holder()
        assert not holder_is_dead(alive)
        plant_lease(h, alive)
        busy = cli(h, secret_key, "sync")
        assert busy.returncode == ExitCode.BUSY, (busy.returncode, busy.stderr)
        assert alive in busy.stderr and "ledgerbridge unlock pipe" in busy.stderr
        assert posted(h) == 0

        # A worker on another host: its PID says nothing here, so only an operator can say.
        foreign = "worker-7.other-host:4242:0badc0de"
        store = Store(h.db_url)
        with store.session() as s:
            s.delete(s.get(Lease, LEASE))
        store.close()
        plant_lease(h, foreign)
        assert cli(h, secret_key, "sync").returncode == ExitCode.BUSY

        declined = cli(h, secret_key, "unlock", "pipe", stdin="n\n")
        assert declined.returncode == ExitCode.BUSY
        assert foreign in declined.stdout  # the confirmation names the holder
        assert lease_holder(h) == foreign

        unknown = cli(h, secret_key, "unlock", "no-such-pipeline", "--yes")
        assert unknown.returncode == ExitCode.NOT_FOUND, unknown.stderr
        assert "no-such-pipeline" in unknown.stderr

        released = cli(h, secret_key, "unlock", "pipe", stdin="y\n")
        assert released.returncode == ExitCode.OK, released.stderr
        assert f"was held by {foreign}" in released.stdout
        assert lease_holder(h) is None
        assert "not locked" in cli(h, secret_key, "unlock", "pipe", "--yes").stdout

        done = cli(h, secret_key, "sync")
        assert done.returncode == ExitCode.OK, done.stderr
        one_live_invoice_per_order(h)
        with Store(h.db_url).session() as s:
            assert s.exec(select(Lease).where(Lease.name == LEASE)).first() is None
