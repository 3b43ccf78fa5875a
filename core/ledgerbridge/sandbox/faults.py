"""Fault injection for emulators, configured per test or per sandbox run.

An ASGI middleware: wrap any emulator app with ``FaultInjector(app, config)``
and change ``config`` while it runs.  Platform-specific faults (a platform's
own throttle bodies, token revocation) belong to that platform's emulator;
these are the ones every platform has.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import httpx

Scope = dict[str, Any]


class ResponseLost(httpx.ReadTimeout):
    """The write committed but its response never arrives.

    Over a real socket the server starts a response and drops the connection
    mid-body (the client sees a transport error); in-process (httpx's ASGI
    transport) this exception reaches the client as the ``ReadTimeout`` it is.
    """


@dataclass
class FaultConfig:
    latency: float = 0.0  # seconds added before each response
    error_rate: float = 0.0  # share of requests answered 503 before reaching the app
    lose_response_rate: float = 0.0  # share of writes processed, then the response dropped
    lose_next_responses: int = 0  # deterministic: drop the next N write responses
    fail_next: int = 0  # deterministic: answer the next N requests 503
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._rng.seed(self.seed)

    def roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate


class FaultInjector:
    """ASGI middleware applying a ``FaultConfig`` to HTTP requests."""

    WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, app: Any, config: FaultConfig | None = None) -> None:
        self.app = app
        self.config = config or FaultConfig()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cfg = self.config
        if cfg.latency:
            await asyncio.sleep(cfg.latency)
        if cfg.fail_next > 0 or cfg.roll(cfg.error_rate):
            cfg.fail_next = max(0, cfg.fail_next - 1)
            await _plain(send, 503, b'{"error": "injected fault: service unavailable"}')
            return
        lose = scope.get("method") in self.WRITE_METHODS and (
            cfg.lose_next_responses > 0 or cfg.roll(cfg.lose_response_rate)
        )
        if not lose:
            await self.app(scope, receive, send)
            return
        cfg.lose_next_responses = max(0, cfg.lose_next_responses - 1)

        async def swallow(message: dict[str, Any]) -> None:
            return None  # the app's answer never reaches the client

        await self.app(scope, receive, swallow)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1000")],
            }
        )
        raise ResponseLost("injected fault: write committed, response lost")


async def _plain(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
