"""Turn a WooCommerce HTTP response into data or into one class of ``ledgerbridge.errors``.

WooCommerce errors are ``{"code", "message", "data": {"status"}}``; hosts and
WAFs in front of WordPress add their own (HTML pages, 429/503 with or without
``Retry-After``, ModSecurity's 501).  The engine acts on the class alone, so
every status ends up as exactly one class here.  A success that is not the JSON
we expect (a PHP warning before the body, a maintenance page with status 200)
is a retryable error -- never an empty page.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from ledgerbridge.errors import (
    AuthFailed,
    NotFound,
    PermissionDenied,
    RateLimited,
    SyncError,
    TransientError,
    ValidationFailed,
)
from ledgerbridge.http import retry_after

PLATFORM = "woocommerce"


class RouteMissing(NotFound):
    """``rest_no_route``: WooCommerce inactive, permalinks not pretty, wrong base URL, or a
    route newer than the site (``/refunds`` before 9.0). A configuration problem, not a record."""

    needs_operator = True


class TimedOut(TransientError):
    """The host did not answer in time -- on WordPress usually a page too large for its PHP
    limits, so readers halve ``per_page`` before trying again."""


class StoreTooOld(SyncError):
    """The store ignored ``modified_after`` (WooCommerce before the filter existed):
    incremental reads cannot be trusted on it. Someone must upgrade or switch to full scans."""

    needs_operator = True


def parse_json(response: httpx.Response, expect: type) -> Any:
    """The body as JSON of type ``expect`` (money as Decimal), or a TransientError saying why."""
    try:
        data = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        snippet = response.text[:80].replace("\n", " ")
        raise TransientError(
            f"woocommerce: {response.request.method} {response.request.url.path} answered "
            f"{response.status_code} with a body that is not JSON ({snippet!r}...); "
            "a host error page or PHP warning -- retrying",
            platform=PLATFORM,
            status_code=response.status_code,
        ) from None
    if not isinstance(data, expect):
        raise TransientError(
            f"woocommerce: {response.request.url.path} returned a JSON {type(data).__name__}, "
            f"expected a {expect.__name__}",
            platform=PLATFORM,
            status_code=response.status_code,
        )
    return data


def error_for(response: httpx.Response) -> SyncError:
    """The ledgerbridge error a non-2xx WooCommerce (or host) response stands for."""
    status = response.status_code
    code: str | None = None
    message: str | None = None
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body["code"]) if body.get("code") is not None else None
        message = str(body["message"]) if body.get("message") is not None else None
    where = f"{response.request.method} {response.request.url.path}"
    said = f"{code}: {message}" if code else (message or response.reason_phrase)
    text = f"woocommerce: {where} -> {status} ({said})"
    kw: dict[str, Any] = {
        "platform": PLATFORM,
        "code": code,
        "platform_message": message,
        "status_code": status,
    }
    if status in (429, 503):
        return RateLimited(text + "; backing off", retry_after=retry_after(response), **kw)
    if status == 401:
        return AuthFailed(text + "; check the consumer key/secret and their permission", **kw)
    if status == 403:
        return PermissionDenied(text + "; the key's user lacks this capability", **kw)
    if status == 404 and code == "rest_no_route":
        return RouteMissing(
            text + "; is WooCommerce active with pretty permalinks, and is store_url right?", **kw
        )
    if status in (404, 410):
        return NotFound(text, **kw)
    if status == 501:
        return PermissionDenied(text + "; blocked or unsupported by the host (WAF?)", **kw)
    if status >= 500:
        return TransientError(text, **kw)
    return ValidationFailed(text, **kw)
