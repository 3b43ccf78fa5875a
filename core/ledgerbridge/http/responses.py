"""A platform's HTTP response turned into data or into exactly one ``ledgerbridge.errors`` class.

The engine acts on the error class alone (retry, park, stop for an operator), so the status
table is the one place a connector's error behaviour is decided.  The defaults below are what
HTTP itself means; a connector adds its platform's own codes as rules (``ErrorTable.rule``)
rather than writing the table again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ..errors import (
    AuthFailed,
    NotFound,
    PermissionDenied,
    RateLimited,
    SyncError,
    TransientError,
    ValidationFailed,
)

# The longest wait a Retry-After may ask for before we treat it as nonsense (a day).
MAX_RETRY_AFTER = 86_400.0


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds from ``Retry-After`` -- delta-seconds or an HTTP date (RFC 9110 §10.2.3);
    None when absent, malformed or absurd.  Never raises: a header is a hint, not data."""
    value = (response.headers.get("retry-after") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # some hosts send "1.5"; negative or NaN values are not a wait
        return min(seconds, MAX_RETRY_AFTER) if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    wait = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, wait), MAX_RETRY_AFTER)


def parse_json(response: httpx.Response, expect: type = object, *, platform: str = "") -> Any:
    """The body as JSON with every number that has a fraction as ``Decimal`` (money is never a
    float), checked to be of type ``expect``; a body that is not that JSON -- a host's error
    page, a PHP warning before the JSON -- is a ``TransientError`` saying so, never empty data."""
    where = f"{platform + ': ' if platform else ''}{response.request.method} "
    where += response.request.url.path
    try:
        data = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        snippet = response.text[:80].replace("\n", " ")
        raise TransientError(
            f"{where} answered {response.status_code} with a body that is not JSON "
            f"({snippet!r}...)",
            platform=platform or None,
            status_code=response.status_code,
        ) from None
    if not isinstance(data, expect):
        raise TransientError(
            f"{where} returned a JSON {type(data).__name__}, expected a {expect.__name__}",
            platform=platform or None,
            status_code=response.status_code,
        )
    return data


Rule = Callable[[httpx.Response, "Refusal"], SyncError | None]


@dataclass(frozen=True)
class Refusal:
    """What an error response said, as far as the platform's body format tells."""

    status: int
    code: str | None
    message: str | None
    text: str  # "<platform>: <METHOD> <path> -> <status> (<code>: <message>)"
    kw: dict[str, Any]  # platform, code, platform_message, status_code: for the error class


def _code_and_message(body: Any) -> tuple[str | None, str | None]:
    if not isinstance(body, dict):
        return None, None
    code = body.get("code", body.get("error_code"))
    message = body.get("message", body.get("error"))
    return (str(code) if code is not None else None), (
        str(message) if isinstance(message, str | int) else None
    )


@dataclass
class ErrorTable:
    """Status -> error class for one platform: HTTP's defaults, then the platform's rules.

    ``rules`` are tried first, in order; the first that returns an error wins.  ``reader``
    pulls ``(code, message)`` from a decoded error body (default: ``code``/``message`` keys).
    ``advice`` is what the platform's user should do about a status the defaults map
    (``{401: "create a new API token"}``): it replaces the default's generic hint, so a
    platform whose only rule is advice declares no rule.
    """

    platform: str
    rules: list[Rule] = field(default_factory=list)
    reader: Callable[[Any], tuple[str | None, str | None]] = _code_and_message
    # The class a request that timed out is raised as (a subclass lets a reader react to it,
    # e.g. by asking for smaller pages); other transport failures are ``TransientError``.
    timeout: type[TransientError] = TransientError
    advice: Mapping[int, str] = field(default_factory=dict)

    def rule(self, fn: Rule) -> Rule:
        """Decorator: add a platform rule (``@table.rule``)."""
        self.rules.append(fn)
        return fn

    def refusal(self, response: httpx.Response) -> Refusal:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        code, message = self.reader(body)
        said = f"{code}: {message}" if code else (message or response.reason_phrase)
        where = f"{response.request.method} {response.request.url.path}"
        text = f"{self.platform}: {where} -> {response.status_code} ({said})"
        kw: dict[str, Any] = {
            "platform": self.platform,
            "code": code,
            "platform_message": message,
            "status_code": response.status_code,
        }
        return Refusal(response.status_code, code, message, text, kw)

    def transport_error(
        self, method: str, path: str, exc: httpx.TransportError, seconds: float
    ) -> TransientError:
        """A request that got no answer: retryable, saying how it failed (never the URL's
        query, which may carry credentials)."""
        path = path.split("?", 1)[0]
        if isinstance(exc, httpx.TimeoutException):
            return self.timeout(
                f"{self.platform}: {method} {path} timed out after {seconds:g} s",
                platform=self.platform,
            )
        return TransientError(
            f"{self.platform}: {method} {path}: connection failed ({type(exc).__name__})",
            platform=self.platform,
        )

    def error_for(self, response: httpx.Response) -> SyncError:
        """The error a non-2xx response stands for."""
        refusal = self.refusal(response)
        for rule in self.rules:
            found = rule(response, refusal)
            if found is not None:
                return found
        return default_error(response, refusal, self.advice.get(refusal.status))


def default_error(
    response: httpx.Response, refusal: Refusal, advice: str | None = None
) -> SyncError:
    """What an HTTP status means when the platform says nothing more specific; ``advice``
    replaces the generic hint."""
    status, kw = refusal.status, refusal.kw

    def text(hint: str | None = None) -> str:
        hint = advice or hint
        return f"{refusal.text}; {hint}" if hint else refusal.text

    if status in {429, 503}:
        return RateLimited(text("backing off"), retry_after=retry_after(response), **kw)
    if status == 401:
        return AuthFailed(text("the credentials were refused"), **kw)
    if status == 403:
        return PermissionDenied(text("the credentials lack this permission"), **kw)
    if status in (404, 410):
        return NotFound(text(), **kw)
    if status >= 500 or status == 408:
        return TransientError(text(), **kw)
    return ValidationFailed(text(), **kw)
