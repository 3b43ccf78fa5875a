"""The kit's declared tables and headers: body return codes by class (``ReturnCodes``),
several secret headers (``SecretHeaders``) and a page-numbered list's "more pages?" rule."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr

from ledgerbridge.canonical.money import split_by_weights
from ledgerbridge.errors import (
    AuthFailed,
    RateLimited,
    TransientError,
    ValidationFailed,
    WebhookRejected,
)
from ledgerbridge.http import SecretHeaders
from ledgerbridge.http.pagination import header_count, more_numbered_pages
from ledgerbridge.http.return_codes import ReturnCodes
from ledgerbridge.http.signatures import verify_path_token


def table() -> ReturnCodes:
    codes = ReturnCodes("shop")
    codes.declare(RateLimited, {7: "slow down"})
    codes.declare(TransientError, {1: "service down", 9: "internal error"})
    codes.declare(
        AuthFailed, {2: "key rejected: check secrets.api_key"}, said="{meaning} [{message}]"
    )
    return codes


def test_a_declared_code_is_its_class_with_the_meaning_and_the_platforms_words():
    error = table().error(2, "bad key", "shop order.list: return_code 2")
    assert type(error) is AuthFailed
    assert (
        str(error)
        == "shop order.list: return_code 2: key rejected: check secrets.api_key [bad key]"
    )
    assert (error.platform, error.code, error.platform_message) == ("shop", "2", "bad key")
    assert type(table().error(9, "x", "w")) is TransientError  # retried by class


def test_extra_goes_to_the_error_and_an_undocumented_code_is_not_retried_blindly():
    limited = table().error(7, "too fast", "w", retry_after=60.0)
    assert isinstance(limited, RateLimited) and limited.retry_after == 60.0
    unknown = table().error(999, "??", "w")
    assert type(unknown) is ValidationFailed
    assert str(unknown) == "w: undocumented return code (??)"


def test_secret_headers_are_written_on_each_request_and_never_shown():
    auth = SecretHeaders({"x-api-key": SecretStr("k-123"), "x-store-key": None})
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        client.get("https://api.test/x")
    assert seen[0]["x-api-key"] == "k-123"
    assert "x-store-key" not in seen[0]  # None: not sent
    assert "k-123" not in repr(auth)


def page(headers: dict[str, str], number: int = 1) -> httpx.Response:
    request = httpx.Request("GET", f"https://shop.test/orders?page={number}")
    return httpx.Response(200, headers=headers, request=request)


NEXT = {"link": '<https://shop.test/orders?page=2>; rel="next"'}
LAST = {"link": '<https://shop.test/orders?page=1>; rel="prev"'}


@pytest.mark.parametrize(
    ("headers", "number", "count", "more"),
    [
        ({"x-total-pages": "3", **NEXT}, 1, 10, True),
        ({"x-total-pages": "3"}, 3, 10, False),  # the stated total reached
        ({"x-total-pages": "3", **LAST}, 1, 10, False),  # a Link header without next
        (NEXT, 1, 3, True),  # no total: the Link header decides, even on a short page
        (LAST, 1, 10, False),
        ({}, 1, 10, True),  # neither header (a cache stripped them): a full page
        ({}, 1, 9, False),  # ... and a short one is the last
        ({"x-total-pages": " garbage"}, 1, 9, False),  # an unreadable total is no total
    ],
)
def test_more_numbered_pages(headers: dict[str, str], number: int, count: int, more: bool):
    response = page(headers, number)
    assert (
        more_numbered_pages(response, number, 10, count, total_pages_header="x-total-pages") is more
    )


def test_header_count_reads_plain_numbers_only():
    assert header_count(page({"x-total": " 42 "}), "x-total") == 42
    assert header_count(page({"x-total": "4e2"}), "x-total") is None
    assert header_count(page({}), "x-total") is None


def test_a_path_token_is_the_last_segment_compared_in_constant_time():
    token = SecretStr("t0k3n")
    verify_path_token("/webhooks/t1/shop/t0k3n/", token, what="shop webhook", missing="set it")
    with pytest.raises(
        WebhookRejected, match="shop webhook: the callback URL token does not match"
    ):
        verify_path_token("/webhooks/t1/shop/t0k3n-2", token, what="shop webhook", missing="set it")
    with pytest.raises(WebhookRejected, match="set it"):
        verify_path_token("/webhooks/t1/shop/", None, what="shop webhook", missing="set it")


def test_split_by_weights_adds_up_exactly_in_whole_minor_units():
    parts = split_by_weights(Decimal("1.00"), [Decimal(1), Decimal(1), Decimal(1)], "EUR")
    assert parts == [Decimal("0.33"), Decimal("0.33"), Decimal("0.34")]
    assert split_by_weights(Decimal(5), [Decimal(2), Decimal(3)], "JPY") == [Decimal(2), Decimal(3)]
    assert split_by_weights(Decimal("2.50"), [Decimal(0), Decimal(0)], "EUR") == [
        Decimal("2.50"),
        Decimal(0),
    ]
