"""Store-backed locks and credentials: the shared state connectors reach through their context."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
from sqlalchemy import text

from ledgerbridge.store import Store
from ledgerbridge.store.adapters import StoreCredentials, StoreLocks


def test_credentials_round_trip_encrypted(store: Store):
    store.upsert_tenant("acme")
    store.upsert_connection(
        "acme", "books", platform="zohobooks", kind="target", secrets={"refresh_token": "r1"}
    )
    creds = StoreCredentials(store, "acme/books")

    async def main():
        assert await creds.load("refresh_token") == "r1"
        assert await creds.load("access_token") is None
        await creds.save("access_token", "1000.secret-access")
        return await creds.load("access_token")

    assert anyio.run(main) == "1000.secret-access"
    with store.engine.connect() as conn:
        assert (
            "secret-access"
            not in conn.execute(text("SELECT secrets FROM connections")).scalar_one()
        )


def test_tasks_in_one_process_take_turns(store: Store):
    locks = StoreLocks(store)
    inside, overlaps = [], []

    async def worker(i: int):
        async with locks.lock("token:acme/books", ttl=5):
            if inside:
                overlaps.append(i)
            inside.append(i)
            await anyio.sleep(0.01)
            inside.remove(i)

    async def main():
        async with anyio.create_task_group() as tg:
            for i in range(10):
                tg.start_soon(worker, i)

    anyio.run(main)
    assert overlaps == []
    assert store.lease_holder("token:acme/books") is None  # released


def test_lock_excludes_another_process(tmp_path: Path, secret_key: str):
    db = tmp_path / "locks.db"
    store = Store(f"sqlite:///{db}")
    store.migrate()
    marker = tmp_path / "held"
    script = textwrap.dedent(
        f"""
        import anyio, pathlib
        from ledgerbridge.store import Store
        from ledgerbridge.store.adapters import StoreLocks
        locks = StoreLocks(Store("sqlite:///{db}"), holder="other-process")
        async def main():
            async with locks.lock("pipeline:p1", ttl=30):
                pathlib.Path({str(marker)!r}).write_text("x")
                await anyio.sleep(1.0)
        anyio.run(main)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 20
        while not marker.exists():
            assert time.monotonic() < deadline, "child never took the lock"
            time.sleep(0.02)
        mine = StoreLocks(store, holder="this-process")

        async def take() -> float:
            start = time.monotonic()
            async with mine.lock("pipeline:p1", ttl=30):
                return time.monotonic() - start

        waited = anyio.run(take)
        assert waited > 0.3  # had to wait for the other process to release
    finally:
        proc.wait(timeout=20)
    assert proc.returncode == 0
