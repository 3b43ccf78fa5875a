"""Fault injection for emulators, configured per test or per sandbox run.

An ASGI middleware: wrap any emulator app with ``FaultInjector(app, config)``
and change ``config`` while it runs.  Platform-specific faults (a platform's
own throttle bodies, token revocation) belong to that platform's emulator;
these are the ones every platform has.  ``TrapInjector`` faults one chosen write
(by method, path and body) -- lose its response, or refuse it unprocessed -- and can
leave the platform unreachable after it, as a worker that died there would find it.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Awaitable, Callable
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


@dataclass
class WriteTrap:
    """One chosen write to fault, for exactly-once tests of every write kind.

    ``path`` is a regular expression the request path must match in full, ``when`` an
    optional test on the request's JSON body. ``lose``: the app processes the write
    and the response is dropped (its outcome is unknown to the client); otherwise
    the write is refused with a 503 before the app sees it (it certainly did not
    happen, though the client cannot tell) -- or with ``refusal``'s status and body, e.g.
    a platform's own definite refusal. With ``then_outage`` every later request
    answers 503 until ``TrapInjector.outage`` is cleared: the target is unreachable,
    as it is to a worker that died right after the write.
    """

    method: str
    path: str
    when: Callable[[Any], bool] | None = None
    lose: bool = True
    then_outage: bool = False
    times: int = 1
    after: Callable[[], Awaitable[None]] | None = None  # run once the lost write committed
    refusal: tuple[int, bytes] = (503, b'{"error": "injected fault: refused before processing"}')
    fired: list[Any] = field(default_factory=list)  # the bodies of the writes it hit
    paths: list[str] = field(default_factory=list)  # and their paths

    def matches(self, method: str, path: str, body: Any) -> bool:
        return (
            self.times > 0
            and method == self.method
            and re.fullmatch(self.path, path) is not None
            and (self.when is None or bool(self.when(body)))
        )


class TrapInjector:
    """ASGI middleware applying ``WriteTrap``s to an emulator (add traps while it runs)."""

    def __init__(self, app: Any, *traps: WriteTrap) -> None:
        self.app = app
        self.traps = list(traps)
        self.outage = False
        self.emulator = getattr(app, "emulator", None)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.outage:
            await _plain(send, 503, b'{"error": "injected fault: unreachable"}')
            return
        method, path = scope.get("method", ""), scope.get("path", "")
        messages: list[dict[str, Any]] = []
        raw = b""
        if method in FaultInjector.WRITE_METHODS:  # read the body once, replay it to the app
            while True:
                message = await receive()
                messages.append(message)
                raw += message.get("body", b"")
                if not message.get("more_body"):
                    break
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        trap = next((t for t in self.traps if t.matches(method, path, body)), None)

        async def replay() -> dict[str, Any]:
            return messages.pop(0) if messages else await receive()

        if trap is None:
            await self.app(scope, replay if messages else receive, send)
            return
        trap.times -= 1
        trap.fired.append(body)
        trap.paths.append(path)
        if trap.then_outage:
            self.outage = True
        if not trap.lose:
            await _plain(send, *trap.refusal)
            return

        async def swallow(message: dict[str, Any]) -> None:
            return None  # the app's answer never reaches the client

        await self.app(scope, replay, swallow)
        if trap.after is not None:
            await trap.after()  # e.g. SIGKILL the worker while the write is unrecorded
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1000")],
            }
        )
        raise ResponseLost("injected fault: write committed, response lost")
