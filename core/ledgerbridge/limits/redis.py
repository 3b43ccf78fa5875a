"""Account limits shared by every worker, kept in Redis.

Why a Redis script and not a rate-limit library: a call may start only when
*four* conditions hold at once -- the account is not blocked (a 429 code 44 told
to any worker), its daily quota is not used up (code 45), fewer than its cap of
calls are in flight (code 1070), and fewer than ``per_minute`` calls started in
the last minute.  Libraries such as ``limits`` check one window at a time and
have no concurrency slots, so two workers could each pass the minute check and
then one fail the day check having already spent the minute.  ``ACQUIRE`` below
decides and counts all four in one atomic step (Redis runs a script alone),
with Redis's own clock, so workers on machines whose clocks differ agree.

Keys, per account (``lb:limits:<platform>:<account>:``):

* ``minute`` -- sorted set of call ids scored by start time (a sliding window:
  no 60-second span ever holds more than ``per_minute`` starts);
* ``day:<UTC date>`` -- calls today (expires after two days);
* ``inflight`` -- sorted set of call ids scored by when the slot lapses: a
  worker killed mid-call frees its slot after ``SLOT_TTL`` seconds;
* ``blocked`` / ``exhausted`` -- set with a TTL when the platform says 44 / 45;
* ``cap`` -- the in-flight cap lowered after a 1070 (recovers after an hour).

``lb:limits:accounts`` lists the accounts seen, for ``ledgerbridge status``.
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from ..contracts.context import Clock
from ..errors import QuotaExhausted
from . import AccountLimits

SLOT_TTL = 120.0  # seconds a call may hold its in-flight slot before it lapses
CAP_RECOVERY = 3600  # seconds a lowered in-flight cap stays lowered
MAX_CONNECTIONS = 32  # Redis connections per worker process (per event loop)
PREFIX = "lb:limits"
ACCOUNTS = f"{PREFIX}:accounts"

# KEYS: minute, day, inflight, blocked, exhausted, cap
# ARGV: call id, per_minute, window ms, daily quota, in-flight cap, slot ttl ms, peek (0/1),
#       observed calls used today (-1: none)
# Returns {status, wait ms}: 0 granted (or, peeking, would be); 1 blocked; 2 in-flight cap;
# 3 minute window full; -1 daily quota used up (wait: until the reset, 0 if unknown).
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_minute = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local quota = tonumber(ARGV[4])
local cap = tonumber(ARGV[5])
local slot_ttl = tonumber(ARGV[6])
local observed = tonumber(ARGV[8])
if observed >= 0 then
  local had = tonumber(redis.call('GET', KEYS[2]) or '0')
  if observed > had then redis.call('SET', KEYS[2], observed, 'EX', 172800) end
end
local exhausted = redis.call('PTTL', KEYS[5])
if exhausted > 0 then return {-1, exhausted} end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= quota then return {-1, 0} end
local blocked = redis.call('PTTL', KEYS[4])
if blocked > 0 then return {1, blocked} end
local lowered = redis.call('GET', KEYS[6])
if lowered then cap = math.min(cap, tonumber(lowered)) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= cap then return {2, 20} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= per_minute then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {3, math.max(1, tonumber(oldest[2]) + window - now + 1)}
end
if ARGV[7] == '1' then return {0, 0} end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], window + 1000)
redis.call('ZADD', KEYS[3], now + slot_ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[3], slot_ttl + 1000)
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 172800)
return {0, 0}
"""

