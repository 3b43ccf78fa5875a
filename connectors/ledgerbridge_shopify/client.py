"""The GraphQL Admin API client: one POST per query, every outcome classified.

* Auth is an ``httpx.Auth`` flow (``auth.ShopifyAuth``) adding ``X-Shopify-Access-Token``
  and refreshing an expiring token once on a 401.
* Each response is read from its *body* as well as its status: throttling can
  arrive as HTTP 200 with ``errors[].extensions.code == "THROTTLED"``
  (facts doc §4.1), and a 200 with other ``errors`` is a rejected query, never
  an empty page.
* Platform errors become ``ledgerbridge.errors`` classes; ``call_with_retry``
  retries by class (``RateLimited`` waits exactly the computed refill time).
* ``CostBudget`` paces requests from ``extensions.cost`` so reads stay inside
  the bucket.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from ledgerbridge.contracts import Clock
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
from ledgerbridge.retry import RetryPolicy, call_with_retry

from .mapping_common import PLATFORM, loads
from .throttle import CostBudget

log = logging.getLogger(__name__)

OLD_ORDERS_HINT = (
    "orders older than 60 days need the read_all_orders scope as well as read_orders; "
    "request it for the app (facts doc §2.4)"
)


class ShopifyClient:
    """Talks to ``/admin/api/{version}/graphql.json`` of one shop."""

    def __init__(
        self,
        *,
        base_url: str,
        api_version: str,
        auth: httpx.Auth,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.endpoint = f"/admin/api/{api_version}/graphql.json"
        self.clock = clock
        self.budget = CostBudget()
        self.policy = policy or RetryPolicy(attempts=8, max_wait=300.0)
        self.stats: Counter[str] = Counter()
        self.paced_seconds = 0.0
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            auth=auth,
            timeout=timeout,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        # Bulk result files live on a signed storage URL: never send the token there.
        self._files = httpx.AsyncClient(transport=transport, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._files.aclose()

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        operation: str,
        expected_cost: float | None = None,
    ) -> dict[str, Any]:
        """Run one query and return its ``data``; waits, retries and classifies on the way."""

        def waited(exc: BaseException, seconds: float) -> None:
            self.stats["waits"] += 1
            log.info("shopify %s: %s; waiting %.2fs", operation, type(exc).__name__, seconds)

        return await call_with_retry(
            lambda: self._attempt(query, variables or {}, operation, expected_cost),
            self.policy,
            sleep=self.clock.sleep,
            on_wait=waited,
        )

    async def _attempt(
        self, query: str, variables: dict[str, Any], operation: str, expected: float | None
    ) -> dict[str, Any]:
        pause = self.budget.wait_before(operation, self.clock.now(), expected)
        if pause > 0:
            self.stats["paced"] += 1
            self.paced_seconds += pause
            await self.clock.sleep(pause)
        self.stats["requests"] += 1
        try:
            response = await self._http.post(
                self.endpoint, json={"query": query, "variables": variables}
            )
        except httpx.TransportError as exc:
            self.stats["transport_errors"] += 1
            raise TransientError(
                f"shopify {operation}: {type(exc).__name__} talking to the shop", platform=PLATFORM
            ) from exc
        return self._classify(response, operation)

    def _classify(self, response: httpx.Response, operation: str) -> dict[str, Any]:
        status = response.status_code
        try:
            body = loads(response.content) if response.content else None
        except ValueError:
            body = None
        cost = body.get("extensions", {}).get("cost") if isinstance(body, dict) else None
        self.budget.observe(cost, self.clock.now(), operation)
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and any(_code(e) == "THROTTLED" for e in errors):
            self.stats["throttled"] += 1
            raise RateLimited(
                f"shopify {operation}: throttled (query cost exceeds what the bucket holds)",
                retry_after=CostBudget.throttled_wait(cost) or 1.0,
                platform=PLATFORM,
                code="THROTTLED",
                status_code=status,
            )
        if status >= 400:
            self.stats["failed"] += 1
            raise _http_error(status, response, body, operation)
        if not isinstance(body, dict):
            self.stats["failed"] += 1
            raise TransientError(
                f"shopify {operation}: HTTP {status} with a body that is not JSON",
                platform=PLATFORM,
                status_code=status,
            )
        if errors:
            self.stats["failed"] += 1
            raise _graphql_error(errors, operation)
        data = body.get("data")
        if not isinstance(data, dict):
            self.stats["failed"] += 1
            raise ValidationFailed(
                f"shopify {operation}: response has no data", platform=PLATFORM, status_code=status
            )
        self.stats["cost"] += int((cost or {}).get("actualQueryCost") or 0)
        return data

    async def get_rest(self, path: str, *, operation: str) -> dict[str, Any]:
        """``GET /admin/api/{version}/{path}`` of the REST Admin API (legacy, still served:
        facts doc §1.1, §1.3), retried and classified like the GraphQL calls; REST has no
        cost extension, so only status codes and the body's JSON shape are read."""

        def waited(exc: BaseException, seconds: float) -> None:
            self.stats["waits"] += 1
            log.info("shopify %s: %s; waiting %.2fs", operation, type(exc).__name__, seconds)

        url = f"{self.endpoint.rsplit('/', 1)[0]}/{path.lstrip('/')}"
        return await call_with_retry(
            lambda: self._rest_attempt(url, operation),
            self.policy,
            sleep=self.clock.sleep,
            on_wait=waited,
        )

    async def _rest_attempt(self, url: str, operation: str) -> dict[str, Any]:
        self.stats["requests"] += 1
        try:
            response = await self._http.get(url)
        except httpx.TransportError as exc:
            self.stats["transport_errors"] += 1
            raise TransientError(
                f"shopify {operation}: {type(exc).__name__} talking to the shop", platform=PLATFORM
            ) from exc
        try:
            body = loads(response.content) if response.content else None
        except ValueError:
            body = None
        if response.status_code >= 400:
            self.stats["failed"] += 1
            raise _http_error(response.status_code, response, body, operation)
        if not isinstance(body, dict):
            self.stats["failed"] += 1
            raise TransientError(
                f"shopify {operation}: HTTP {response.status_code} with a body that is not a "
                "JSON object",
                platform=PLATFORM,
                status_code=response.status_code,
            )
        return body

    @asynccontextmanager
    async def download(self, url: str) -> AsyncIterator[httpx.Response]:
        """Stream a bulk result file (no token: it is a pre-signed URL)."""
        try:
            async with self._files.stream("GET", url) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _http_error(response.status_code, response, None, "bulk download")
                yield response
        except httpx.TransportError as exc:
            raise TransientError(
                f"shopify bulk download: {type(exc).__name__}", platform=PLATFORM
            ) from exc


