"""HTTP client for Zoho Books v3: the kit's client with Zoho's envelope, codes and org.

One job: turn a call ("GET /invoices with these filters") into the envelope's
payload or one of ``ledgerbridge.errors``' classes.  It branches on HTTP status
and the envelope ``code``, never on ``message`` (Zoho's messages change).

The kit (``ledgerbridge.http.KitClient``) does the rest: the access token
(``auth.zoho_auth``: renewed early, once, and once more when Zoho refuses it),
pacing by the organisation's limiter, retries by error class on the context's clock.
Zoho Books has no idempotency key, so a ``POST`` that creates something (a document,
a payment, a refund, a credit application) is never re-sent after its outcome
became unknown -- a timeout once sent, a dropped connection, a 5xx that may have
committed: ``OutcomeUnknown`` is raised and the caller reads the target first.
It is retried only when it certainly did not take effect: the connection was
never made, Zoho throttled it (429), or refused the access token (401).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import httpx

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.errors import (
    AuthExpired,
    AuthFailed,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    QuotaExhausted,
    RateLimited,
    SyncError,
    TransientError,
    ValidationFailed,
)
from ledgerbridge.http import ErrorTable, KitClient, has_more_pages
from ledgerbridge.http.auth import RotatingTokenAuth
from ledgerbridge.http.responses import Refusal
from ledgerbridge.limits import RateLimiter
from ledgerbridge.retry import RetryPolicy

from .auth import AUTH_CODES
from .datacenters import trusted_api_domain
from .jsonmoney import dumps, loads

PLATFORM = "zohobooks"
PER_PAGE = 200
BLOCK_SECONDS = 60.0  # code 44: Zoho blocks the org for "at least a minute"
# Repeating one of these cannot change the books twice (PUT writes a whole record, by id or
# by unique key). POST can: it is idempotent only where the caller says so (status moves).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
ERRORS = ErrorTable(PLATFORM)


def classify(response: httpx.Response) -> dict[str, Any]:
    """The envelope of a successful call, or the error class the response means."""
    body = _envelope(response)
    if 200 <= response.status_code < 300 and body.get("code") == 0:
        return body
    raise _error(response, body)


@ERRORS.rule
def _zoho_error(response: httpx.Response, refusal: Refusal) -> SyncError:
    """Every error answer, by Zoho's envelope code first (the table's defaults never run)."""
    try:
        return _error(response, _envelope(response))
    except SyncError as exc:
        return exc


def _envelope(response: httpx.Response) -> dict[str, Any]:
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
    return body


def _error(response: httpx.Response, body: dict[str, Any]) -> SyncError:
    """The error class of an answer that is not a success; a rate limit says its scope
    (``details["scope"]``): the day's quota, the whole organisation, or calls in flight."""
    status = response.status_code
    code = body.get("code")
    message = str(body.get("message", ""))
    kw: dict[str, Any] = {
        "platform": PLATFORM,
        "code": code,
        "platform_message": message,
        "status_code": status,
    }
    if code == 45:
        reset = _float(response.headers.get("x-rate-limit-reset"))
        return QuotaExhausted(
            "Zoho Books daily API quota for this organisation is used up (code 45); "
            "the organisation's work waits until the quota resets",
            retry_after=reset,
            details={"scope": "day"},
            **kw,
        )
    if code == 44:
        return RateLimited(
            "Zoho Books blocked the organisation for exceeding 100 requests/minute (code 44)",
            retry_after=BLOCK_SECONDS,
            details={"scope": "organisation"},
            **kw,
        )
    if code == 1070:
        return RateLimited(
            "Zoho Books refused: too many requests in flight for the organisation (code 1070)",
            retry_after=None,
            details={"scope": "in_flight"},
            **kw,
        )
    if status == 429:
        return RateLimited(f"Zoho Books throttled the call (code {code})", **kw)
    if status == 401 or code in AUTH_CODES:
        return AuthExpired(f"Zoho Books rejected the access token (code {code})", **kw)
    if status == 403:
        return PermissionDenied(
            f"Zoho Books refused permission (code {code}): {message}; the Zoho user needs a role "
            "with access to this module in the organisation",
            **kw,
        )
    if status == 404 or code == 1002:
        return NotFound(f"Zoho Books: not found (code {code}): {message}", **kw)
    if status >= 500 or code == 1000:
        return TransientError(f"Zoho Books server error (code {code}): {message}", **kw)
    return ValidationFailed(f"Zoho Books rejected the request (code {code}): {message}", **kw)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


