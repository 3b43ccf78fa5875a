"""Concurrent first deliveries on a fresh store, through a real ``ledgerbridge serve``.

The receiver used to set the store up on the first request behind a plain flag, so
simultaneous first deliveries ran the migrations in parallel threads (alembic's
module-level context is not thread-safe): HTTP 500s, SQLite "API misuse", stores
left with tables but no migration record.  Now the store is set up once, at start-up,
before the port is even bound.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from ledgerbridge.store import Store
from ledgerbridge.store.store import MIGRATIONS

from .receiver_world import free_port, make_world, serve, wait_listening, woo_delivery

DELIVERIES = 12


def head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def test_concurrent_first_deliveries_on_a_fresh_store_all_succeed(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    assert not world.database_path.exists()
    port = free_port()
    server = serve(world, port)
    url = f"http://127.0.0.1:{port}/webhooks/west/shop"
    start = threading.Barrier(DELIVERIES)

    def deliver(n: int) -> int:
        body, headers = woo_delivery(1000 + n, f"delivery-{n}")
        start.wait()
        try:
            return httpx.post(url, content=body, headers=headers, timeout=30).status_code
        except httpx.HTTPError:  # the server died (it used to segfault) or hung up
            return -1

    try:
        wait_listening(port)
        with ThreadPoolExecutor(DELIVERIES) as pool:
            codes = list(pool.map(deliver, range(DELIVERIES)))
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert codes == [200] * DELIVERIES, (codes, err[-3000:])
    assert f"http://127.0.0.1:{port}" in out, (out, err)

    store = Store(world.database_url)
    try:
        with store.engine.connect() as conn:
            versions = [
                row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))
            ]
        events = store.pending_inbox(limit=100)
    finally:
        store.close()
    assert versions == [head_revision()], "the migration head is recorded once"
    assert sorted(e.external_id for e in events) == sorted(str(1000 + n) for n in range(DELIVERIES))
