"""Workers as real subprocesses (``ledgerbridge worker`` / ``beat``) on real services: the
books in the Zoho emulator are exact -- 0 duplicates, 0 missing -- after several workers
shared the tenants, after a worker was SIGKILLed mid-task, and after the broker restarted."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .services import need_postgres, need_rabbitmq, need_redis, postgres_schema
from .world import World, kill, world


@pytest.fixture
def database() -> Iterator[str]:
    with postgres_schema(need_postgres()) as url:
        yield url


def test_workers_share_the_tenants_and_the_books_are_exact(tmp_path: Path, database: str) -> None:
    redis_url, amqp = need_redis(), need_rabbitmq()
    with world(
        tmp_path, database=database, broker=amqp, redis=redis_url, tenants=4, orders=12, rpm=100
    ) as w:
        for i in range(2):
            w.worker(f"w{i}", concurrency=4)
        w.beat()
        states = w.wait_settled(timeout=120)
        documents = w.assert_books_exact()
        assert documents > 0 and states["synced"] > 0
        # the state counters that eight worker processes kept equal counting the records
        from ledgerbridge.store import Store

        from ..console.test_record_counts import assert_exact

        counted = Store(database)
        try:
            assert sum(assert_exact(counted).values()) >= sum(states.values())
        finally:
            counted.close()
        # every worker did some of the work
        busy = [p for p in tmp_path.glob("w*.log") if "share done" in p.read_text()]
        assert len(busy) >= 2, w.logs()
        # status reads each organisation's calls from the shared state, and the queue
        from ledgerbridge.config import load_config
        from ledgerbridge.worker.status import shared_state

        state = shared_state(load_config(w.config))
        assert state is not None
        for tenant in w.tenants:
            used = state["accounts"][f"zohobooks:{w.orgs[tenant]}"]
            assert used["day"] >= w.zoho_calls(w.orgs[tenant]) > 0
            assert used["per_minute"] == 100 and used["max_in_flight"] == 10
        assert set(state["pipelines"].values()) <= {"idle", "queued"}
        shown = subprocess.run(
            [*w.argv("status"), "--no-limits"], env=w.env, capture_output=True, text=True
        )
        assert shown.returncode == 0, shown.stderr
        assert "Shared limits" in shown.stdout and w.orgs[w.tenants[0]] in shown.stdout
        webhook_reaches_the_books_through_the_workers(w)


def webhook_reaches_the_books_through_the_workers(w: World) -> None:
    """``serve`` stores a signed webhook and queues ``ledgerbridge.event``; a worker posts it."""
    import anyio
    import httpx

    from ledgerbridge.sandbox.server import _free_port
    from ledgerbridge_woocommerce.emulator.webhooks import Webhook

    tenant = w.tenants[0]
    org = w.zoho.emulator.state.organizations[w.orgs[tenant]]
    oid, invoice = next(
        (int(i["custom_field_hash"]["cf_source_order_id"]), i)
        for i in org.invoices.values()
        if i["status"] not in ("paid", "void")
    )
    port = _free_port("127.0.0.1")
    w.start("serve", "--port", str(port), name="serve")
    receiver = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{receiver}/health").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, w.logs()
        time.sleep(0.1)
    emulator = w.shops[tenant].emulator
    emulator.sender.webhooks[1] = Webhook(
        1, "ledgerbridge", "order.updated", f"{receiver}/webhooks/{tenant}/shop", "hook"
    )
    anyio.run(lambda: emulator.touch_order(oid, customer_note="Ring twice"))
    assert emulator.sender.sent == [("order.updated", 200)]
    deadline = time.monotonic() + 30
    while invoice["notes"] != "Ring twice":
        assert time.monotonic() < deadline, w.logs()
        time.sleep(0.05)
    logs = "".join(p.read_text() for p in w.directory.glob("w*.log"))
    assert "ledgerbridge.event[" in logs, "the receiver queued the event for the workers"


def _ids(log: str, *words: str) -> set[str]:
    import re

    found: set[str] = set()
    for word in words:
        found |= set(re.findall(r"ledgerbridge\.work\[([0-9a-f-]+)\] " + word, log))
    return found


def test_a_worker_killed_mid_task_loses_and_duplicates_nothing(
    tmp_path: Path, database: str
) -> None:
    redis_url, amqp = need_redis(), need_rabbitmq()
    # Each Zoho call takes 0.2 s, so a share is seconds long and the kill lands inside one.
    with world(
        tmp_path, database=database, broker=amqp, redis=redis_url, tenants=3, orders=12,
        hold=0.2,
    ) as w:  # fmt: skip
        doomed = w.worker("doomed", concurrency=3)
        w.beat()
        deadline = time.monotonic() + 60
        while sum(sum(c.values()) for c in w.books().values()) < 4:
            assert time.monotonic() < deadline, w.logs()
            time.sleep(0.1)
        kill(doomed)  # SIGKILL: no ack, no lease release, no goodbye
        log = (tmp_path / "doomed.log").read_text()
        unfinished = _ids(log, "received") - _ids(log, "succeeded", "retry")
        assert unfinished, "the kill should land while a share runs"
        w.worker("rescuer", concurrency=3)
        w.wait_settled(timeout=120)
        w.assert_books_exact()
        rescued = _ids((tmp_path / "rescuer.log").read_text(), "received")
        assert unfinished & rescued, "the killed worker's task was handed out again"


def test_the_broker_restarted_mid_run_loses_nothing(tmp_path: Path, database: str) -> None:
    redis_url = need_redis()
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (a private broker is restarted)")
    from ledgerbridge.sandbox.server import _free_port

    port = _free_port("127.0.0.1")
    data = tmp_path / "broker"
    data.mkdir()

    def broker() -> subprocess.Popen[bytes]:
        # A private broker (the shared one is not ours to restart), persisting every write.
        return subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip

    proc = broker()
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(50):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.RedisError:
            time.sleep(0.1)
    try:
        with world(
            tmp_path / "w", database=database, broker=url, redis=redis_url, tenants=3,
            orders=12, hold=0.1,
        ) as w:  # fmt: skip
            w.worker("w0", concurrency=3)
            w.beat()
            deadline = time.monotonic() + 60
            while sum(sum(c.values()) for c in w.books().values()) < 4:
                assert time.monotonic() < deadline, w.logs()
                time.sleep(0.1)
            kill(proc)  # the broker dies mid-run ...
            time.sleep(2)
            proc = broker()  # ... and comes back with what it had persisted
            w.wait_settled(timeout=120)
            w.assert_books_exact()
    finally:
        kill(proc)
