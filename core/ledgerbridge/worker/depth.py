"""Queue depth per pipeline, from the broker itself: what ``ledgerbridge status`` shows.

Every message of the queue is a ``ledgerbridge.work(pipeline)`` share, a sweep or an
event; a share's first argument names its pipeline.  Per pipeline:

* **waiting** -- shares in the broker's queue, not yet handed to a worker;
* **held** -- shares a worker has taken and not yet acknowledged (running, or
  waiting for their countdown: ``acks_late`` keeps them unacknowledged until done).

Redis broker: read exactly, without consuming -- the queue is a list
(``LRANGE``) and the messages handed out but unacknowledged sit in kombu's
``unacked`` hash.  RabbitMQ: a queue cannot be read without taking its
messages, so the workers are asked what they hold (Celery's ``inspect``:
active, reserved, scheduled), the queue's ready count comes from a passive
declare, and a pipeline whose share marker is set (``dispatch.py``: at most one
share per pipeline) but that no worker holds has its share waiting.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

WORK = "ledgerbridge.work"
UNACKED = "unacked"  # kombu's Redis transport: delivery tag -> [message, exchange, routing key]


@dataclass
class Depth:
    """Shares per pipeline in the broker, and the queue's total of ready messages."""

    waiting: Counter[str] = field(default_factory=Counter)
    held: Counter[str] = field(default_factory=Counter)
    ready: int | None = None  # every message waiting in the queue (shares, sweeps, events)
    exact: bool = True  # False: ``waiting`` inferred from the share markers (RabbitMQ)


def _pipeline_of(message: dict[str, Any]) -> str | None:
    """The pipeline of a ``ledgerbridge.work`` message (Celery protocol 2), else None."""
    headers = message.get("headers") or {}
    if headers.get("task") != WORK:
        return None
    body = message.get("body", "")
    if (message.get("properties") or {}).get("body_encoding") == "base64":
        body = base64.b64decode(body).decode()
    args = json.loads(body)[0] if isinstance(body, str) else body[0]
    return str(args[0]) if args else None


def redis_depth(broker_url: str, queue: str) -> Depth:
    import redis

    client = redis.Redis.from_url(broker_url, decode_responses=True)
    depth = Depth()
    try:
        raw = client.lrange(queue, 0, -1)
        depth.ready = len(raw)
        for item in raw:
            pipeline = _pipeline_of(json.loads(item))
            if pipeline is not None:
                depth.waiting[pipeline] += 1
        for item in client.hvals(UNACKED):
            message, _exchange, routing_key = json.loads(item)
            if routing_key not in (queue, None, ""):
                continue  # another queue on the same Redis database
            pipeline = _pipeline_of(message)
            if pipeline is not None:
                depth.held[pipeline] += 1
    finally:
        client.close()
    return depth


def amqp_depth(broker_url: str, queue: str, marked: set[str], timeout: float = 1.0) -> Depth:
    """RabbitMQ: what the workers hold (inspect), and the shares left waiting in the queue."""
    from kombu.connection import Connection

    from .app import app

    depth = Depth(exact=False)
    with Connection(broker_url, connect_timeout=5) as conn:  # type: ignore[no-untyped-call]
        channel = conn.channel()
        try:
            depth.ready = int(channel.queue_declare(queue=queue, passive=True).message_count)
        except Exception:  # the queue does not exist yet: nothing was ever sent
            depth.ready = 0
        inspect = app.control.inspect(timeout=timeout, connection=conn)
        for answer in (inspect.active(), inspect.reserved()):
            for tasks in (answer or {}).values():
                for task in tasks:
                    if task.get("name") == WORK and task.get("args"):
                        depth.held[str(task["args"][0])] += 1
        for tasks in (inspect.scheduled() or {}).values():
            for entry in tasks:
                request = entry.get("request") or {}
                if request.get("name") == WORK and request.get("args"):
                    depth.held[str(request["args"][0])] += 1
    for pipeline in marked:
        if not depth.held[pipeline]:
            depth.waiting[pipeline] += 1
    return depth


def broker_depth(broker_url: str, queue: str, marked: set[str]) -> Depth | None:
    """Per-pipeline depth from the configured broker (None for a broker we cannot read)."""
    if broker_url.startswith(("redis://", "rediss://")):
        return redis_depth(broker_url, queue)
    if broker_url.startswith(("amqp://", "amqps://", "pyamqp://")):
        return amqp_depth(broker_url, queue, marked)
    return None
