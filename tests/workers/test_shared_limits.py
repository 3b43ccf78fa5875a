"""Account limits shared in a real Redis: two providers stand for two workers on two
machines; what one spends or is told (Zoho's 429 codes 44, 45, 1070) binds the other."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import anyio
import pytest

from ledgerbridge.contracts.context import SystemClock
from ledgerbridge.errors import QuotaExhausted
from ledgerbridge.limits import AccountLimits
from ledgerbridge.limits.redis import RedisLimiters
from ledgerbridge.worker.dispatch import Dispatcher

from .services import need_redis

CREATED: list[tuple[RedisLimiters, str]] = []


@pytest.fixture(autouse=True)
def _forget_accounts() -> Iterator[None]:
    yield
    while CREATED:
        provider, account = CREATED.pop()
        provider.forget("zohobooks", account)
        assert not list(provider.client().scan_iter(f"lb:limits:zohobooks:{account}:*"))


def two_workers(limits: AccountLimits, window: float = 60.0):  # type: ignore[no-untyped-def]
    url = need_redis()
    account = f"test-{uuid.uuid4().hex[:10]}"
    a, b = RedisLimiters(url, window=window), RedisLimiters(url, window=window)
    CREATED.append((a, account))
    clock = SystemClock()
    return (
        a.limiter("zohobooks", account, limits, clock),
        b.limiter("zohobooks", account, limits, clock),
        a,
        account,
    )


def test_the_minute_window_is_one_for_every_worker() -> None:
    one, two, provider, account = two_workers(AccountLimits(5, 1000, 10))

    async def spend(limiter, n: int) -> None:  # type: ignore[no-untyped-def]
        for _ in range(n):
            async with limiter.slot():
                pass

    anyio.run(spend, one, 3)
    anyio.run(spend, two, 2)
    assert provider.usage("zohobooks", account)["minute"] == 5
    # the sixth call, from either worker, must wait for the window to move
    assert one.wait_seconds() > 50
    assert two.wait_seconds() > 50


def test_a_scaled_window_lets_calls_resume() -> None:
    one, two, _, _ = two_workers(AccountLimits(2, 1000, 10), window=0.5)

    async def spend() -> float:
        began = anyio.current_time()
        for limiter in (one, two, one):
            async with limiter.slot():
                pass
        return anyio.current_time() - began

    assert anyio.run(spend) >= 0.4  # the third waited for the shared window


def test_code_44_told_to_one_worker_blocks_all() -> None:
    one, two, provider, account = two_workers(AccountLimits(90, 1000, 10))
    assert two.wait_seconds() == 0
    one.block(30)
    assert 25 < two.wait_seconds() <= 30
    assert provider.usage("zohobooks", account)["blocked_for"] > 25


def test_code_45_told_to_one_worker_stops_all_until_the_reset() -> None:
    one, two, _, _ = two_workers(AccountLimits(90, 1000, 10))
    one.quota_exhausted(120)

    async def call() -> None:
        async with two.slot():
            pass

    with pytest.raises(QuotaExhausted) as caught:
        anyio.run(call)
    assert caught.value.retry_after is not None and 100 < caught.value.retry_after <= 120


def test_the_daily_quota_counts_every_worker() -> None:
    one, two, _, _ = two_workers(AccountLimits(90, 3, 10))

    async def call(limiter) -> None:  # type: ignore[no-untyped-def]
        async with limiter.slot():
            pass

    anyio.run(call, one)
    anyio.run(call, two)
    anyio.run(call, one)
    with pytest.raises(QuotaExhausted):
        anyio.run(call, two)


def test_zoho_headers_count_calls_made_elsewhere() -> None:
    one, two, provider, account = two_workers(AccountLimits(90, 1000, 10))
    one.observe({"x-rate-limit-limit": "1000", "x-rate-limit-remaining": "400"})

    async def call() -> None:
        async with one.slot():
            pass

    anyio.run(call)  # the observed count is merged at the next acquire
    assert provider.usage("zohobooks", account)["day"] == 601
    assert two.snapshot()["calls_left_today"] == 399


def test_in_flight_calls_are_capped_across_workers_and_1070_lowers_the_cap() -> None:
    one, two, provider, account = two_workers(AccountLimits(90, 1000, 2))

    async def hold_two_then_try() -> float:
        async with one.slot(), two.slot():
            assert provider.usage("zohobooks", account)["in_flight"] == 2
            return two.wait_seconds()

    assert anyio.run(hold_two_then_try) > 0  # a third call waits for a slot
    assert two.wait_seconds() == 0  # the slots were given back
    one.concurrency_refused()
    assert two.snapshot()["in_flight_cap"] == 1

    async def hold_one_then_try() -> float:
        async with two.slot():
            return one.wait_seconds()

    assert anyio.run(hold_one_then_try) > 0


def test_a_backlogged_account_holds_at_most_its_budget_of_tasks() -> None:
    url = need_redis()
    sent: list[str] = []
    dispatcher = Dispatcher(
        url, lambda name, args, **kw: sent.append(args[0]), queue="q", marker_ttl=30
    )
    account = f"zohobooks:budget-{uuid.uuid4().hex[:8]}"
    dispatcher.redis.hset(f"lb:limits:{account}:conf", mapping={"max_in_flight": 2})
    tag = uuid.uuid4().hex[:8]
    pipes = [f"p{i}-{tag}" for i in range(3)]
    assert dispatcher.dispatch(pipes[0], account) == "queued"
    assert dispatcher.dispatch(pipes[0], account) == "busy"  # one share per pipeline
    assert dispatcher.dispatch(pipes[1], account) == "queued"
    assert dispatcher.dispatch(pipes[2], account) == "over budget"
    # another merchant's account is not held back by this one's backlog
    assert dispatcher.dispatch(f"other-{tag}", f"zohobooks:other-{tag}") == "queued"
    assert sent == [pipes[0], pipes[1], f"other-{tag}"]
    # a share that ends gives its place back
    marker = dispatcher.redis.get(f"lb:dispatch:{pipes[0]}")
    dispatcher.release(pipes[0], account, marker)
    assert dispatcher.dispatch(pipes[2], account) == "queued"
    dispatcher.redis.delete(f"lb:limits:{account}:conf")


def test_hundreds_of_slots_on_one_loop_wait_for_a_connection_instead_of_failing() -> None:
    # A worker's slots share one event loop and one Redis pool: past the pool's size a
    # call must wait for a connection (it failed with "Too many connections" before).
    one, _, provider, account = two_workers(AccountLimits(10_000, 10**6, 1_000))

    async def many() -> None:
        async def call() -> None:
            async with one.slot():
                await anyio.sleep(0.05)

        async with anyio.create_task_group() as group:
            for _ in range(200):
                group.start_soon(call)

    anyio.run(many)
    assert provider.usage("zohobooks", account)["day"] == 200