def _code(error: Any) -> str | None:
    if isinstance(error, dict):
        ext = error.get("extensions") or {}
        return ext.get("code") if isinstance(ext, dict) else None
    return None


def _message(body: Any) -> str | None:
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, str):
            return errors
        if isinstance(errors, list) and errors:
            return "; ".join(
                str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
            )
    return None


def _http_error(status: int, response: httpx.Response, body: Any, operation: str) -> SyncError:
    said = _message(body)
    kw: dict[str, Any] = {"platform": PLATFORM, "status_code": status, "platform_message": said}
    where = f"shopify {operation}: HTTP {status}"
    if status == 401:
        return AuthFailed(
            f"{where}: the access token is missing, wrong or revoked (app uninstalled?); reconnect",
            **kw,
        )
    if status == 402:
        return PermissionDenied(f"{where}: the shop is frozen for an unpaid bill", **kw)
    if status == 403:
        return PermissionDenied(f"{where}: the app lacks a scope for this read", **kw)
    if status == 404:
        return NotFound(f"{where}: wrong shop domain or API version", **kw)
    if status == 423:
        return PermissionDenied(f"{where}: the shop is locked", **kw)
    if status in {429, 430}:
        # Seconds or an HTTP date (RFC 9110); float() of a date used to crash the read.
        return RateLimited(f"{where}: too many requests", retry_after=retry_after(response), **kw)
    if status >= 500:
        return TransientError(f"{where}: server error", **kw)
    return ValidationFailed(f"{where}: request rejected", **kw)


def _graphql_error(errors: list[Any], operation: str) -> SyncError:
    message = _message({"errors": errors}) or "unknown error"
    codes = {_code(e) for e in errors}
    kw: dict[str, Any] = {"platform": PLATFORM, "platform_message": message}
    if "ACCESS_DENIED" in codes:
        hint = f"; {OLD_ORDERS_HINT}" if "read_all_orders" in message else ""
        return PermissionDenied(
            f"shopify {operation}: access denied ({message}){hint}", code="ACCESS_DENIED", **kw
        )
    if "MAX_COST_EXCEEDED" in codes:
        cost = next(
            (
                e.get("extensions", {}).get("cost")
                for e in errors
                if _code(e) == "MAX_COST_EXCEEDED"
            ),
            None,
        )
        kw["details"] = {"cost": cost}
        return ValidationFailed(
            f"shopify {operation}: query cost exceeds Shopify's single-query limit ({message}); "
            "lower the page size",
            code="MAX_COST_EXCEEDED",
            **kw,
        )
    if "INTERNAL_SERVER_ERROR" in codes:
        return TransientError(f"shopify {operation}: {message}", code="INTERNAL_SERVER_ERROR", **kw)
    return ValidationFailed(
        f"shopify {operation}: query rejected ({message})",
        code=next((c for c in codes if c), None),
        **kw,
    )
