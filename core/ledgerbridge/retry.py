"""Retrying a platform call, driven by the error classes (tenacity underneath).

Connectors wrap each HTTP call with ``call_with_retry``; what is retried and
how long to wait follows from the exception class alone:

* ``RateLimited`` -- wait ``retry_after`` when the platform said, else back off;
* ``TransientError`` (5xx, timeouts, dropped connections) -- capped exponential
  back-off with jitter;
* a ``TransientError`` whose request never left (``details["sent"] is False``) -- retried
  even under ``retry_transient=False``: the platform never saw it;
* ``OutcomeUnknown`` -- never: a write that may have happened is read back from the
  target before it is sent again, which is the caller's job, not a blind retry's;
* everything else -- raised at once.

``QuotaExhausted`` is never waited out in-process (it can be hours): it is
raised so the engine parks the work with a durable next-attempt time.  Waits
longer than ``max_wait`` are raised for the same reason.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from .errors import OutcomeUnknown, QuotaExhausted, RateLimited, TransientError

T = TypeVar("T")
log = logging.getLogger("ledgerbridge.retry")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial: float = 0.5
    maximum: float = 30.0
    max_wait: float = 120.0  # a longer wait is handed to the engine, not slept here
    jitter: float = 0.5
    # False for a call that must not be repeated blindly (a create whose answer may be lost):
    # rate limits, answered before anything was done, are still waited out.
    retry_transient: bool = True


DEFAULT_POLICY = RetryPolicy()


def _should_retry(policy: RetryPolicy) -> Callable[[BaseException], bool]:
    def check(exc: BaseException) -> bool:
        if isinstance(exc, QuotaExhausted | OutcomeUnknown):
            return False
        if isinstance(exc, RateLimited):
            return exc.retry_after is None or exc.retry_after <= policy.max_wait
        if not isinstance(exc, TransientError):
            return False
        # a request that never left (the connection was never made) is safe to send again
        return policy.retry_transient or exc.details.get("sent") is False

    return check


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(
        multiplier=policy.initial, max=policy.maximum, jitter=policy.jitter
    )

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return exc.retry_after
        return float(backoff(state))

    return wait


async def call_with_retry(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    on_wait: Callable[[BaseException, float], None] | None = None,
) -> T:
    """Call ``fn`` until it succeeds or fails in a way waiting cannot fix.

    ``sleep`` is injectable (scaled clocks in tests); ``on_wait`` reports each
    wait so a UI can show "rate limited, waiting 61 s" instead of freezing.
    """
    wait_fn = _wait(policy)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        if exc is None:
            return
        # Logged so a UI can show "rate limited, waiting 61 s" instead of a frozen screen.
        log.info(
            "waiting %.1f s after %s: %s",
            state.upcoming_sleep,
            type(exc).__name__,
            exc,
            extra={"wait_seconds": state.upcoming_sleep, "wait_reason": type(exc).__name__},
        )
        if on_wait is not None:
            on_wait(exc, state.upcoming_sleep)

    retrying = AsyncRetrying(
        retry=retry_if_exception(_should_retry(policy)),
        wait=wait_fn,
        stop=stop_after_attempt(policy.attempts),
        reraise=True,
        before_sleep=before_sleep,
        sleep=sleep or anyio.sleep,
    )
    async for attempt in retrying:
        with attempt:
            return await fn()
    raise AssertionError("unreachable")  # pragma: no cover
