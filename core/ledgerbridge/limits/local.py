"""The limiter of one account in this process: what embedded mode paces a target with.

A token bucket of ``burst`` tokens refilled at ``per_minute`` (so no 60-second window sees
more than ``per_minute + burst`` calls), a daily quota that adopts the platform's own count
from ``X-Rate-Limit-*`` headers, an in-flight cap that shrinks at run time when the platform
refuses concurrency, and a block of the whole account -- all on the injected ``Clock``, so
tests and benches run on simulated time.  Why this is not a rate-limit library:
``docs/performance.md``, "The in-process limiter".  Distributed mode keeps the same rules in
Redis (``ledgerbridge.limits.redis``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import anyio

from ..contracts.context import Clock, SystemClock
from ..errors import QuotaExhausted
from . import AccountLimits


def _seconds_to_utc_midnight() -> float:
    now = time.time()
    return 86400 - (now % 86400)


class LocalLimiter:
    """Token bucket (per minute) + daily counter + in-flight cap for one account.

    ``block`` pauses every caller of the account (Zoho's code 44 blocks the whole
    organisation for an undocumented time, at least a minute).
    """

    # what a refusal for the day's quota says (a connector names its platform's own words)
    quota_text = "{platform}: the daily API quota of account {account} is used up"
    quota_code: int | None = None

    def __init__(
        self, platform: str, account: str, limits: AccountLimits, clock: Clock | None = None
    ) -> None:
        self.platform = platform
        self.account = account
        self.limits = config = limits
        self.clock: Clock = clock or SystemClock()
        self._capacity = float(max(1, min(config.burst, config.per_minute)))
        self._tokens = self._capacity
        self._refilled_at = self.clock.now()
        # A CapacityLimiter, because its size can shrink at run time (Zoho's code 1070).
        self._in_flight = anyio.CapacityLimiter(config.max_in_flight)
        self._bucket_lock = anyio.Lock()
        self._blocked_until = 0.0
        self._day = self._day_key()
        self.used_today = 0
        self.today_from_platform = (
            False  # used_today is the platform's own count (X-Rate-Limit-* seen)
        )
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
            self.today_from_platform = False
        if self._exhausted_until is not None and time.time() < self._exhausted_until:
            said = self.quota_text.format(platform=self.platform, account=self.account)
            raise QuotaExhausted(
                f"{said} ({self.used_today}/{self.daily_quota}); calls resume after the reset",
                platform=self.platform,
                code=self.quota_code,
                retry_after=self._exhausted_until - time.time(),
            )
        if self.used_today >= self.daily_quota:
            self.quota_exhausted(None)
            self._check_quota()

    async def _take_token(self) -> None:
        rate = self.limits.per_minute / 60.0
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
            if len(self._recent) > 4 * self.limits.per_minute:
                del self._recent[: len(self._recent) - self.limits.per_minute]
            yield

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adopt the platform's own count when ``X-Rate-Limit-*`` headers are present."""
        limit = _int(headers.get("x-rate-limit-limit"))
        remaining = _int(headers.get("x-rate-limit-remaining"))
        reset = _int(headers.get("x-rate-limit-reset"))
        if limit and remaining is not None:
            # The platform's own numbers win: its support may have raised the plan's quota.
            self.daily_quota = limit
            self.used_today = max(self.used_today, limit - remaining)
            self.today_from_platform = True
            if remaining <= 0:
                self.quota_exhausted(float(reset) if reset else None)

    def snapshot(self) -> dict[str, int | float]:
        """Today's quota as the platform counts it (after ``observe``; ``today_from_platform`` says
        whether it did), and this process's pacing budget for the current minute (which
        ``status``, a process of its own, does not show)."""
        now = self.clock.now()
        self._recent = [t for t in self._recent if now - t < 60.0]
        return {
            "daily_quota": self.daily_quota,
            "calls_left_today": max(0, self.daily_quota - self.used_today),
            "per_minute": self.limits.per_minute,
            "calls_left_this_minute": max(0, self.limits.per_minute - len(self._recent)),
            "in_flight_cap": self.in_flight_cap,
        }

    @property
    def in_flight_cap(self) -> int:
        return int(self._in_flight.total_tokens)

    def concurrency_refused(self) -> None:
        """The platform refused a call for too many in flight (Zoho's code 1070): allow one
        call fewer in flight from now on (at least one)."""
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
