"""The connector kit's HTTP parts (``ledgerbridge.http``): each behaviour a connector relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import anyio
import httpx
import pytest
from pydantic import BaseModel, SecretStr

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.errors import (
    AuthFailed,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationFailed,
    WebhookRejected,
)
from ledgerbridge.http import (
    BearerAuth,
    ErrorTable,
    KitClient,
    cursor_pages,
    has_more_pages,
    hmac_sha256,
    numbered_pages,
    parse_json,
    retry_after,
    verify_hmac_sha256,
)
from ledgerbridge.retry import RetryPolicy

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _response(status: int = 200, content: bytes = b"{}", **headers: str) -> httpx.Response:
    request = httpx.Request("GET", "https://shop.example/api/orders")
    return httpx.Response(status, content=content, headers=headers, request=request)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("Wed, 21 Oct 2015 07:28:00", 0.0),  # an HTTP date without zone: UTC, long past
        ("99999999", 86_400.0),  # absurd waits are capped at a day
        ("soon", None),
        ("-5", None),
        ("", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates_and_never_raises(header, seconds):
    response = _response(429, **({"Retry-After": header} if header else {}))
    assert retry_after(response, now=NOW) == seconds


def test_json_money_is_decimal_and_a_host_page_is_transient():
    data = parse_json(_response(content=b'{"total": 10.10, "n": 3}'), dict, platform="p")
    assert data == {"total": Decimal("10.10"), "n": 3} and isinstance(data["total"], Decimal)
    with pytest.raises(TransientError, match="not JSON"):
        parse_json(_response(content=b"<html>maintenance</html>"), dict, platform="p")
    with pytest.raises(TransientError, match="expected a dict"):
        parse_json(_response(content=b"[]"), dict, platform="p")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthFailed),
        (403, PermissionDenied),
        (404, NotFound),
        (410, NotFound),
        (408, TransientError),
        (422, ValidationFailed),
        (429, RateLimited),
        (503, RateLimited),
        (500, TransientError),
    ],
)
def test_default_table_maps_each_status_to_one_class(status, cls):
    error = ErrorTable("p").error_for(_response(status, b'{"code": "x", "message": "no"}'))
    assert type(error) is cls
    assert error.status_code == status and error.code == "x" and error.platform == "p"
    assert "p: GET /api/orders" in str(error) and "x: no" in str(error)


def test_a_platform_rule_comes_before_the_defaults():
    table = ErrorTable("p")

    @table.rule
    def quota(response, refusal):
        if refusal.code == "quota":
            return RateLimited(refusal.text, retry_after=3600, **refusal.kw)
        return None

    error = table.error_for(_response(400, b'{"code": "quota", "message": "day"}'))
    assert isinstance(error, RateLimited) and error.retry_after == 3600
    assert isinstance(table.error_for(_response(400, b"{}")), ValidationFailed)


def test_a_platform_advice_replaces_the_generic_hint_of_its_status():
    table = ErrorTable("p", advice={401: "create a new API token"})
    refused = table.error_for(_response(401, b'{"message": "bad token"}'))
    assert isinstance(refused, AuthFailed) and str(refused).endswith("; create a new API token")
    assert "credentials were refused" not in str(refused)
    assert "lack this permission" in str(table.error_for(_response(403)))  # others: defaults


def test_rate_limited_carries_an_http_date_retry_after():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    error = ErrorTable("p").error_for(_response(429, b"", **{"Retry-After": when}))
    assert isinstance(error, RateLimited) and 85 <= error.retry_after <= 90


def test_hmac_verifies_in_either_encoding_and_during_rotation():
    body = b'{"id": 1}'
    for encoding in ("base64", "hex"):
        good = hmac_sha256("s3cret", body, encoding)
        verify_hmac_sha256(SecretStr("s3cret"), body, good, encoding=encoding)
        with pytest.raises(WebhookRejected, match="does not match"):
            verify_hmac_sha256("s3cret", body + b" ", good, encoding=encoding)
    verify_hmac_sha256(["old", "new"], body, hmac_sha256("new", body))
    with pytest.raises(WebhookRejected, match="missing"):
        verify_hmac_sha256("s3cret", body, None)
    for unset in (None, []):  # an optional webhook secret left unset refuses every delivery
        with pytest.raises(WebhookRejected, match="no webhook secret is configured"):
            verify_hmac_sha256(unset, body, hmac_sha256("", body))


def test_bearer_auth_sets_the_header_and_hides_the_token():
    auth = BearerAuth(SecretStr("tok-123"))
    request = next(auth.auth_flow(httpx.Request("GET", "https://x")))
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert "tok-123" not in repr(auth)


def test_numbered_pages_stop_at_the_stated_total_or_an_empty_page():
    calls: list[int] = []

    async def fetch(n: int) -> list[int]:
        calls.append(n)
        return [n] if n <= 5 else []

    async def collect(**kw) -> list[list[int]]:
        return [p async for p in numbered_pages(fetch, **kw)]

    assert anyio.run(lambda: collect(total_pages=lambda _p: 3)) == [[1], [2], [3]]
    calls.clear()
    assert anyio.run(collect) == [[1], [2], [3], [4], [5]] and calls[-1] == 6


def test_cursor_pages_follow_the_cursor_and_refuse_a_loop():
    pages = {None: ("a", [1]), "a": ("b", [2]), "b": (None, [3])}

    async def fetch(cursor):
        return pages[cursor]

    async def collect(source):
        return [p[1] async for p in cursor_pages(source, lambda p: p[0], platform="p")]

    assert anyio.run(lambda: collect(fetch)) == [[1], [2], [3]]

    async def stuck(cursor):
        return ("same", [0])

    with pytest.raises(TransientError, match="came back twice"):
        anyio.run(lambda: collect(stuck))


def test_has_more_pages_stop_when_the_flag_drops():
    async def fetch(n):
        return {"n": n, "more": n < 3}

    async def collect():
        return [p["n"] async for p in has_more_pages(fetch, lambda p: p["more"])]

    assert anyio.run(collect) == [1, 2, 3]


class _Empty(BaseModel):
    pass


def _kit(handler) -> KitClient:
    context = ConnectorContext(
        "t/c", "t", _Empty(), _Empty(), transport=httpx.MockTransport(handler)
    )
    policy = RetryPolicy(attempts=3, initial=0.001, maximum=0.001, jitter=0)
    return KitClient(context, "https://shop.example", ErrorTable("p"), policy=policy)


def test_reads_are_retried_by_class_and_decoded_with_decimal_money():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if len(seen) == 1:
            return httpx.Response(500, json={"message": "hiccup"})
        return httpx.Response(200, content=b'{"total": 1.10}')

    async def go():
        client = _kit(handler)
        try:
            return await client.get_json("/orders", dict)
        finally:
            await client.aclose()

    assert anyio.run(go) == {"total": Decimal("1.10")} and seen == ["GET", "GET"]


def test_a_write_whose_answer_is_lost_is_not_sent_again():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        raise httpx.ReadTimeout("lost", request=request)

    async def go():
        client = _kit(handler)
        try:
            await client.send("POST", "/orders", json={"a": 1})
        finally:
            await client.aclose()

    with pytest.raises(OutcomeUnknown, match="may have been applied"):
        anyio.run(go)
    assert seen == ["POST"]


def test_a_refused_write_is_not_retried_blindly_but_a_rate_limit_is_waited_out():
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        if len(seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(502)

    async def go():
        client = _kit(handler)
        try:
            await client.send("POST", "/orders")
        finally:
            await client.aclose()

    with pytest.raises(TransientError):
        anyio.run(go)
    assert len(seen) == 2  # the 429 waited out once, the 502 not repeated
