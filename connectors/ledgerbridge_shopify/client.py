"""The Admin API client: a ``KitClient`` whose error table knows Shopify's answers.

A GraphQL answer is read from its *body* as well as its status: throttling can arrive as HTTP
200 (or 429) with ``errors[].extensions.code == "THROTTLED"`` (facts doc §4.1) and waits
exactly the refill time ``extensions.cost`` implies; a 200 with other ``errors`` is a rejected
query, never an empty page.  Queries are reads: retried after a transport failure although
sent as POST.  ``CostBudget`` paces requests from ``extensions.cost``; REST reads
(``fetch_api: rest``) share the error table and have no cost extension.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.errors import (
    AuthFailed,
    NotFound,
    PermissionDenied,
    RateLimited,
    SyncError,
    TransientError,
    ValidationFailed,
)
from ledgerbridge.http import ErrorTable, KitClient, parse_json, retry_after
from ledgerbridge.http.graphql import error_code, error_text
from ledgerbridge.http.responses import Refusal
from ledgerbridge.retry import RetryPolicy

from .mapping_common import PLATFORM, loads
from .throttle import CostBudget

TIMEOUT = 30.0

OLD_ORDERS_HINT = (
    "orders older than 60 days need the read_all_orders scope as well as read_orders; "
    "request it for the app (facts doc §2.4)"
)
# Status -> class and what it means on Shopify (facts doc §4.2).
STATUSES: dict[int, tuple[type[SyncError], str]] = {
    401: (
        AuthFailed,
        "the access token is missing, wrong or revoked (app uninstalled?); reconnect",
    ),
    402: (PermissionDenied, "the shop is frozen for an unpaid bill"),
    403: (PermissionDenied, "the app lacks a scope for this read"),
    404: (NotFound, "wrong shop domain or API version"),
    423: (PermissionDenied, "the shop is locked"),
}


def http_error(response: httpx.Response, refusal: Refusal, operation: str = "") -> SyncError:
    """What a non-2xx status means on Shopify."""
    status = response.status_code
    where = f"shopify {operation or response.request.extensions.get('operation', '')}: "
    where += f"HTTP {status}"
    kw: dict[str, Any] = {
        "platform": PLATFORM,
        "status_code": status,
        "platform_message": refusal.message,
    }
    if status in STATUSES:
        cls, meaning = STATUSES[status]
        return cls(f"{where}: {meaning}", **kw)
    if status in {429, 430}:
        return RateLimited(f"{where}: too many requests", retry_after=retry_after(response), **kw)
    if status >= 500:
        return TransientError(f"{where}: server error", **kw)
    return ValidationFailed(f"{where}: request rejected", **kw)


ERRORS = ErrorTable(PLATFORM, rules=[http_error], reader=error_text)


class ShopifyClient(KitClient):
    """Talks to ``/admin/api/{version}/`` of one shop."""

    def __init__(
        self, context: ConnectorContext, base_url: str, api_version: str, auth: httpx.Auth
    ) -> None:
        self.clock = context.clock
        self.budget = CostBudget()
        self.stats: Counter[str] = Counter()
        self.paced_seconds = 0.0
        errors = ErrorTable(PLATFORM, rules=[self._throttled, self._failed], reader=error_text)
        super().__init__(
            context,
            base_url,
            errors,
            auth=auth,
            policy=RetryPolicy(attempts=8, max_wait=300.0),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        self.root = f"/admin/api/{api_version}"
        # Bulk result files live on a signed storage URL: never send the token there.
        self._files = httpx.AsyncClient(transport=context.transport, timeout=TIMEOUT)

    async def aclose(self) -> None:
        await super().aclose()
        await self._files.aclose()

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        operation: str,
        expected_cost: float | None = None,
    ) -> dict[str, Any]:
        """Run one query and return its ``data``; paces, retries and classifies on the way."""
        _, data = await self.request(
            "POST",
            f"{self.root}/graphql.json",
            json={"query": query, "variables": variables or {}},
            extensions={"operation": operation},
            read=lambda response: self._data(response, operation),
            before=self._attempts(operation, expected_cost),
            idempotent=True,
        )
        return dict(data)

    def _attempts(
        self, operation: str | None = None, expected_cost: float | None = None
    ) -> Callable[[], Awaitable[None]]:
        """The kit's ``before`` hook of one call: counts its requests and the retries the kit
        waited before (``stats``), then paces a GraphQL ``operation`` by the cost budget."""
        attempts = 0

        async def before() -> None:
            nonlocal attempts
            attempts += 1
            self.stats["requests"] += 1
            self.stats["waits"] += attempts > 1
            pause = 0.0
            if operation is not None:
                pause = self.budget.wait_before(operation, self.clock.now(), expected_cost)
            if pause > 0:
                self.stats["paced"] += 1
                self.paced_seconds += pause
                await self.clock.sleep(pause)

        return before

    def _throttled(self, response: httpx.Response, _refusal: Refusal) -> SyncError | None:
        """``ErrorTable`` rule: an error status whose body says the bucket is empty."""
        try:
            body = loads(response.content) if response.content else None
        except ValueError:
            body = None
        operation = response.request.extensions.get("operation", "")
        return self._throttle(body, response.status_code, operation)[1]

    def _throttle(
        self, body: Any, status: int, operation: str
    ) -> tuple[dict[str, Any] | None, SyncError | None]:
        """The answer's ``extensions.cost`` (taken in by the budget) and, when a GraphQL answer
        (any status) says the bucket is empty, the error that waits the refill time."""
        cost = body.get("extensions", {}).get("cost") if isinstance(body, dict) else None
        self.budget.observe(cost, self.clock.now(), operation)
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(errors, list) or not any(error_code(e) == "THROTTLED" for e in errors):
            return cost, None
        self.stats["throttled"] += 1
        return cost, RateLimited(
            f"shopify {operation}: throttled (query cost exceeds what the bucket holds)",
            retry_after=CostBudget.throttled_wait(cost) or 1.0,
            platform=PLATFORM,
            code="THROTTLED",
            status_code=status,
        )

    def _failed(self, response: httpx.Response, refusal: Refusal) -> SyncError:
        self.stats["failed"] += 1
        return http_error(response, refusal)

    def _data(self, response: httpx.Response, operation: str) -> dict[str, Any]:
        """The ``data`` of a 2xx GraphQL answer, or the error its body states."""
        try:
            body = parse_json(response, dict, platform=PLATFORM)
        except TransientError:
            self.stats["failed"] += 1
            raise
        cost, throttled = self._throttle(body, response.status_code, operation)
        if throttled is not None:
            raise throttled
        errors, data = body.get("errors"), body.get("data")
        if errors or not isinstance(data, dict):
            self.stats["failed"] += 1
            raise graphql_error(errors or [{"message": "response has no data"}], operation)
        self.stats["cost"] += int((cost or {}).get("actualQueryCost") or 0)
        return data

    async def get_rest(self, path: str, *, operation: str) -> dict[str, Any]:
        """``GET /admin/api/{version}/{path}`` of the REST Admin API (legacy, still served:
        facts doc §1.1, §1.3), retried and classified like the GraphQL calls."""
        _, body = await self.request(
            "GET",
            f"{self.root}/{path.lstrip('/')}",
            expect=dict,
            before=self._attempts(),
            extensions={"operation": operation},
        )
        return dict(body)

    @asynccontextmanager
    async def download(self, url: str) -> AsyncIterator[httpx.Response]:
        """Stream a bulk result file (no token: it is a pre-signed URL)."""
        try:
            async with self._files.stream(
                "GET", url, extensions={"operation": "bulk download"}
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise http_error(response, ERRORS.refusal(response))
                yield response
        except httpx.TransportError as exc:
            raise TransientError(
                f"shopify bulk download: {type(exc).__name__}", platform=PLATFORM
            ) from exc


def graphql_error(errors: list[Any], operation: str) -> SyncError:
    """The error a GraphQL ``errors`` list (HTTP 200) stands for."""
    message = error_text({"errors": errors})[1] or "unknown error"
    codes = {error_code(e) for e in errors}
    kw: dict[str, Any] = {"platform": PLATFORM, "platform_message": message}
    if "ACCESS_DENIED" in codes:
        hint = f"; {OLD_ORDERS_HINT}" if "read_all_orders" in message else ""
        return PermissionDenied(
            f"shopify {operation}: access denied ({message}){hint}", code="ACCESS_DENIED", **kw
        )
    if "MAX_COST_EXCEEDED" in codes:
        over = next(e for e in errors if error_code(e) == "MAX_COST_EXCEEDED")
        kw["details"] = {"cost": over["extensions"].get("cost")}
        return ValidationFailed(
            f"shopify {operation}: query cost exceeds Shopify's single-query limit ({message}); "
            "lower the page size",
            code="MAX_COST_EXCEEDED",
            **kw,
        )
    if "INTERNAL_SERVER_ERROR" in codes:
        return TransientError(f"shopify {operation}: {message}", code="INTERNAL_SERVER_ERROR", **kw)
    code = next((c for c in codes if c), None)
    return ValidationFailed(f"shopify {operation}: query rejected ({message})", code=code, **kw)
