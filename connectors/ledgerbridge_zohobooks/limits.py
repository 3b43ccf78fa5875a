"""Per-organisation rate limiting: Zoho counts calls per organisation, not per token.

Zoho enforces three limits on an organisation (facts doc §5): 100 calls per minute (429
code 44), a daily quota by plan (429 code 45) and a cap on calls in flight (429 code 1070).
Every connector instance writing to the same organisation in this process shares one
``OrgLimiter`` (``limiter_for``), so two pipelines into one org cannot add up to a block;
with the host's ``LimiterProvider`` (distributed mode, limits shared in Redis by every
worker) its limiter is used instead.  The bucket, counters, cap and ``X-Rate-Limit-*``
headers are the kit's ``LocalLimiter``; this module knows Zoho's numbers.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass

from ledgerbridge.contracts.context import Clock, SystemClock
from ledgerbridge.limits import AccountLimits, LimiterProvider, RateLimiter
from ledgerbridge.limits.local import LocalLimiter

__all__ = ["LimitConfig", "OrgLimiter", "RateLimiter", "limiter_for"]

DAILY_QUOTA_BY_PLAN: dict[str, int] = {
    "free": 1000,
    "standard": 2000,
    "professional": 5000,
    "premium": 10000,
    "elite": 10000,
    "ultimate": 10000,
}
IN_FLIGHT_BY_PLAN: dict[str, int] = {"free": 5}
DEFAULT_IN_FLIGHT = 10


@dataclass(frozen=True)
class LimitConfig:
    """What one organisation may do. ``per_minute`` (+ ``burst``) stays under Zoho's 100."""

    per_minute: int = 90
    daily_quota: int = 1000
    max_in_flight: int = 5
    # Tokens that may be spent at once. A bucket as deep as ``per_minute`` would admit
    # ``per_minute`` calls at once *plus* a minute's refill -- nearly twice the limit in one
    # 60-second window. With ``burst`` tokens, no window sees more than per_minute + burst.
    burst: int = 5

    @classmethod
    def for_plan(
        cls,
        plan: str,
        *,
        per_minute: int = 90,
        daily_quota: int | None = None,
        max_in_flight: int | None = None,
        burst: int = 5,
    ) -> LimitConfig:
        plan = plan.lower()
        return cls(
            burst=burst,
            per_minute=per_minute,
            daily_quota=daily_quota or DAILY_QUOTA_BY_PLAN.get(plan, 1000),
            max_in_flight=max_in_flight or IN_FLIGHT_BY_PLAN.get(plan, DEFAULT_IN_FLIGHT),
        )

    @property
    def account(self) -> AccountLimits:
        return AccountLimits(
            self.per_minute, self.daily_quota, self.max_in_flight, burst=self.burst
        )


class OrgLimiter(LocalLimiter):
    """The in-process limiter of one Zoho Books organisation (``ledgerbridge.limits.local``)."""

    quota_text = "Zoho Books daily API quota for organisation {account} is used up"
    quota_code = 45

    def __init__(self, organization_id: str, config: LimitConfig, clock: Clock | None = None):
        super().__init__("zohobooks", organization_id, config.account, clock)
        self.organization_id = organization_id
        self.config = config


_LIMITERS: weakref.WeakKeyDictionary[object, dict[str, OrgLimiter]] = weakref.WeakKeyDictionary()


def limiter_for(
    organization_id: str,
    config: LimitConfig,
    clock: Clock | None = None,
    shared: LimiterProvider | None = None,
) -> RateLimiter:
    """The limiter of ``organization_id``: the host's shared one when it passes ``shared``,
    else the one of this process (created on first use).

    Kept per event loop: locks and semaphores belong to the loop that made them.
    """
    if shared is not None:
        return shared.limiter("zohobooks", organization_id, config.account, clock or SystemClock())
    loop = asyncio.get_running_loop()
    per_loop = _LIMITERS.setdefault(loop, {})
    limiter = per_loop.get(organization_id)
    if limiter is None:
        limiter = per_loop[organization_id] = OrgLimiter(organization_id, config, clock)
    return limiter
