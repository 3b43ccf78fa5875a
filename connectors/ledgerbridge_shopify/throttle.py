"""Shopify's cost bucket as the client sees it from ``extensions.cost``: pacing each request
until its expected cost is available keeps a long read from running into ``THROTTLED``.
Limits are read from each response, never hard-coded (plans differ: 50 to 2,000 points/s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CostBudget:
    """What this client knows about its bucket on one shop."""

    reserve: float = 0.05  # keep this share of the bucket free for other callers
    maximum: float | None = None
    available: float = 0.0
    restore_rate: float = 0.0
    observed_at: float = 0.0
    expected: dict[str, float] = field(default_factory=dict)

    def observe(self, cost: dict[str, Any] | None, now: float, operation: str) -> None:
        """Take in ``extensions.cost`` from a response (throttled or not)."""
        if not cost:
            return
        status = cost.get("throttleStatus") or {}
        if status:
            self.maximum = float(status["maximumAvailable"])
            self.available = float(status["currentlyAvailable"])
            self.restore_rate = float(status["restoreRate"])
            self.observed_at = now
        requested = cost.get("requestedQueryCost")
        if requested is not None:
            self.expected[operation] = float(requested)

    def wait_before(self, operation: str, now: float, expected: float | None = None) -> float:
        """Seconds to wait so the request's expected cost (plus the reserve) is available.

        The expectation is the caller's estimate, else what this operation asked
        for last time, else -- for an operation not seen yet, once -- a full bucket.
        """
        if self.maximum is None or self.restore_rate <= 0:
            return 0.0
        cost = expected if expected is not None else self.expected.get(operation)
        if cost is None:
            cost = self.maximum
        needed = min(self.maximum, cost + self.reserve * self.maximum)
        refill = max(0.0, now - self.observed_at) * self.restore_rate
        shortfall = needed - min(self.maximum, self.available + refill)
        return max(0.0, shortfall / self.restore_rate)

    @staticmethod
    def throttled_wait(cost: dict[str, Any] | None) -> float | None:
        """``(requested - available) / restoreRate`` from a THROTTLED response (facts doc §4.1)."""
        if not cost:
            return None
        status = cost.get("throttleStatus") or {}
        requested = cost.get("requestedQueryCost")
        if not status or requested is None or not status.get("restoreRate"):
            return None
        missing = float(requested) - float(status["currentlyAvailable"])
        return max(0.0, missing / float(status["restoreRate"]))
