"""A webhook stored while its pipeline's share runs is picked up by the next share at once.

The receiver's wake-up finds the pipeline busy (one share queued or running per pipeline)
and queues nothing; before, the event then waited for the next sweep (``sweep_every``,
30 s by default) -- the webhook-to-document latency's tail. A share that ends now asks
the store whether events wait for its source and queues the next share itself.
(SQLite, the emulators on loopback, the local Redis for the dispatch marker.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

from ledgerbridge.store import InboxEvent
from ledgerbridge.worker.dispatch import Dispatcher
from ledgerbridge.worker.runtime import Runtime
from ledgerbridge.worker.settings import WorkerSettings

from ..engine.harness import Harness, woocommerce_to_zoho
from .services import need_redis

pytestmark = pytest.mark.usefixtures("secret_key")


class Sent:
    """Celery's ``send_task``, recording what would be queued."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, list[Any]]] = []

    def __call__(self, name: str, *, args: list[Any], **_: Any) -> None:
        self.tasks.append((name, args))


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[tuple[Runtime, Harness, Sent]]:
    redis_url = need_redis()
    with woocommerce_to_zoho(tmp_path, orders=3) as h, start_blocking_portal() as portal:
        sent = Sent()
        rt = Runtime.__new__(Runtime)  # the parts ``work`` uses, without a config of workers
        rt.settings = WorkerSettings(
            broker_url=redis_url, redis_url=redis_url, result_backend=None, limits="process",
            concurrency=1, queue=f"test-{uuid.uuid4().hex[:8]}", yield_after=2.0,
            sweep_every=30.0, visibility_timeout=20.0, lease_ttl=timedelta(seconds=5),
        )  # fmt: skip
        rt.limiters = None
        rt.portal = portal
        rt.engine = portal.call(h.engine)
        portal.call(rt.engine.prepare)
        rt.dispatcher = Dispatcher(redis_url, sent, queue=rt.settings.queue, marker_ttl=20.0)
        rt.dispatcher.redis.delete("lb:dispatch:pipe")
        try:
            yield rt, h, sent
        finally:
            rt.dispatcher.redis.delete("lb:dispatch:pipe")
            portal.call(rt.engine.aclose)


def _share(rt: Runtime, during: Any = None) -> str:
    """One share of ``pipe`` as the ``work`` task runs it; ``during`` runs inside it."""
    assert rt.dispatch("pipe") == "queued"
    task_id = rt.dispatcher.redis.get("lb:dispatch:pipe")
    assert task_id
    if during is not None:
        work = rt.engine.work

        async def work_then(*args: Any, **kwargs: Any) -> Any:
            report = await work(*args, **kwargs)
            await during()
            return report

        rt.engine.work = work_then  # type: ignore[method-assign]
    try:
        return rt.work("pipe", task_id).next
    finally:
        if during is not None:
            del rt.engine.work


def test_an_event_stored_during_a_share_queues_the_next_share(
    runtime: tuple[Runtime, Harness, Sent],
) -> None:
    rt, _, sent = runtime

    async def webhook_arrives() -> None:
        """What ``serve`` does: store the event, then ask for a share -- busy now."""
        rt.engine.store.add_inbox_event(
            InboxEvent(tenant_id="acme", connection_id="acme/shop", delivery_id="d-1",
                       topic="order.updated", entity="order", external_id="1")
        )  # fmt: skip
        assert rt.dispatch("pipe") == "busy"

    assert _share(rt, during=webhook_arrives) == "queued"
    assert sent.tasks[-1] == ("ledgerbridge.work", ["pipe"])
    assert rt.dispatcher.state(["pipe"]) == {"pipe": "queued"}


def test_a_share_with_nothing_waiting_queues_nothing(
    runtime: tuple[Runtime, Harness, Sent],
) -> None:
    rt, _, sent = runtime
    assert _share(rt) == "-"  # three orders: one page, no events
    assert sent.tasks == [("ledgerbridge.work", ["pipe"])]  # only the share itself
    assert rt.dispatcher.state(["pipe"]) == {"pipe": "idle"}