# KEYS: minute, day, inflight, blocked, exhausted, cap; ARGV: window ms
USAGE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
return {redis.call('ZCARD', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0'),
        redis.call('ZCARD', KEYS[3]), math.max(0, redis.call('PTTL', KEYS[4])),
        math.max(0, redis.call('PTTL', KEYS[5])), tonumber(redis.call('GET', KEYS[6]) or '-1')}
"""


def _keys(platform: str, account: str) -> list[str]:
    base = f"{PREFIX}:{platform}:{account}"
    day = datetime.now(UTC).date().isoformat()
    return [
        f"{base}:minute",
        f"{base}:day:{day}",
        f"{base}:inflight",
        f"{base}:blocked",
        f"{base}:exhausted",
        f"{base}:cap",
    ]


def _seconds_to_utc_midnight() -> float:
    return 86400 - (time.time() % 86400)


class RedisLimiter:
    """One account's limiter; every instance on every machine shares the same counters."""

    def __init__(
        self,
        provider: RedisLimiters,
        platform: str,
        account: str,
        limits: AccountLimits,
        clock: Clock,
    ) -> None:
        self.provider = provider
        self.platform = platform
        self.account = account
        self.limits = limits
        self.clock = clock
        self._observed = -1  # calls used today by the platform's count, merged at next acquire
        self.waited = 0.0  # seconds this instance spent waiting for a slot

    def _argv(self, call_id: str, peek: bool) -> list[Any]:
        window_ms = int(self.provider.window * 1000)
        return [
            call_id,
            self.limits.per_minute,
            window_ms,
            self.limits.daily_quota,
            self.limits.max_in_flight,
            int(SLOT_TTL * 1000),
            "1" if peek else "0",
            self._observed,
        ]

    def _exhausted(self, wait_ms: int) -> QuotaExhausted:
        return QuotaExhausted(
            f"{self.platform} daily API quota for account {self.account} is used up "
            f"({self.limits.daily_quota} calls); calls resume after the reset",
            platform=self.platform,
            code=45,
            retry_after=wait_ms / 1000 if wait_ms > 0 else _seconds_to_utc_midnight(),
        )

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        call_id = uuid.uuid4().hex
        keys = _keys(self.platform, self.account)
        client = self.provider.async_client()
        while True:
            status, wait_ms = await client.eval(ACQUIRE, 6, *keys, *self._argv(call_id, False))
            self._observed = -1
            if int(status) == 0:
                break
            if int(status) == -1:
                raise self._exhausted(int(wait_ms))
            self.waited += int(wait_ms) / 1000
            await self.clock.sleep(int(wait_ms) / 1000)
        try:
            yield
        finally:
            await client.zrem(keys[2], call_id)

    def wait_seconds(self) -> float:
        """How long the next call would wait now (0: it could start at once)."""
        keys = _keys(self.platform, self.account)
        status, wait_ms = self.provider.client().eval(ACQUIRE, 6, *keys, *self._argv("peek", True))
        if int(status) == -1:
            return float(wait_ms) / 1000 if int(wait_ms) > 0 else _seconds_to_utc_midnight()
        return int(wait_ms) / 1000

    def observe(self, headers: Mapping[str, str]) -> None:
        """Zoho's own count of today's calls wins when it is higher (merged atomically at the
        next acquire, so the hot path costs no extra round trip)."""
        limit = _int(headers.get("x-rate-limit-limit"))
        remaining = _int(headers.get("x-rate-limit-remaining"))
        if limit and remaining is not None:
            self._observed = max(self._observed, limit - remaining)
            if remaining <= 0:
                self.quota_exhausted(_int_float(headers.get("x-rate-limit-reset")))

    def block(self, seconds: float) -> None:
        """Code 44 told to one worker: every worker waits (the key's TTL is the pause)."""
        ms = max(1, int(seconds * 1000))
        key = _keys(self.platform, self.account)[3]
        client = self.provider.client()
        if client.pttl(key) < ms:
            client.set(key, "1", px=ms)

    def quota_exhausted(self, reset_in: float | None) -> None:
        wait = reset_in if reset_in and reset_in > 0 else _seconds_to_utc_midnight()
        self.provider.client().set(
            _keys(self.platform, self.account)[4], "1", px=max(1, int(wait * 1000))
        )

    def concurrency_refused(self) -> None:
        """Code 1070: one call fewer in flight for every worker (at least one)."""
        keys = _keys(self.platform, self.account)
        client = self.provider.client()
        current = client.get(keys[5])
        cap = int(current) if current is not None else self.limits.max_in_flight
        client.set(keys[5], max(1, cap - 1), ex=CAP_RECOVERY)

    def snapshot(self) -> dict[str, int | float]:
        usage = self.provider.usage(self.platform, self.account)
        return {
            "daily_quota": self.limits.daily_quota,
            "calls_left_today": max(0, self.limits.daily_quota - int(usage["day"])),
            "per_minute": self.limits.per_minute,
            "calls_left_this_minute": max(0, self.limits.per_minute - int(usage["minute"])),
            "in_flight_cap": int(usage["cap"]) if usage["cap"] >= 0 else self.limits.max_in_flight,
            "in_flight": int(usage["in_flight"]),
        }


class RedisLimiters:
    """The ``LimiterProvider`` of distributed mode: one Redis, every worker.

    ``window`` is the length of a "minute" in seconds (60; a bench on a scaled clock
    shortens it).  Clients are made per event loop (asyncio clients belong to one).
    """

    def __init__(self, url: str, *, window: float = 60.0) -> None:
        self.url = url
        self.window = window
        self._sync: Any = None
        self._async: weakref.WeakKeyDictionary[object, Any] = weakref.WeakKeyDictionary()
        self._limiters: dict[tuple[str, str], RedisLimiter] = {}

    def client(self) -> Any:
        if self._sync is None:
            import redis

            self._sync = redis.Redis.from_url(self.url, decode_responses=True)
        return self._sync

    def async_client(self) -> Any:
        import asyncio

        import redis.asyncio

        loop = asyncio.get_running_loop()
        found = self._async.get(loop)
        if found is None:
            # A blocking pool: past ``max_connections`` a call waits for a connection
            # rather than failing (hundreds of slots share one loop in a worker).
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self.url, max_connections=MAX_CONNECTIONS, timeout=30, decode_responses=True
            )
            found = self._async[loop] = redis.asyncio.Redis(connection_pool=pool)
        return found

    def limiter(
        self, platform: str, account: str, limits: AccountLimits, clock: Clock
    ) -> RedisLimiter:
        key = (platform, account)
        found = self._limiters.get(key)
        if found is None or found.limits != limits:
            found = self._limiters[key] = RedisLimiter(self, platform, account, limits, clock)
            self.client().hset(
                f"{PREFIX}:{platform}:{account}:conf",
                mapping={
                    "per_minute": limits.per_minute,
                    "daily_quota": limits.daily_quota,
                    "max_in_flight": limits.max_in_flight,
                },
            )
            self.client().sadd(ACCOUNTS, f"{platform}:{account}")
        return found

    def wait_seconds(self, platform: str, account: str) -> float:
        """How long the account's next call would wait now (0 for an account not seen yet)."""
        found = self._limiters.get((platform, account))
        return found.wait_seconds() if found is not None else 0.0

    def usage(self, platform: str, account: str) -> dict[str, float]:
        """The shared counters of one account right now."""
        minute, day, in_flight, blocked, exhausted, cap = self.client().eval(
            USAGE, 6, *_keys(platform, account), int(self.window * 1000)
        )
        return {
            "minute": int(minute),
            "day": int(day),
            "in_flight": int(in_flight),
            "blocked_for": int(blocked) / 1000,
            "exhausted_for": int(exhausted) / 1000,
            "cap": int(cap),
        }

    def accounts(self) -> list[dict[str, Any]]:
        """Every account seen, with its limits and usage (``ledgerbridge status``)."""
        out = []
        for member in sorted(self.client().smembers(ACCOUNTS)):
            platform, _, account = member.partition(":")
            conf = self.client().hgetall(f"{PREFIX}:{platform}:{account}:conf")
            out.append(
                {
                    "platform": platform,
                    "account": account,
                    **{k: int(v) for k, v in conf.items()},
                    **self.usage(platform, account),
                }
            )
        return out

    def forget(self, platform: str, account: str) -> None:
        """Drop an account's shared state (a tenant removed from the deployment)."""
        client = self.client()
        base = f"{PREFIX}:{platform}:{account}:"
        for key in client.scan_iter(f"{base}*"):
            client.delete(key)
        client.srem(ACCOUNTS, f"{platform}:{account}")
        self._limiters.pop((platform, account), None)

    async def aclose(self) -> None:
        for client in list(self._async.values()):
            await client.aclose()
        self._async.clear()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _int_float(value: str | None) -> float | None:
    found = _int(value)
    return float(found) if found is not None else None


__all__ = ["RedisLimiter", "RedisLimiters"]
