"""An async client for ``/wp-json/wc/v3``: auth, strict parsing, error classes, back-off.

Every call goes through ``ledgerbridge.retry.call_with_retry``: a host's 429/503
(with or without ``Retry-After``), 5xx and dropped connections are waited out
by policy; everything else is raised as its ``ledgerbridge.errors`` class.
``transport`` is httpx's test seam (an emulator in tests, None in production).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ledgerbridge.errors import AuthFailed, TransientError
from ledgerbridge.retry import DEFAULT_POLICY, RetryPolicy, call_with_retry

from .auth import OAuth1Auth, QueryCredentialsTransport, credentials, initial_mode
from .pagination import Page
from .responses import PLATFORM, TimedOut, error_for, parse_json
from .settings import WooCommerceSecrets, WooCommerceSettings

log = logging.getLogger(__name__)

API_PATH = "/wp-json/wc/v3"


class _NoRetry(Exception):
    """Carries an error past ``call_with_retry`` when the caller handles it itself."""

    def __init__(self, error: TimedOut) -> None:
        super().__init__(str(error))
        self.error = error


class WooClient:
    """Reads one store. ``mode`` is the auth mode in use (it can move from basic to query once)."""

    def __init__(
        self,
        settings: WooCommerceSettings,
        secrets: WooCommerceSecrets,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.mode = initial_mode(settings)
        self._key, self._secret = credentials(secrets)
        self._transport = transport
        self._policy = policy
        self._sleep = sleep
        self._fallback_tried = False
        self._http = self._build(self.mode)

    def _build(self, mode: str) -> httpx.AsyncClient:
        transport = self._transport
        auth: httpx.Auth | None = None
        if mode == "basic":
            auth = httpx.BasicAuth(self._key, self._secret)
        elif mode == "oauth1":
            auth = OAuth1Auth(self._key, self._secret)
        else:  # query
            transport = QueryCredentialsTransport(
                transport or httpx.AsyncHTTPTransport(), self._key, self._secret
            )
        return httpx.AsyncClient(
            base_url=self.settings.store_url + API_PATH,
            auth=auth,
            transport=transport,
            timeout=self.settings.timeout,
            headers={"Accept": "application/json", "User-Agent": "ledgerbridge-woocommerce"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(
        self, path: str, params: dict[str, Any], expect: type
    ) -> tuple[httpx.Response, Any]:
        try:
            response = await self._http.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise TimedOut(
                f"woocommerce: GET {path} timed out after {self.settings.timeout} s "
                f"(per_page={params.get('per_page', '-')})",
                platform=PLATFORM,
            ) from exc
        except httpx.TransportError as exc:  # refused and dropped connections
            raise TransientError(
                f"woocommerce: GET {path} failed in transport ({type(exc).__name__})",
                platform=PLATFORM,
            ) from exc
        if not response.is_success:
            raise error_for(response)
        # Parsed inside the retried call: an HTML page with status 200 is retried too.
        return response, parse_json(response, expect)

    async def _get(
        self, path: str, params: dict[str, Any], expect: type, *, retry_timeouts: bool = True
    ) -> tuple[httpx.Response, Any]:
        async def attempt() -> tuple[httpx.Response, Any]:
            try:
                return await self._send(path, params, expect)
            except TimedOut as exc:
                if retry_timeouts:
                    raise
                raise _NoRetry(exc) from exc

        try:
            return await self._get_with_fallback(attempt)
        except _NoRetry as wrapped:
            raise wrapped.error from None

    async def _get_with_fallback(
        self, attempt: Callable[[], Awaitable[tuple[httpx.Response, Any]]]
    ) -> tuple[httpx.Response, Any]:
        try:
            return await call_with_retry(attempt, self._policy, sleep=self._sleep)
        except AuthFailed:
            if self.settings.auth != "auto" or self.mode != "basic" or self._fallback_tried:
                raise
        # Some servers drop the Authorization header; WooCommerce documents the query
        # parameters as the fallback. Tried once; kept when it works.
        self._fallback_tried = True
        query_client = self._build("query")
        previous, self._http = self._http, query_client
        try:
            result = await call_with_retry(attempt, self._policy, sleep=self._sleep)
        except AuthFailed:
            self._http = previous
            await query_client.aclose()
            raise
        log.warning(
            "woocommerce %s: the server drops the Authorization header; using query-parameter "
            "credentials from now on",
            self.settings.store_key,
        )
        self.mode = "query"
        await previous.aclose()
        return result

    async def get_object(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        _, data = await self._get(path, params or {}, dict)
        result: dict[str, Any] = data
        return result

    async def get_page(
        self,
        path: str,
        params: dict[str, Any],
        page: int,
        per_page: int,
        *,
        retry_timeouts: bool = True,
    ) -> Page:
        """One page. ``retry_timeouts=False`` raises ``TimedOut`` at once, for a caller that
        would rather ask again for a smaller page than the same one again."""
        response, items = await self._get(
            path,
            {**params, "page": page, "per_page": per_page},
            list,
            retry_timeouts=retry_timeouts,
        )
        bad = [i for i, item in enumerate(items) if not isinstance(item, dict)]
        if bad:
            raise TransientError(
                f"woocommerce: {path} page {page} holds non-objects at positions {bad[:5]}",
                platform=PLATFORM,
            )
        return Page.from_response(items, response, page, per_page)
