"""The shared retry policy and emulator building blocks, over real sockets."""

from __future__ import annotations

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ledgerbridge.errors import (
    OutcomeUnknown,
    QuotaExhausted,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from ledgerbridge.retry import RetryPolicy, call_with_retry
from ledgerbridge.sandbox import FaultConfig, FaultInjector, serve


def run(coro_fn):
    return anyio.run(coro_fn)


def test_transient_errors_are_retried_then_succeed():
    calls, waits = [], []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise TransientError("503")
        return "ok"

    async def fake_sleep(seconds):
        waits.append(seconds)

    result = run(lambda: call_with_retry(flaky, RetryPolicy(initial=1, jitter=0), sleep=fake_sleep))
    assert result == "ok" and len(calls) == 3 and waits == [1.0, 2.0]


def test_rate_limits_wait_as_told_and_report_the_wait():
    seen, waits = [], []

    async def limited():
        seen.append(1)
        if len(seen) == 1:
            raise RateLimited("code 44", retry_after=61.0)
        return 1

    async def fake_sleep(seconds):
        waits.append(seconds)

    reported = []
    run(
        lambda: call_with_retry(
            limited, sleep=fake_sleep, on_wait=lambda e, s: reported.append((type(e).__name__, s))
        )
    )
    assert waits == [61.0] and reported == [("RateLimited", 61.0)]


@pytest.mark.parametrize(
    "exc",
    [
        ValidationFailed("bad"),
        QuotaExhausted("daily", retry_after=3600),
        RateLimited("long", retry_after=10_000),
        OutcomeUnknown("sent, no answer"),  # read back before any re-send, never retried
    ],
)
def test_non_retryable_and_long_waits_are_raised_at_once(exc):
    calls = []

    async def failing():
        calls.append(1)
        raise exc

    with pytest.raises(type(exc)):
        run(lambda: call_with_retry(failing, sleep=lambda s: anyio.sleep(0)))
    assert len(calls) == 1


def test_attempts_are_capped():
    calls = []

    async def always():
        calls.append(1)
        raise TransientError("down")

    with pytest.raises(TransientError):
        run(
            lambda: call_with_retry(always, RetryPolicy(attempts=3), sleep=lambda s: anyio.sleep(0))
        )
    assert len(calls) == 3


def _counter_app():
    state = {"writes": 0}

    async def write(request: Request):
        state["writes"] += 1
        return JSONResponse({"writes": state["writes"]})

    app = Starlette(
        routes=[Route("/write", write, methods=["POST"]), Route("/read", write, methods=["GET"])]
    )
    return app, state


def test_emulator_faults_over_a_real_socket():
    app, state = _counter_app()
    faults = FaultConfig(seed=1)
    with (
        serve(FaultInjector(app, faults)) as server,
        httpx.Client(base_url=server.url, timeout=5) as client,
    ):
        assert client.post("/write").json() == {"writes": 1}
        faults.fail_next = 1
        assert client.post("/write").status_code == 503
        assert state["writes"] == 1  # the 503 never reached the app
        faults.lose_next_responses = 1
        with pytest.raises(httpx.TransportError):
            client.post("/write")
        assert state["writes"] == 2  # committed server-side although the client saw an error
        assert client.get("/read").json() == {"writes": 3}