class ZohoClient(KitClient):
    """Authenticated calls to one Zoho Books organisation."""

    idempotent_methods = IDEMPOTENT_METHODS

    def __init__(
        self,
        context: ConnectorContext,
        *,
        tokens: RotatingTokenAuth,
        api_base: str,
        organization_id: str | None,
        limiter: Callable[[], RateLimiter],
        trusted_domains: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(
            context,
            api_base.rstrip("/"),
            ERRORS,
            auth=tokens,
            timeout=httpx.Timeout(30.0, connect=10.0),
            policy=RetryPolicy(attempts=6, max_wait=120.0),
            limiter=limiter,
        )
        self.tokens = tokens
        self.api_base = api_base.rstrip("/")
        self.organization_id = organization_id
        self._trusted = trusted_domains

    async def url_for(self, path: str) -> str:
        token = await self.tokens.token()
        if token.api_domain:
            # The token response's api_domain wins over configuration (facts doc §1.2).
            return f"{trusted_api_domain(token.api_domain, extra=self._trusted)}/books/v3{path}"
        return self.api_base + path

    def refused(self, exc: SyncError, method: str, path: str, safe: bool) -> SyncError:
        """Beyond the table: a refused token after the auth flow's renewal is for an operator,
        and a write answered 5xx may have committed before failing (no idempotency key)."""
        if isinstance(exc, AuthExpired):
            # The auth flow already renewed the token once and sent the call again.
            return AuthFailed(
                "Zoho Books rejected a freshly refreshed access token: the token lacks "
                "a scope for this call, access was revoked, or the organisation lives "
                "in another data centre",
                platform=PLATFORM,
                status_code=exc.status_code,
            )
        answered_5xx = not isinstance(exc, RateLimited | OutcomeUnknown)
        if isinstance(exc, TransientError) and answered_5xx and not safe:
            return OutcomeUnknown(
                f"{exc.message}; {method} {path} may have taken effect",
                platform=PLATFORM,
                code=exc.code,
                platform_message=exc.platform_message,
                status_code=exc.status_code,
            )
        return super().refused(exc, method, path, safe)

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
        """One API call with retries by error class (see the module docstring).

        ``idempotent``: sending it twice cannot change the books twice -- GET, PUT and
        DELETE by default; a POST that only moves a document's status passes ``True``."""
        query = dict(params or {})
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
        send_headers = dict(headers or {})
        if content is not None:
            send_headers["Content-Type"] = "application/json"
        _, envelope = await self.request(
            method,
            path,
            read=classify,
            idempotent=bool(idempotent),
            params=query,
            content=content,
            headers=send_headers,
        )
        return cast(dict[str, Any], envelope)

    async def pages(
        self, path: str, key: str | tuple[str, ...], params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every row of a list, ``per_page=200``, following ``page_context.has_more_page``."""
        keys = (key,) if isinstance(key, str) else key
        rows: list[dict[str, Any]] = []

        async def page(number: int) -> dict[str, Any]:
            return await self.call(
                "GET", path, params={**(params or {}), "page": number, "per_page": PER_PAGE}
            )

        async for body in has_more_pages(page, more_pages):
            for candidate in keys:
                if candidate in body:
                    rows.extend(body[candidate] or [])
                    break
        return rows


def more_pages(body: dict[str, Any]) -> bool:
    """``page_context.has_more_page`` of a list answer."""
    context = body.get("page_context") or {}
    if isinstance(context, list):  # spec defect 1: typed as an array
        context = context[0] if context else {}
    return bool(context.get("has_more_page"))
