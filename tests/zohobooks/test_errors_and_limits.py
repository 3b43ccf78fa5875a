"""Every Zoho error shape becomes the right ledgerbridge error class, and the limits hold."""

from __future__ import annotations

import json
from decimal import Decimal

import anyio
import httpx
import pytest

from ledgerbridge.errors import (
    AuthExpired,
    AuthFailed,
    NotFound,
    PermissionDenied,
    QuotaExhausted,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from ledgerbridge.plan import LookupKind, TargetRef
from ledgerbridge_zohobooks.client import classify
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG, SECOND_ORG
from ledgerbridge_zohobooks.limits import LimitConfig, OrgLimiter

from .helpers import FastClock, make_target


def response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


@pytest.mark.parametrize(
    ("status", "body", "error", "retry_after"),
    [
        (429, {"code": 44, "message": "blocked"}, RateLimited, 60.0),
        (429, {"code": 45, "message": "daily"}, QuotaExhausted, None),
        (429, {"code": 1070, "message": "in process"}, RateLimited, None),
        (401, {"code": 57, "message": "not authorized"}, AuthExpired, None),
        (401, {"code": 14, "message": "no auth"}, AuthExpired, None),
        (403, {"code": 57, "message": "role"}, AuthExpired, None),
        (403, {"code": 9, "message": "no permission"}, PermissionDenied, None),
        (404, {"code": 1002, "message": "Invoice does not exist."}, NotFound, None),
        (400, {"code": 4016, "message": "no lines"}, ValidationFailed, None),
        (500, {"code": 1000, "message": "Internal error"}, TransientError, None),
        (200, {"code": 2, "message": "Invalid value"}, ValidationFailed, None),  # 200, code != 0
    ],
)
def test_classify_branches_on_status_and_code(status, body, error, retry_after):
    with pytest.raises(error) as caught:
        classify(response(status, body))
    assert type(caught.value) is error
    assert caught.value.code == str(body["code"])
    if retry_after is not None:
        assert caught.value.retry_after == retry_after


def test_classify_ignores_the_message_text_and_parses_money_as_decimal():
    body = classify(
        response(200, {"code": 0, "message": "The contact has been added.", "total": 1.1})
    )
    assert body["total"] == Decimal("1.1") and isinstance(body["total"], Decimal)
    with pytest.raises(TransientError):
        classify(httpx.Response(502, content=b"<html>bad gateway</html>"))


def test_quota_reset_header_is_honoured():
    with pytest.raises(QuotaExhausted) as caught:
        classify(response(429, {"code": 45, "message": "x"}, {"X-Rate-Limit-Reset": "3600"}))
    assert caught.value.retry_after == 3600.0


def run_target(zoho, fn, **kw):
    async def main():
        target = make_target(zoho.url, zoho.state, **kw)
        try:
            return await fn(target)
        finally:
            await target.aclose()

    return anyio.run(main)


def test_missing_document_is_not_found(zoho):
    with pytest.raises(NotFound) as caught:
        run_target(
            zoho,
            lambda t: t.get_document(TargetRef(kind="invoice", target_id="4600000000999999999")),
        )
    assert caught.value.code == "1002"


def test_revoked_refresh_token_is_an_operator_problem_with_a_cause(zoho):
    zoho.state.revoke_refresh_tokens()
    with pytest.raises(AuthFailed) as caught:
        run_target(zoho, lambda t: t.lookups(LookupKind.TAXES), refresh_token="1000.gone.refresh")
    assert caught.value.needs_operator and caught.value.code == "invalid_code"
    assert "reconnect" in str(caught.value) and "1000.gone.refresh" not in str(caught.value)


def test_wrong_client_secret_points_at_the_data_centre(zoho):
    zoho.state.clients["1000.EMULATORCLIENT"] = "rotated"
    with pytest.raises(AuthFailed) as caught:
        run_target(zoho, lambda t: t.lookups(LookupKind.TAXES))
    assert caught.value.code == "invalid_client" and "data centre" in str(caught.value)


def test_a_second_401_after_a_fresh_token_is_not_retried_forever(zoho):
    # The merchant loses access to the org: every token is refused (401 code 57).
    async def lose_access(target):
        await target.lookups(LookupKind.CURRENCIES)
        zoho.state.access_tokens.clear()
        zoho.emulator.limits.token_ttl = -1  # every new token is dead on arrival
        return await target.lookups(LookupKind.TAXES)

    with pytest.raises(AuthFailed, match="freshly refreshed"):
        run_target(zoho, lose_access)


def test_5xx_is_retried(zoho):
    zoho.faults.fail_next = 2
    taxes = run_target(zoho, lambda t: t.lookups(LookupKind.TAXES), clock=FastClock())
    assert len(taxes) == 4 and zoho.faults.fail_next == 0


def test_concurrency_code_1070_is_retried(zoho):
    zoho.emulator.limits.burst_1070 = 2
    clock = FastClock()
    taxes = run_target(zoho, lambda t: t.lookups(LookupKind.TAXES), clock=clock)
    assert len(taxes) == 4 and zoho.emulator.limits.burst_1070 == 0
    assert clock.sleeps and max(clock.sleeps) < 60  # a short back-off, not the 44 block


def test_daily_quota_stops_the_org_without_more_calls(zoho):
    # SECOND_ORG is on the free plan; its quota here is 3 calls.
    zoho.emulator.limits.daily["free"] = 3

    async def burn(target):
        for _ in range(3):
            await target.lookups(LookupKind.TAXES)
        with pytest.raises(QuotaExhausted):
            await target.lookups(LookupKind.TAXES)
        calls = zoho.emulator.api_calls
        with pytest.raises(QuotaExhausted):  # the limiter now refuses locally
            await target.lookups(LookupKind.TAXES)
        return calls

    calls = run_target(zoho, burn, organization_id=SECOND_ORG, plan="free")
    assert zoho.emulator.api_calls == calls  # no call reached Zoho after code 45


def test_emulator_enforces_per_minute_and_answers_44(zoho):
    zoho.emulator.limits.per_minute = 2
    clock = FastClock()

    async def three(target):
        for _ in range(3):
            await target.lookups(LookupKind.TAXES)
        return target.client.waits

    zoho.emulator.clock = clock.now
    waits = run_target(zoho, three, clock=clock)
    assert waits and waits[0][0] == "RateLimited" and waits[0][1] >= 60
    assert any(ex.status == 429 and ex.response["code"] == 44 for ex in zoho.exchanges)


def test_limiter_keeps_under_the_minute_budget():
    clock = FastClock()
    limiter = OrgLimiter(
        MAIN_ORG, LimitConfig(per_minute=10, daily_quota=100, max_in_flight=2), clock
    )

    async def main():
        start = clock.now()
        for _ in range(25):
            async with limiter.slot():
                pass
        return clock.now() - start

    elapsed = anyio.run(main)
    # 10 at once, then 1 every 6 s: 15 more calls need at least 84 s of logical time.
    assert elapsed >= 84
    assert limiter.used_today == 25


def test_limiter_caps_calls_in_flight():
    limiter = OrgLimiter(MAIN_ORG, LimitConfig(per_minute=100, daily_quota=100, max_in_flight=3))
    peak = 0
    current = 0

    async def one():
        nonlocal peak, current
        async with limiter.slot():
            current += 1
            peak = max(peak, current)
            await anyio.sleep(0.01)
            current -= 1

    async def main():
        async with anyio.create_task_group() as tg:
            for _ in range(12):
                tg.start_soon(one)

    anyio.run(main)
    assert peak == 3


def test_limiter_adopts_rate_limit_headers():
    limiter = OrgLimiter(MAIN_ORG, LimitConfig(daily_quota=5000))
    limiter.observe({"x-rate-limit-limit": "7500", "x-rate-limit-remaining": "6775"})
    assert limiter.used_today == 725
    limiter.observe(
        {"x-rate-limit-limit": "7500", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "30"}
    )

    async def main():
        async with limiter.slot():
            pass

    with pytest.raises(QuotaExhausted) as caught:
        anyio.run(main)
    assert caught.value.retry_after is not None and caught.value.retry_after <= 30
    limiter2 = OrgLimiter("x", LimitConfig())
    limiter2.observe({})  # absent headers are fine
    assert limiter2.used_today == 0


def test_plan_sets_quota_and_in_flight_cap():
    assert LimitConfig.for_plan("free") == LimitConfig(
        per_minute=90, daily_quota=1000, max_in_flight=5
    )
    paid = LimitConfig.for_plan("professional", daily_quota=7000)
    assert paid.daily_quota == 7000 and paid.max_in_flight == 10


def test_limiter_never_stalls_on_float_dust():
    """A logical clock starting at 0 exposes rounding dust in the bucket (it once spun forever)."""

    class ZeroClock:
        t = 0.0

        def now(self):
            return self.t

        async def sleep(self, seconds):
            self.t += seconds
            await anyio.sleep(0)

    clock = ZeroClock()
    limiter = OrgLimiter(MAIN_ORG, LimitConfig(per_minute=90, daily_quota=10**6), clock)

    async def main():
        admitted = 0
        with anyio.fail_after(5):
            while clock.now() < 120:
                async with limiter.slot():
                    admitted += 1
        return admitted

    admitted = anyio.run(main)
    # 5 at once (the burst), then 1.5 per second: never more than per_minute + burst a minute.
    assert 185 <= admitted <= 188


def test_lists_are_paged_by_200_until_has_more_page_is_false(zoho):
    items = zoho.state.organizations[MAIN_ORG].items
    for n in range(450):
        item_id = f"47000000000000{n:05d}"
        items[item_id] = {
            "item_id": item_id,
            "name": f"Bulk {n}",
            "sku": f"BULK-{n}",
            "rate": Decimal("1.00"),
        }
    entries = run_target(zoho, lambda t: t.lookups(LookupKind.ITEMS))
    assert len(entries) == 452 and len({e.target_id for e in entries}) == 452
    pages = [ex.query for ex in zoho.exchanges if ex.path == "/items"]
    assert [(q["page"], q["per_page"]) for q in pages] == [("1", "200"), ("2", "200"), ("3", "200")]


def test_a_raised_quota_in_headers_wins_over_the_plan():
    limiter = OrgLimiter(MAIN_ORG, LimitConfig(daily_quota=1000))
    limiter.observe({"x-rate-limit-limit": "20000", "x-rate-limit-remaining": "18500"})
    assert limiter.daily_quota == 20000 and limiter.used_today == 1500

    async def main():
        async with limiter.slot():
            pass

    anyio.run(main)  # 1,500 used is over the plan's 1,000 but under Zoho's 20,000
    assert limiter.used_today == 1501


@pytest.mark.parametrize(("max_in_flight", "expect_1070"), [(5, False), (8, True)])
def test_in_flight_cap_keeps_under_zohos_concurrency_limit(zoho, max_in_flight, expect_1070):
    """Free plan: Zoho allows 5 calls in process. Our cap of 5 never trips code 1070; a
    misconfigured cap of 8 does, and the 1070s are retried until every call succeeds."""
    # each call stays "in process" for 300 ms: long enough that the calls a cap of 8 lets out
    # overlap even on a loaded CI machine (at 50 ms they could arrive one after another there,
    # and Zoho never saw more than 5 at once)
    zoho.emulator.limits.hold = 0.3

    async def burst(target):
        results = []

        async def one():
            results.append(await target.lookups(LookupKind.TAXES))

        async with anyio.create_task_group() as tg:
            for _ in range(16):
                tg.start_soon(one)
        return results, target._limiter().in_flight_cap

    # Real clock: back-off must really let the in-process calls finish.
    results, cap = run_target(
        zoho,
        burst,
        organization_id=SECOND_ORG,
        plan="free",
        max_in_flight=max_in_flight,
        burst=16,  # let all 16 start at once: only the in-flight cap holds them back
    )
    assert len(results) == 16
    refused = [ex for ex in zoho.exchanges if ex.status == 429 and ex.response["code"] == 1070]
    assert bool(refused) is expect_1070
    assert (cap < max_in_flight) is expect_1070  # each 1070 lowers the org's in-flight cap


def test_no_sixty_second_window_exceeds_zohos_limit():
    """95/min paced with a burst of 5: never more than 100 calls in any 60 s (Zoho's code 44)."""

    class ZeroClock:
        t = 0.0

        def now(self):
            return self.t

        async def sleep(self, seconds):
            self.t += seconds
            await anyio.sleep(0)

    clock = ZeroClock()
    limiter = OrgLimiter(MAIN_ORG, LimitConfig(per_minute=95, daily_quota=10**6, burst=5), clock)
    stamps: list[float] = []

    async def main():
        with anyio.fail_after(5):
            while clock.now() < 180:
                async with limiter.slot():
                    stamps.append(clock.now())

    anyio.run(main)
    busiest = max(sum(1 for s in stamps if start <= s < start + 60) for start in stamps)
    assert 95 <= busiest <= 100
