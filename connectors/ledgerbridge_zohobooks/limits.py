"""Per-organisation rate limiting: Zoho counts calls per organisation, not per token.

Zoho enforces three limits on an organisation (facts doc §5): 100 calls per
minute (429 code 44), a daily quota by plan (429 code 45) and a cap on calls in
flight (429 code 1070).  Every connector instance writing to the same
organisation in this process shares one ``OrgLimiter`` (``limiter_for``), so
two pipelines into one org cannot add up to a block.  ``X-Rate-Limit-*``
headers are used when Zoho sends them and never required.

``RateLimiter`` (``ledgerbridge.limits``) is the interface the rest of the
connector sees: when the host passes a ``LimiterProvider`` (distributed mode,
limits shared in Redis by every worker), ``limiter_for`` returns its limiter
instead of this process's.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio

from ledgerbridge.contracts.context import Clock, SystemClock
from ledgerbridge.errors import QuotaExhausted
from ledgerbridge.limits import AccountLimits, LimiterProvider, RateLimiter

__all__ = ["LimitConfig", "OrgLimiter", "RateLimiter", "limiter_for"]

DAILY_QUOTA_BY_PLAN: dict[str, int] = {
    "free": 1000,
    "standard": 2000,
    "professional": 5000,
    "premium": 10000,
    "elite": 10000,
    "ultimate": 10000,
}
IN_FLIGHT_BY_PLAN: dict[str, int] = {"free": 5}
DEFAULT_IN_FLIGHT = 10


@dataclass(frozen=True)
class LimitConfig:
    """What one organisation may do. ``per_minute`` (+ ``burst``) stays under Zoho's 100."""

    per_minute: int = 90
    daily_quota: int = 1000
    max_in_flight: int = 5
    # Tokens that may be spent at once. A bucket as deep as ``per_minute`` would admit
    # ``per_minute`` calls at once *plus* a minute's refill -- nearly twice the limit in one
    # 60-second window. With ``burst`` tokens, no window sees more than per_minute + burst.
    burst: int = 5

    @classmethod
    def for_plan(
        cls,
        plan: str,
        *,
        per_minute: int = 90,
        daily_quota: int | None = None,
        max_in_flight: int | None = None,
        burst: int = 5,
    ) -> LimitConfig:
        plan = plan.lower()
        return cls(
            burst=burst,
            per_minute=per_minute,
            daily_quota=daily_quota or DAILY_QUOTA_BY_PLAN.get(plan, 1000),
            max_in_flight=max_in_flight or IN_FLIGHT_BY_PLAN.get(plan, DEFAULT_IN_FLIGHT),
        )


def _seconds_to_utc_midnight() -> float:
    now = time.time()
    return 86400 - (now % 86400)


