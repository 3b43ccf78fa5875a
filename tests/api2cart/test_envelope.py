"""Every documented return code lands in the right ledgerbridge error class."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from ledgerbridge.errors import (
    AuthFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from ledgerbridge_api2cart.client import ERRORS
from ledgerbridge_api2cart.envelope import open_envelope
from tests.conftest import refdata


@pytest.mark.parametrize(
    ("code", "cls", "retryable", "operator"),
    [
        (1, TransientError, True, False),
        (2, AuthFailed, False, True),
        (3, ValidationFailed, False, False),
        (4, AuthFailed, False, True),
        (5, PermissionDenied, False, True),
        (6, AuthFailed, False, True),
        (7, RateLimited, True, False),
        (8, Conflict, False, False),
        (9, TransientError, True, False),
        (10, RateLimited, True, False),
        (100, AuthFailed, False, True),
        (101, AuthFailed, False, True),
        (104, AuthFailed, False, True),
        (105, TransientError, True, False),
        (106, TransientError, True, False),
        (107, TransientError, True, False),
        (109, ValidationFailed, False, False),
        (110, RateLimited, True, False),
        (111, ValidationFailed, False, False),
        (112, NotFound, False, False),
        (113, Conflict, False, False),
        (114, ValidationFailed, False, False),
        (999, ValidationFailed, False, False),
    ],
)
def test_return_codes_map_to_classes(code, cls, retryable, operator):
    payload = {"return_code": code, "return_message": "said the platform", "result": None}
    with pytest.raises(cls) as caught:
        open_envelope(payload, method="order.list")
    error = caught.value
    assert type(error) is cls
    assert error.retryable is retryable and error.needs_operator is operator
    assert error.code == str(code) and error.platform_message == "said the platform"
    assert "order.list" in str(error) and "said the platform" in str(error)


def test_account_limit_waits_the_configured_backoff():
    with pytest.raises(RateLimited) as caught:
        open_envelope({"return_code": 10, "return_message": ""}, method="x", account_backoff=90)
    assert caught.value.retry_after == 90


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("amazonsp__batch.job.result__error-not-found.response.json", NotFound),
        ("amazonsp__category.find__error-no-find-value.response.json", ValidationFailed),
        ("etsyapiv3__order.shipment.list__error-invalid-param.response.json", ValidationFailed),
    ],
)
def test_captured_error_envelopes(name, cls):
    body = refdata("api2cart-examples", name).read_bytes()
    with pytest.raises(cls):
        open_envelope(json.loads(body, parse_float=Decimal), method="m")


def test_success_opens_result_and_cursor():
    payload = {
        "return_code": 0,
        "return_message": "",
        "pagination": {"next": "a%2Fb"},
        "result": {},
    }
    envelope = open_envelope(payload, method="order.list")
    assert envelope.next_cursor == "a%2Fb" and envelope.result == {}


@pytest.mark.parametrize(
    ("body", "status", "cls"),
    [
        (b"<html>502 Bad Gateway</html>", 502, TransientError),
        (b"<html>oops</html>", 200, TransientError),
        (b'{"result": {}}', 200, TransientError),
        (b"", 429, RateLimited),
    ],
)
def test_gateway_answers_are_transient(harness, body, status, cls):
    """Any status but 200 is the gateway's (the client's error table); a 200 whose body is
    not the JSON envelope too (the client's reader)."""
    request = httpx.Request("GET", "http://api2cart.test/v1.1/order.list.json")
    response = httpx.Response(status, content=body, request=request)
    with pytest.raises(cls):
        if status != 200:
            raise ERRORS.error_for(response)
        harness.source().client._open("order.list", response)
