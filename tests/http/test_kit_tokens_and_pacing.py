"""The kit's rotating access tokens (``RotatingTokenAuth``) and its pacing through an account's
limiter (``KitClient(limiter=...)``), against a mock platform."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from pydantic import BaseModel

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.contracts.context import MemoryCredentials, ProcessLocalLocks
from ledgerbridge.errors import OutcomeUnknown, QuotaExhausted, RateLimited, SyncError
from ledgerbridge.http import ErrorTable, KitClient
from ledgerbridge.http.auth import AccessToken, RotatingTokenAuth
from ledgerbridge.http.responses import Refusal
from ledgerbridge.retry import RetryPolicy


class _Empty(BaseModel):
    pass


class Minted:
    """A refresh callable that mints tok-1, tok-2, ... and counts how often it was asked."""

    def __init__(self, lifetime: float = 3600.0) -> None:
        self.count = 0
        self.lifetime = lifetime

    async def __call__(self) -> AccessToken:
        self.count += 1
        await anyio.sleep(0.01)  # concurrent callers pile up behind the refresh
        return AccessToken(f"tok-{self.count}", time.time() + self.lifetime)


def _auth(refresh: Minted, credentials: MemoryCredentials | None = None) -> RotatingTokenAuth:
    return RotatingTokenAuth(
        refresh,
        credentials=credentials or MemoryCredentials(),
        locks=ProcessLocalLocks(),
        lock_name="p:token:c1",
    )


def _client(handler, auth=None, limiter=None, errors=None) -> KitClient:  # type: ignore[no-untyped-def]
    context = ConnectorContext(
        "t/c", "t", _Empty(), _Empty(), transport=httpx.MockTransport(handler)
    )
    policy = RetryPolicy(attempts=3, initial=0.001, maximum=0.001, jitter=0)
    return KitClient(
        context,
        "https://api.example",
        errors or ErrorTable("p"),
        auth=auth,
        policy=policy,
        limiter=limiter,
    )


def _run(client: KitClient, calls):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        try:
            return await calls(client)
        finally:
            await client.aclose()

    return anyio.run(go)


def test_concurrent_calls_share_one_refresh_and_the_token_is_sent():
    refresh, seen = Minted(), []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={})

    credentials = MemoryCredentials()

    async def twenty(client: KitClient) -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(client.send, "GET", "/orders")

    auth = _auth(refresh, credentials)
    _run(_client(handler, auth), twenty)
    assert refresh.count == 1 and auth.refreshes == 1
    assert seen == ["Bearer tok-1"] * 20
    assert credentials.values["access_token"] == "tok-1"  # kept for other processes
    assert "tok-1" not in repr(auth) and "tok-1" not in repr(AccessToken("tok-1", 0.0))


def test_a_refused_token_is_renewed_and_the_request_sent_once_more():
    refresh, seen = Minted(), []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        ok = request.headers["Authorization"] != "Bearer tok-1"
        return httpx.Response(200 if ok else 401, json={})

    response = _run(_client(handler, _auth(refresh)), lambda c: c.send("GET", "/orders"))
    assert response.status_code == 200 and seen == ["Bearer tok-1", "Bearer tok-2"]


def test_a_second_refusal_goes_back_to_the_error_table_not_round_again():
    refresh, seen = Minted(), []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(401, json={"message": "no"})

    with pytest.raises(SyncError) as caught:
        _run(_client(handler, _auth(refresh)), lambda c: c.send("GET", "/orders"))
    assert caught.value.status_code == 401 and seen == ["Bearer tok-1", "Bearer tok-2"]


def test_a_token_another_process_saved_is_used_without_a_refresh():
    refresh = Minted()
    credentials = MemoryCredentials(
        {"access_token": "theirs", "access_token_expires_at": repr(time.time() + 3600)}
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={})

    _run(_client(handler, _auth(refresh, credentials)), lambda c: c.send("GET", "/x"))
    assert seen == ["Bearer theirs"] and refresh.count == 0


def test_a_token_inside_the_margin_is_renewed_before_use():
    refresh = Minted(lifetime=60.0)  # expires within the 300 s margin: renewed at each use
    auth = _auth(refresh)

    async def twice() -> tuple[str, str]:
        return (await auth.token()).value, (await auth.token()).value

    assert anyio.run(twice) == ("tok-1", "tok-2")


class CountingLimiter:
    """A ``RateLimiter`` that records what the client told it."""

    def __init__(self) -> None:
        self.slots = 0
        self.observed: list[str | None] = []
        self.told: list[tuple[str, float | None]] = []

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        self.slots += 1
        yield

    def observe(self, headers: Mapping[str, str]) -> None:
        self.observed.append(headers.get("x-left"))

    def block(self, seconds: float) -> None:
        self.told.append(("block", seconds))

    def concurrency_refused(self) -> None:
        self.told.append(("in_flight", None))

    def quota_exhausted(self, reset_in: float | None) -> None:
        self.told.append(("quota", reset_in))

    def snapshot(self) -> dict[str, int | float]:
        return {}


def test_every_request_takes_a_slot_even_the_one_the_token_flow_resends():
    limiter, refresh = CountingLimiter(), Minted()

    def handler(request: httpx.Request) -> httpx.Response:
        ok = request.headers["Authorization"] != "Bearer tok-1"
        return httpx.Response(200 if ok else 401, json={}, headers={"x-left": "9"})

    _run(_client(handler, _auth(refresh), lambda: limiter), lambda c: c.send("GET", "/orders"))
    assert limiter.slots == 2 and limiter.observed == ["9", "9"]


def test_rate_limits_reach_the_limiter_by_scope():
    errors = ErrorTable("p")

    @errors.rule
    def scoped(response: httpx.Response, refusal: Refusal) -> SyncError | None:
        scope = response.headers.get("x-scope")
        if scope == "day":
            return QuotaExhausted("day", retry_after=3600.0, **refusal.kw)
        if scope:
            return RateLimited("slow", retry_after=0.001, details={"scope": scope}, **refusal.kw)
        return None

    limiter, answers = CountingLimiter(), iter(["in_flight", "organisation", "day"])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={}, headers={"x-scope": next(answers)})

    with pytest.raises(QuotaExhausted):
        _run(_client(handler, limiter=lambda: limiter, errors=errors), lambda c: c.send("GET", "/"))
    assert limiter.told == [("in_flight", None), ("block", 0.001), ("quota", 3600.0)]


def test_a_write_that_never_left_is_retried_and_one_whose_answer_was_lost_is_not():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if len(seen) == 1:
            raise httpx.ConnectError("refused", request=request)
        if len(seen) == 2:
            return httpx.Response(200, json={})
        raise httpx.ReadError("reset", request=request)

    async def two_posts(client: KitClient) -> None:
        assert (await client.send("POST", "/orders")).status_code == 200
        await client.send("POST", "/orders")

    with pytest.raises(OutcomeUnknown, match="outcome of the write is unknown"):
        _run(_client(handler), two_posts)
    assert seen == ["POST", "POST", "POST"]  # the lost one was not sent again
