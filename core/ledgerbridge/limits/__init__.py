"""Rate limits of a target account, behind one small interface.

A target connector paces its calls through a ``RateLimiter`` (one per account:
a Zoho Books organisation).  Where the limiter lives is the host's choice:

* embedded mode (the default): in the process (``ledgerbridge.limits.local``);
* distributed mode (``workers: {limits: redis}``): in Redis, shared by every
  worker on every machine (``ledgerbridge.limits.redis``), so N workers together
  stay under the account's limits and a 429 told to one makes all of them wait.

The engine hands a ``LimiterProvider`` to connectors through
``ConnectorContext.limiters``; a connector that finds one there uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from ..contracts.context import Clock


@dataclass(frozen=True)
class AccountLimits:
    """What one target account may do (the connector knows the numbers for a plan)."""

    per_minute: int
    daily_quota: int
    max_in_flight: int
    # calls that may start at once in this process (``local.LocalLimiter``'s bucket depth);
    # the Redis limiter keeps a sliding window instead
    burst: int = 5


class RateLimiter(Protocol):
    """What a target's HTTP client needs from a limiter (one per account)."""

    def slot(self) -> AbstractAsyncContextManager[None]:
        """Wait for the account's turn; the call happens inside the context."""
        ...

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adopt the platform's own counters from a response's headers."""
        ...

    def block(self, seconds: float) -> None:
        """The platform blocked the account (per-minute limit): nobody calls for ``seconds``."""
        ...

    def concurrency_refused(self) -> None:
        """The platform refused a call for too many in flight: allow one fewer."""
        ...

    def quota_exhausted(self, reset_in: float | None) -> None:
        """The daily quota is used up: no calls until it resets."""
        ...

    def snapshot(self) -> dict[str, int | float]:
        """Counters for ``ledgerbridge status``."""
        ...


class LimiterProvider(Protocol):
    """Makes (or finds) the limiter of an account; the host chooses the implementation."""

    def limiter(
        self, platform: str, account: str, limits: AccountLimits, clock: Clock
    ) -> RateLimiter: ...


__all__ = ["AccountLimits", "LimiterProvider", "RateLimiter"]