class OrgLimiter:
    """Token bucket (per minute) + daily counter + in-flight cap for one organisation.

    ``block`` pauses every caller of the organisation (Zoho's code 44 blocks the
    whole org for an undocumented time, at least a minute).
    """

    def __init__(self, organization_id: str, config: LimitConfig, clock: Clock | None = None):
        self.organization_id = organization_id
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self._capacity = float(max(1, min(config.burst, config.per_minute)))
        self._tokens = self._capacity
        self._refilled_at = self.clock.now()
        # A CapacityLimiter, because its size can shrink at run time (code 1070).
        self._in_flight = anyio.CapacityLimiter(config.max_in_flight)
        self._bucket_lock = anyio.Lock()
        self._blocked_until = 0.0
        self._day = self._day_key()
        self.used_today = 0
        self.today_from_zoho = False  # used_today is Zoho's own count (X-Rate-Limit-* seen)
        self.daily_quota = config.daily_quota
        self._exhausted_until: float | None = None
        self.calls = 0
        self._recent: list[float] = []  # start times of recent calls (this process)

    @staticmethod
    def _day_key() -> int:
        return int(time.time() // 86400)

    def _check_quota(self) -> None:
        if self._day != self._day_key():
            self._day, self.used_today, self._exhausted_until = self._day_key(), 0, None
            self.today_from_zoho = False
        if self._exhausted_until is not None and time.time() < self._exhausted_until:
            raise QuotaExhausted(
                f"Zoho Books daily API quota for organisation {self.organization_id} is used up "
                f"({self.used_today}/{self.daily_quota}); calls resume after the reset",
                platform="zohobooks",
                code=45,
                retry_after=self._exhausted_until - time.time(),
            )
        if self.used_today >= self.daily_quota:
            self.quota_exhausted(None)
            self._check_quota()

    async def _take_token(self) -> None:
        rate = self.config.per_minute / 60.0
        while True:
            async with self._bucket_lock:
                now = self.clock.now()
                wait_block = self._blocked_until - now
                if wait_block <= 0:
                    elapsed = max(0.0, now - self._refilled_at)
                    self._tokens = min(self._capacity, self._tokens + elapsed * rate)
                    self._refilled_at = now
                    if self._tokens >= 1 - 1e-9:  # float dust must not stall the bucket
                        self._tokens = max(0.0, self._tokens - 1)
                        return
                    wait = max((1 - self._tokens) / rate, 0.001)
                else:
                    wait = wait_block
            await self.clock.sleep(wait)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for the org's turn (minute budget, pause, in-flight cap); count the call."""
        self._check_quota()
        await self._take_token()
        async with self._in_flight:
            self._check_quota()
            self.used_today += 1
            self.calls += 1
            self._recent.append(self.clock.now())
            if len(self._recent) > 4 * self.config.per_minute:
                del self._recent[: len(self._recent) - self.config.per_minute]
            yield

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adopt Zoho's own count when ``X-Rate-Limit-*`` headers are present."""
        limit = _int(headers.get("x-rate-limit-limit"))
        remaining = _int(headers.get("x-rate-limit-remaining"))
        reset = _int(headers.get("x-rate-limit-reset"))
        if limit and remaining is not None:
            # Zoho's own numbers win: support may have raised the plan's quota.
            self.daily_quota = limit
            self.used_today = max(self.used_today, limit - remaining)
            self.today_from_zoho = True
            if remaining <= 0:
                self.quota_exhausted(float(reset) if reset else None)

    def snapshot(self) -> dict[str, int | float]:
        """Today's quota as Zoho counts it (after ``observe``; ``today_from_zoho`` says
        whether it did), and this process's pacing budget for the current minute (which
        ``status``, a process of its own, does not show)."""
        now = self.clock.now()
        self._recent = [t for t in self._recent if now - t < 60.0]
        return {
            "daily_quota": self.daily_quota,
            "calls_left_today": max(0, self.daily_quota - self.used_today),
            "per_minute": self.config.per_minute,
            "calls_left_this_minute": max(0, self.config.per_minute - len(self._recent)),
            "in_flight_cap": self.in_flight_cap,
        }

    @property
    def in_flight_cap(self) -> int:
        return int(self._in_flight.total_tokens)

    def concurrency_refused(self) -> None:
        """Zoho said code 1070: allow one call fewer in flight from now on (at least one)."""
        self._in_flight.total_tokens = max(1, self.in_flight_cap - 1)

    def block(self, seconds: float) -> None:
        self._blocked_until = max(self._blocked_until, self.clock.now() + seconds)

    def quota_exhausted(self, reset_in: float | None) -> None:
        wait = reset_in if reset_in and reset_in > 0 else _seconds_to_utc_midnight()
        self._exhausted_until = time.time() + wait


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


_LIMITERS: weakref.WeakKeyDictionary[object, dict[str, OrgLimiter]] = weakref.WeakKeyDictionary()


def limiter_for(
    organization_id: str,
    config: LimitConfig,
    clock: Clock | None = None,
    shared: LimiterProvider | None = None,
) -> RateLimiter:
    """The limiter of ``organization_id``: the host's shared one when it passes ``shared``,
    else the one of this process (created on first use).

    Kept per event loop: locks and semaphores belong to the loop that made them.
    """
    if shared is not None:
        limits = AccountLimits(config.per_minute, config.daily_quota, config.max_in_flight)
        return shared.limiter("zohobooks", organization_id, limits, clock or SystemClock())
    loop = asyncio.get_running_loop()
    per_loop = _LIMITERS.setdefault(loop, {})
    limiter = per_loop.get(organization_id)
    if limiter is None:
        limiter = per_loop[organization_id] = OrgLimiter(organization_id, config, clock)
    return limiter
