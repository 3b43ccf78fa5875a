"""HTTP client for Zoho Books v3: auth header, organisation, envelope, errors, limits.

One job: turn a call ("GET /invoices with these filters") into the envelope's
payload or one of ``ledgerbridge.errors``' classes.  It branches on HTTP status
and the envelope ``code``, never on ``message`` (Zoho's messages change).

Zoho Books has no idempotency key, so a ``POST`` that creates something (a document,
a payment, a refund, a credit application) is never re-sent after its outcome
became unknown -- a timeout once sent, a dropped connection, a 5xx that may have
committed: ``OutcomeUnknown`` is raised and the caller reads the target first.
It is retried only when it certainly did not take effect: the connection was
never made, Zoho throttled it (429), or refused the access token (401).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ledgerbridge.contracts.context import Clock
from ledgerbridge.errors import (
    AuthExpired,
    AuthFailed,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    QuotaExhausted,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from ledgerbridge.retry import RetryPolicy, call_with_retry

from .auth import TokenManager
from .datacenters import trusted_api_domain
from .jsonmoney import dumps, loads
from .limits import RateLimiter

PLATFORM = "zohobooks"
PER_PAGE = 200
BLOCK_SECONDS = 60.0  # code 44: Zoho blocks the org for "at least a minute"
AUTH_CODES = frozenset({14, 57})
# Repeating one of these cannot change the books twice (PUT writes a whole record, by id or
# by unique key). POST can: it is idempotent only where the caller says so (status moves).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
# Failures before the request left: the server certainly never saw it.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class ZohoResponse:
    status_code: int
    body: dict[str, Any]
    headers: Mapping[str, str]


def classify(response: httpx.Response) -> dict[str, Any]:
    """The envelope of a successful call, or the error class the response means."""
    status = response.status_code
    try:
        body = loads(response.content) if response.content else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        if status >= 500 or status == 429:
            raise TransientError(
                f"Zoho Books answered HTTP {status} without a JSON envelope",
                platform=PLATFORM,
                status_code=status,
            )
        raise ValidationFailed(
            f"Zoho Books answered HTTP {status} with a body that is not a JSON object",
            platform=PLATFORM,
            status_code=status,
        )
    code = body.get("code")
    message = str(body.get("message", ""))
    if 200 <= status < 300 and code == 0:
        return body
    kw: dict[str, Any] = {
        "platform": PLATFORM,
        "code": code,
        "platform_message": message,
        "status_code": status,
    }
    if code == 45:
        reset = _float(response.headers.get("x-rate-limit-reset"))
        raise QuotaExhausted(
            "Zoho Books daily API quota for this organisation is used up (code 45); "
            "the organisation's work waits until the quota resets",
            retry_after=reset,
            **kw,
        )
    if code == 44:
        raise RateLimited(
            "Zoho Books blocked the organisation for exceeding 100 requests/minute (code 44)",
            retry_after=BLOCK_SECONDS,
            **kw,
        )
    if code == 1070:
        raise RateLimited(
            "Zoho Books refused: too many requests in flight for the organisation (code 1070)",
            retry_after=None,
            **kw,
        )
    if status == 429:
        raise RateLimited(f"Zoho Books throttled the call (code {code})", **kw)
    if status == 401 or code in AUTH_CODES:
        raise AuthExpired(f"Zoho Books rejected the access token (code {code})", **kw)
    if status == 403:
        raise PermissionDenied(
            f"Zoho Books refused permission (code {code}): {message}; the Zoho user needs a role "
            "with access to this module in the organisation",
            **kw,
        )
    if status == 404 or code == 1002:
        raise NotFound(f"Zoho Books: not found (code {code}): {message}", **kw)
    if status >= 500 or code == 1000:
        raise TransientError(f"Zoho Books server error (code {code}): {message}", **kw)
    raise ValidationFailed(f"Zoho Books rejected the request (code {code}): {message}", **kw)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


class ZohoClient:
    """Authenticated calls to one Zoho Books organisation."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        tokens: TokenManager,
        api_base: str,
        organization_id: str | None,
        limiter: Callable[[], RateLimiter],
        clock: Clock,
        policy: RetryPolicy | None = None,
        trusted_domains: frozenset[str] = frozenset(),
        honour_api_domain: bool = True,
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.api_base = api_base.rstrip("/")
        self.organization_id = organization_id
        self._limiter = limiter
        self.clock = clock
        self.policy = policy or RetryPolicy(attempts=6, max_wait=120.0)
        self._trusted = trusted_domains
        self._honour_api_domain = honour_api_domain
        self.waits: list[tuple[str, float]] = []

    def _base_for(self, api_domain: str | None) -> str:
        if api_domain and self._honour_api_domain:
            # The token response's api_domain wins over configuration (facts doc §1.2).
            return f"{trusted_api_domain(api_domain, extra=self._trusted)}/books/v3"
        return self.api_base

    async def _send_once(
        self,
        method: str,
        path: str,
        params: dict[str, Any],
        body: Any,
        headers: dict[str, str],
        with_org: bool,
        idempotent: bool,
    ) -> dict[str, Any]:
        limiter = self._limiter()
        query = dict(params)
        if str(query.get("organization_id", self.organization_id)) != str(self.organization_id):
            # The connection's own (bound) organisation only: never another one via params.
            raise PermissionDenied(
                f"refused: a call for organisation {query['organization_id']} on the "
                f"connection bound to organisation {self.organization_id}",
                platform=PLATFORM,
            )
        if with_org:
            if not self.organization_id:
                raise AuthFailed(
                    "no Zoho organization_id configured for this connection", platform=PLATFORM
                )
            query["organization_id"] = self.organization_id
        content = None if body is None else dumps(body).encode()
        send_headers = dict(headers)
        if content is not None:
            send_headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            token = await self.tokens.token()
            send_headers["Authorization"] = f"Zoho-oauthtoken {token.value}"
            url = self._base_for(token.api_domain) + path
            async with limiter.slot():
                try:
                    response = await self.http.request(
                        method, url, params=query, content=content, headers=send_headers
                    )
                except NEVER_SENT as exc:
                    raise TransientError(
                        f"Zoho Books {method} {path}: connection failed ({type(exc).__name__}); "
                        "the request was never sent",
                        platform=PLATFORM,
                    ) from None
                except httpx.TimeoutException as exc:
                    raise _sent_but_unanswered(
                        f"Zoho Books {method} {path} timed out ({type(exc).__name__})", idempotent
                    ) from None
                except httpx.TransportError as exc:
                    raise _sent_but_unanswered(
                        f"Zoho Books {method} {path}: the connection broke before the answer "
                        f"({type(exc).__name__})",
                        idempotent,
                    ) from None
            limiter.observe(response.headers)
            try:
                return classify(response)
            except AuthExpired:
                if attempt == 2:
                    raise AuthFailed(
                        "Zoho Books rejected a freshly refreshed access token: the token lacks "
                        "a scope for this call, access was revoked, or the organisation lives "
                        "in another data centre",
                        platform=PLATFORM,
                        status_code=response.status_code,
                    ) from None
                self.tokens.invalidate(token.value)
            except RateLimited as exc:
                if isinstance(exc, QuotaExhausted):
                    limiter.quota_exhausted(exc.retry_after)
                elif exc.code == "1070":
                    limiter.concurrency_refused()
                elif exc.retry_after:
                    limiter.block(exc.retry_after)
                raise
            except TransientError as exc:
                if idempotent:
                    raise
                # A 5xx after the request arrived: it may have committed before failing.
                raise OutcomeUnknown(
                    f"{exc.message}; {method} {path} may have taken effect",
                    platform=PLATFORM,
                    code=exc.code,
                    platform_message=exc.platform_message,
                    status_code=exc.status_code,
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _on_wait(self, exc: BaseException, seconds: float) -> None:
        self.waits.append((type(exc).__name__, seconds))

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        with_org: bool = True,
        idempotent: bool | None = None,
    ) -> dict[str, Any]:
        """One API call with retries by error class.

        ``idempotent``: whether sending the request twice cannot change the books twice.
        By default GET, PUT and DELETE are and POST is not; a POST that only moves a
        document's status (mark as sent, void) passes ``True``. A request that is not
        idempotent is retried only when it certainly did not take effect (connection never
        made, 429, refused token); otherwise ``OutcomeUnknown`` is raised at once, and
        the caller reads the target before deciding to send it again.
        """
        safe = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent

        async def attempt() -> dict[str, Any]:
            return await self._send_once(
                method, path, dict(params or {}), body, dict(headers or {}), with_org, safe
            )

        return await call_with_retry(
            attempt, self.policy, sleep=self.clock.sleep, on_wait=self._on_wait
        )

    async def pages(
        self, path: str, key: str | tuple[str, ...], params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every row of a list, ``per_page=200``, following ``page_context.has_more_page``."""
        keys = (key,) if isinstance(key, str) else key
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = await self.call(
                "GET", path, params={**(params or {}), "page": page, "per_page": PER_PAGE}
            )
            for candidate in keys:
                if candidate in body:
                    rows.extend(body[candidate] or [])
                    break
            context = body.get("page_context") or {}
            if isinstance(context, list):  # spec defect 1: typed as an array
                context = context[0] if context else {}
            if not context.get("has_more_page"):
                return rows
            page += 1


def _sent_but_unanswered(message: str, idempotent: bool) -> TransientError:
    """The request left and no answer came: safe to repeat, or an unknown outcome."""
    if idempotent:
        return TransientError(message, platform=PLATFORM)
    return OutcomeUnknown(f"{message}; the outcome of the write is unknown", platform=PLATFORM)


Sender = Callable[[], Awaitable[dict[str, Any]]]
