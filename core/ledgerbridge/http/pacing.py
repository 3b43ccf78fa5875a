"""Pacing at the transport: every request an account's client sends takes a slot of the
account's ``RateLimiter`` first, and the limiter reads each answer's rate-limit headers.

At the transport, not around the client's call, so that a request the auth flow sends again
(a refused token, renewed) is paced and counted like any other -- the platform counts it.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ..limits import RateLimiter


class PacedTransport(httpx.AsyncBaseTransport):
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
