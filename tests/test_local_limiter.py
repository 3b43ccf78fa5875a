"""The kit's in-process limiter (``ledgerbridge.limits.local``) for any platform: the Zoho
Books tests drive its bucket and cap (tests/zohobooks/test_errors_and_limits.py); here, what
a platform other than Zoho sees."""

from __future__ import annotations

import anyio
import pytest

from ledgerbridge.errors import QuotaExhausted
from ledgerbridge.limits import AccountLimits
from ledgerbridge.limits.local import LocalLimiter


def test_the_days_quota_is_refused_in_the_platforms_name_and_the_burst_is_the_bucket():
    limiter = LocalLimiter("tinyshop", "shop-1", AccountLimits(60, 3, 2, burst=2))

    async def four() -> None:
        for _ in range(4):
            async with limiter.slot():
                pass

    with pytest.raises(QuotaExhausted) as caught:
        anyio.run(four)
    assert limiter.used_today == 3 and caught.value.platform == "tinyshop"
    assert "shop-1" in str(caught.value) and caught.value.code is None
    assert limiter.snapshot()["calls_left_today"] == 0 and limiter.in_flight_cap == 2
