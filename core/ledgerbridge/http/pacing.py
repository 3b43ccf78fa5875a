"""Pacing: a platform that publishes its limits is paced by the account's limiter at the
transport (``PacedTransport``); one that publishes no numbers by learning the spacing from its
throttle answers.

``Pacer`` spaces one client's requests out after the platform said "slow down" -- the
interval doubles on each throttle answer (up to ``maximum``) and halves on each success --
so a run slows instead of failing.  ``SharedPause`` is what every client of one account in
this process honours: a platform that throttles the *account* (not one store) makes every
store under its key wait.  Pauses are keyed by a digest of the key, never the key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from ..limits import RateLimiter


@dataclass
class Pacer:
    initial: float = 0.5
    maximum: float = 8.0
    interval: float = 0.0
    waits: list[float] = field(default_factory=list)

    def throttled(self) -> None:
        self.interval = min(self.maximum, max(self.initial, self.interval * 2))

    def succeeded(self) -> None:
        self.interval = 0.0 if self.interval <= self.initial else self.interval / 2

    async def wait(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        if self.interval > 0:
            self.waits.append(self.interval)
            await sleep(self.interval)


@dataclass
class SharedPause:
    paused_until: float = 0.0

    def pause(self, until: float) -> None:
        self.paused_until = max(self.paused_until, until)

    async def wait(self, now: float, sleep: Callable[[float], Awaitable[None]]) -> None:
        if self.paused_until > now:
            await sleep(self.paused_until - now)


PAUSES: dict[str, SharedPause] = {}
"""Every account's pause in this process (tests clear it between cases)."""


def shared_pause(key: SecretStr, platform: str = "") -> SharedPause:
    digest = hashlib.sha256(f"{platform}\0{key.get_secret_value()}".encode()).hexdigest()
    return PAUSES.setdefault(digest, SharedPause())


class PacedTransport(httpx.AsyncBaseTransport):
    """Every request an account's client sends takes a slot of the account's ``RateLimiter``
    first, and the limiter reads each answer's rate-limit headers.  At the transport, not
    around the client's call, so that a request the auth flow sends again (a refused token,
    renewed) is paced and counted like any other -- the platform counts it."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limiter: Callable[[], RateLimiter]):
        self._inner = inner
        self._limiter = limiter  # a callable: limiters belong to the event loop that made them

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        limiter = self._limiter()
        async with limiter.slot():
            response = await self._inner.handle_async_request(request)
            await response.aread()  # the call is in flight until its answer is in
        limiter.observe(response.headers)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
