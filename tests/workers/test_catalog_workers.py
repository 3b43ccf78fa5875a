"""A catalog pipeline run by the distributed workers: ``ledgerbridge worker`` as a real
subprocess on PostgreSQL, RabbitMQ as the broker and Redis for the dispatch gate; the sweep
sent through the broker as ``ledgerbridge beat`` sends it. Between the Zoho Books emulator
and a WooCommerce emulator: the first sweep aligns the shop to Books, a price edited in
Books reaches the shop on the next sweep, and a sweep after that writes nothing -- each
checked in the emulators' state. Before, the sweep queued order pipelines only and a
catalog pipeline never ran on the workers."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from anyio.from_thread import start_blocking_portal
from celery import Celery

from ledgerbridge.worker import catalogs
from ledgerbridge.worker.dispatch import Dispatcher
from ledgerbridge.worker.runtime import Runtime
from ledgerbridge_woocommerce.emulator.app import create_app as woo_app
from ledgerbridge_woocommerce.emulator.data import seed
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG

from ..catalog.harness import CatalogWorld, add_items, catalog_world
from ..catalog.test_woocommerce_catalog import SKUS, WOO, _woo, _writes
from .services import need_postgres, need_rabbitmq, need_redis, postgres_schema
from .world import REPO

pytestmark = pytest.mark.usefixtures("secret_key")

WORKERS = """\
        interval: 1s
workers:
  broker_url: "{broker}"
  redis_url: "{redis}"
  queue: {queue}
  limits: process
  visibility_timeout: 30s
  lease_ttl: 10s
