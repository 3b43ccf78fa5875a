"""What may be queued: one task per pipeline, and a budget of tasks per target account.

The queueing design (docs/deployment.md, "Fairness"):

* A pipeline has at most **one** task queued or running (``lb:dispatch:<pipeline>``,
  set atomically with the task's id).  A task does a bounded share -- waiting
  webhook events, due retries, one page -- and, if work remains, queues the next
  share at the *tail* of the queue.  A merchant with a 100,000-order backlog
  therefore holds one place in the queue, and a merchant whose one order arrives
  now waits behind at most one share of each other pipeline, never the backlog.
* A target account (a Zoho Books organisation) has a **budget** of tasks in flight
  (``lb:budget:<platform>:<account>``): its concurrent-call cap.  An account's
  pipelines beyond its budget are not queued now; the sweep (``ledgerbridge beat``)
  offers them again.  So a backlogged organisation never fills the workers with
  tasks that would only wait on its own rate limit.
* A task whose account would wait longer than ``workers.yield_after`` for its next
  call stops between records and re-queues itself for when the account has budget
  again, giving its worker slot to another merchant.

The queue carries no state the store lacks: a lost message (a broker restarted
without persistence) only delays a pipeline until its marker lapses and the
sweep queues it again; checkpoints, intents and the inbox live in the store.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from ..limits.redis import PREFIX as LIMITS_PREFIX

log = logging.getLogger(__name__)

DISPATCH = "lb:dispatch"
BUDGET = "lb:budget"
DUE = "lb:due"
DEFAULT_BUDGET = 10
WORK = "ledgerbridge.work"

# KEYS: marker, budget set; ARGV: pipeline id, task id, budget, marker ttl ms
# -> 1 queued (marker and budget taken), 0 already queued or running, -1 over budget
GATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZSCORE', KEYS[2], ARGV[1]) == false
   and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[4]))
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
return 1
"""

# KEYS: marker, budget set; ARGV: pipeline id, task id, marker ttl ms (0: release)
OWN = """
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
if tonumber(ARGV[3]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
return 1
"""


class Dispatcher:
    """Queues pipeline tasks through the gate above; ``send`` is Celery's ``send_task``."""

    def __init__(self, redis_url: str, send: Any, *, queue: str, marker_ttl: float) -> None:
        import redis

        self.redis = redis.Redis.from_url(redis_url, decode_responses=True)
        self.send = send
        self.queue = queue
        self.marker_ttl_ms = int(marker_ttl * 1000)

    @staticmethod
    def _keys(pipeline_id: str, account: str) -> list[str]:
        return [f"{DISPATCH}:{pipeline_id}", f"{BUDGET}:{account}"]

    def budget(self, account: str) -> int:
        """The account's concurrent-call cap, as its limiter recorded it (``limits.redis``)."""
        value = self.redis.hget(f"{LIMITS_PREFIX}:{account}:conf", "max_in_flight")
        return int(value) if value else DEFAULT_BUDGET

    def dispatch(
        self, pipeline_id: str, account: str, *, countdown: float = 0, task: str = WORK
    ) -> str:
        """Queue the pipeline's next share unless it has one or its account is at budget.
        ``task``: ``ledgerbridge.work`` (an order pipeline) or ``ledgerbridge.catalog``.

        Returns ``queued``, ``busy`` (one is queued or running) or ``over budget``."""
        task_id = uuid.uuid4().hex
        keys = self._keys(pipeline_id, account)
        taken = int(
            self.redis.eval(
                GATE, 2, *keys, pipeline_id, task_id, self.budget(account), self.marker_ttl_ms
            )
        )
        if taken == 0:
            return "busy"
        if taken == -1:
            return "over budget"
        try:
            self.send(
                task,
                args=[pipeline_id],
                task_id=task_id,
                queue=self.queue,
                countdown=countdown or None,
            )
        except Exception:
            self.release(pipeline_id, account, task_id)
            raise
        return "queued"

    def renew(self, pipeline_id: str, account: str, task_id: str) -> bool:
        """The running task still owns its pipeline's marker (refreshed); False: it does not."""
        keys = self._keys(pipeline_id, account)
        return bool(self.redis.eval(OWN, 2, *keys, pipeline_id, task_id, self.marker_ttl_ms))

    def release(self, pipeline_id: str, account: str, task_id: str) -> None:
        self.redis.eval(OWN, 2, *self._keys(pipeline_id, account), pipeline_id, task_id, 0)

    def due(self, pipeline_id: str, interval: float) -> bool:
        """Whether the pipeline's interval has passed since it was last scheduled (claims it)."""
        ms = max(1, int(interval * 1000))
        return bool(self.redis.set(f"{DUE}:{pipeline_id}", "1", px=ms, nx=True))

    def state(self, pipeline_ids: list[str]) -> dict[str, str]:
        """``queued`` (a share waits or runs) or ``idle``, per pipeline, for ``status``."""
        out = {}
        for pipeline_id in pipeline_ids:
            held = self.redis.exists(f"{DISPATCH}:{pipeline_id}")
            out[pipeline_id] = "queued" if held else "idle"
        return out

    def queue_length(self, broker_url: str) -> int | None:
        """Messages waiting in the broker's queue (Redis brokers; None when unknown)."""
        if not broker_url.startswith(("redis://", "rediss://")):
            return None
        import redis

        client = redis.Redis.from_url(broker_url)
        try:
            return int(client.llen(self.queue))
        finally:
            client.close()


def account_of(platform: str, account: str) -> str:
    """The key of a target account in the limits' and budgets' Redis keys."""
    return f"{platform}:{account}"
