"""``ledgerbridge status`` shows each pipeline's true queue depth, read from the broker itself
(real Redis and RabbitMQ; no worker runs, so nothing consumes what is queued)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .services import need_rabbitmq, need_redis

pytestmark = pytest.mark.usefixtures("secret_key")
REPO = Path(__file__).resolve().parents[2]

CONFIG = """version: 1
database: "sqlite:///{db}"
workers:
  broker_url: "{broker}"
  redis_url: "{redis}"
  queue: {queue}
tenants:
  - id: acme
    connections:
      shop: {{platform: woocommerce, settings: {{store_url: "http://127.0.0.1:9", allow_http: true, currency: USD}}, secrets: {{consumer_key: ck_x, consumer_secret: cs_x}}}}
      books: {{platform: zohobooks, settings: {{organization_id: "777"}}, secrets: {{client_id: c, client_secret: s, refresh_token: r}}}}
    pipelines:
      - {{id: east, source: shop, target: books, mapping: m.yaml}}
      - {{id: west, source: shop, target: books, mapping: m.yaml}}
      - {{id: north, source: shop, target: books, mapping: m.yaml}}
"""


@pytest.fixture(params=["redis", "rabbitmq"])
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    redis_url = need_redis()
    broker = redis_url if request.param == "redis" else need_rabbitmq()
    queue = f"lbtest-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "ledgerbridge.yaml"
    path.write_text(
        CONFIG.format(db=tmp_path / "state.db", broker=broker, redis=redis_url, queue=queue)
    )
    (tmp_path / "m.yaml").write_text(
        (REPO / "mappings" / "woocommerce-to-zohobooks.yaml").read_text()
    )
    yield path
    _purge(broker, redis_url, queue)


def _purge(broker: str, redis_url: str, queue: str) -> None:
    import redis
    from kombu.connection import Connection

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("lb:dispatch:*"):
        client.delete(key)
    for key in client.scan_iter("lb:budget:*777*"):
        client.delete(key)
    client.close()
    with Connection(broker) as conn:
        channel = conn.channel()
        with contextlib.suppress(Exception):
            channel.queue_delete(queue)


def _dispatch(config: Path, *pipelines: str) -> None:
    from celery import Celery

    from ledgerbridge.config import load_config
    from ledgerbridge.worker.dispatch import Dispatcher
    from ledgerbridge.worker.settings import WorkerSettings

    settings = WorkerSettings.of(load_config(config))
    # an app of its own: the project's app keeps the broker connection of the first test
    sender = Celery("status-test", broker=settings.broker_url)
    dispatcher = Dispatcher(settings.redis_url, sender.send_task, queue=settings.queue,
                            marker_ttl=300)  # fmt: skip
    for pipeline in pipelines:
        assert dispatcher.dispatch(pipeline, "zohobooks:777") == "queued"
        assert dispatcher.dispatch(pipeline, "zohobooks:777") == "busy"  # one share at most
    sender.close()


def test_status_counts_each_pipelines_shares_and_waiting_work(config: Path) -> None:
    from ledgerbridge.config import load_config
    from ledgerbridge.store import InboxEvent, Store
    from ledgerbridge.worker.status import shared_state

    store = Store(f"sqlite:///{config.parent / 'state.db'}")
    store.migrate()
    for n in range(3):
        store.add_inbox_event(
            InboxEvent(tenant_id="acme", connection_id="acme/shop", delivery_id=str(n),
                       topic="order.updated", entity="order", external_id=str(n))
        )  # fmt: skip
    store.close()
    _dispatch(config, "east", "west")

    state = shared_state(load_config(config))
    assert state is not None
    depth = state["depth"]
    assert {p: (d["share"], d["waiting"], d["held"]) for p, d in depth.items()} == {
        "east": ("queued", 1, 0),
        "west": ("queued", 1, 0),
        "north": ("idle", 0, 0),
    }
    assert state["queue_length"] == 2  # the broker's own count of ready messages
    assert all(d["events"] == 3 and d["retrying"] == 0 for d in depth.values())

    shown = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", "status", "-c", str(config), "--no-limits"],
        capture_output=True, text=True, cwd=config.parent, check=False,
    )  # fmt: skip
    assert "Queue lbtest-" in shown.stdout, shown.stdout + shown.stderr
    rows = {line.split("│")[1].strip(): line for line in shown.stdout.splitlines()
            if line.count("│") > 3}  # fmt: skip
    assert "queued" in rows["east"] and "idle" in rows["north"], shown.stdout


def test_redis_status_counts_a_share_a_worker_holds_apart_from_the_waiting(
    config: Path,
) -> None:
    """A share taken from the queue but not acknowledged (running, or waiting out its
    countdown) is held, not waiting: read from kombu's ``unacked`` hash."""
    from kombu.connection import Connection

    from ledgerbridge.config import load_config
    from ledgerbridge.worker.settings import WorkerSettings
    from ledgerbridge.worker.status import shared_state

    settings = WorkerSettings.of(load_config(config))
    if not settings.broker_url.startswith("redis"):
        pytest.skip("RabbitMQ: held shares are the workers' own account (inspect)")
    _dispatch(config, "east", "west")
    with Connection(settings.broker_url) as conn:
        queue = conn.SimpleQueue(settings.queue)
        message = queue.get(timeout=5)  # taken like a worker takes it: not acknowledged
        state = shared_state(load_config(config))
        assert state is not None
        taken = message.headers["argsrepr"].strip("[]'\"")
        other = "west" if taken == "east" else "east"
        assert (state["depth"][taken]["waiting"], state["depth"][taken]["held"]) == (0, 1)
        assert (state["depth"][other]["waiting"], state["depth"][other]["held"]) == (1, 0)
        message.ack()
        queue.close()