"""


def _own_id(world: CatalogWorld) -> str:
    """A pipeline id of this test's own: the gate's Redis keys are named after it, and other
    tests (other xdist workers) may use the same Redis at the same time."""
    pid = f"cat-{uuid.uuid4().hex[:8]}"
    text = world.config_path.read_text()
    world.config_path.write_text(text.replace("      - id: cat\n", f"      - id: {pid}\n", 1))
    return pid


class Deployment:
    """The world, one worker subprocess, and the sweep sent as beat sends it."""

    def __init__(self, world: CatalogWorld, broker: str, redis_url: str, queue: str) -> None:
        self.world, self.queue, self.pid = world, queue, _own_id(world)
        self.redis = redis.Redis.from_url(redis_url)
        self.celery = Celery(broker=broker)
        self.swept_at = 0.0
        self.runs = 0

    def zoho_calls(self) -> int:
        return int(self.world.zoho.emulator._daily.get(MAIN_ORG, 0))

    def sweep(self, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
        """Send ``ledgerbridge.sweep`` (after the pipeline's 1 s interval), then wait until
        the worker logged one more ``ledgerbridge.catalog`` task done and it let go of the
        pipeline's marker."""
        time.sleep(max(0.0, self.swept_at + 1.2 - time.monotonic()))
        before = self.zoho_calls()
        self.swept_at = time.monotonic()
        self.celery.send_task("ledgerbridge.sweep", queue=self.queue)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert proc.poll() is None, self.log()
            done = re.findall(r"Task ledgerbridge\.catalog\[\w+\] succeeded", self.log(None))
            if len(done) > self.runs and not self.redis.exists(f"lb:dispatch:{self.pid}"):
                self.runs = len(done)
                assert self.zoho_calls() > before  # it read Books
                return
            time.sleep(0.2)
        raise AssertionError(f"the catalog did not run in {timeout}s\n{self.log()}")

    def log(self, tail: int | None = 4000) -> str:
        text = (self.world.root / "worker.log").read_text(errors="replace")
        return text[-tail:] if tail else text


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[Deployment, subprocess.Popen[bytes]]]:
    redis_url, broker = need_redis(), need_rabbitmq()
    queue = f"lbcat-{uuid.uuid4().hex[:8]}"
    extra = WORKERS.format(broker=broker, redis=redis_url, queue=queue)
    with (
        postgres_schema(need_postgres()) as database,
        catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO, db_url=database, extra=extra)
        as world,
    ):  # fmt: skip
        add_items(
            world, [(f"Books {s}", s, Decimal("5.00") + i, 3 + i) for i, s in enumerate(SKUS)]
        )
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "LEDGERBRIDGE_CONFIG")}
        argv = [sys.executable, "-m", "ledgerbridge"]
        migrate = subprocess.run(
            [*argv, "migrate", "--database", database], env=env, cwd=REPO,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert migrate.returncode == 0, migrate.stderr
        d = Deployment(world, broker, redis_url, queue)
        with (tmp_path / "worker.log").open("wb") as log:
            proc = subprocess.Popen(
                [*argv, "worker", "-c", str(world.config_path), "--name", f"{queue}@test",
                 "-C", "2"],
                env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            yield d, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            d.redis.delete(f"lb:dispatch:{d.pid}", f"lb:due:{d.pid}")
            d.redis.close()


def test_the_workers_run_a_catalog_pipeline_on_its_interval(
    deployment: tuple[Deployment, subprocess.Popen[bytes]],
) -> None:
    d, worker = deployment
    world = d.world
    d.sweep(worker)  # the first run: every SKU bound, the shop given Books' prices
    woo: dict[str, Any] = _woo(world)
    for i, sku in enumerate(SKUS):
        assert Decimal(woo[sku]["regular_price"]) == Decimal("5.00") + i, sku
    aligned = len(_writes(world))
    assert aligned == 2  # one products/batch, one variations/batch (as embedded)

    world.edit_item("Bar4", rate=Decimal("18.25"))
    d.sweep(worker)
    assert _woo(world)["Bar4"]["regular_price"] == "18.25"
    assert len(_writes(world)) == aligned + 1

    d.sweep(worker)  # it ran (read Books again) and found nothing to write
    assert len(_writes(world)) == aligned + 1
    assert _woo(world)["Bar4"]["regular_price"] == "18.25"
    assert world.item_by_sku("Bar4")["rate"] == Decimal("18.25")


def test_a_catalog_failure_on_a_worker_is_logged_as_that_pipelines_own(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The task's run (in process: the worker's runtime with the local Redis gate) against
    a Books connection whose refresh token Zoho refuses: the error is logged naming the
    catalog pipeline, the task returns (the next interval tries again), the pipeline's
    marker is let go, and nothing reached the shop."""
    redis_url = need_redis()
    with (
        catalog_world(tmp_path, woo_app(store=seed(orders=0)), WOO) as world,
        start_blocking_portal() as portal,
    ):
        add_items(world, [("Books Bar4", "Bar4", Decimal("18.25"), 3)])
        text = world.config_path.read_text()
        world.config_path.write_text(re.sub(r'refresh_token: "[^"]*"', 'refresh_token: "x"', text))
        pid = _own_id(world)
        sent: list[tuple[str, list[Any]]] = []
        rt = Runtime.__new__(Runtime)  # the parts the catalog task uses
        rt.portal = portal
        rt.engine = portal.call(world.engine)
        rt.dispatcher = Dispatcher(
            redis_url, lambda name, *, args, **_: sent.append((name, args)),
            queue=f"lbcat-{uuid.uuid4().hex[:8]}", marker_ttl=20.0,
        )  # fmt: skip
        try:
            assert catalogs.sweep(rt) == {pid: "queued"}
            assert sent == [("ledgerbridge.catalog", [pid])]
            assert catalogs.sweep(rt) == {}  # its interval (15 min) has not passed again
            task_id = rt.dispatcher.redis.get(f"lb:dispatch:{pid}")
            assert task_id
            with caplog.at_level(logging.ERROR):
                assert catalogs.run(rt, pid, task_id) == {"pipeline": pid, "failed": True}
            [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
            assert error.getMessage().startswith(f"error: {pid}: Zoho accounts server")
            assert rt.dispatcher.state([pid]) == {pid: "idle"}
            assert _writes(world) == []
        finally:
            rt.dispatcher.redis.delete(f"lb:dispatch:{pid}", f"lb:due:{pid}")
            portal.call(rt.engine.aclose)
