"""``KitClient``: the HTTP client a connector gets from its ``ConnectorContext``.

It owns what every platform client used to write again: the transport seam, a timeout, the
auth flow, pacing by the account's rate limiter, transport failures as ``TransientError`` (or
``OutcomeUnknown`` for a write whose request may have arrived), error statuses through the
connector's ``ErrorTable``, and retries by error class (``ledgerbridge.retry``) on the
context's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import httpx

from ..contracts import ConnectorContext
from ..errors import OutcomeUnknown, QuotaExhausted, RateLimited, SyncError, TransientError
from ..limits import RateLimiter
from ..retry import DEFAULT_POLICY, RetryPolicy, call_with_retry
from .pacing import PacedTransport
from .responses import ErrorTable, parse_json

T = TypeVar("T")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Failures before the request left: the server certainly never saw it, whatever the method.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class KitClient:
    """``idempotent_methods``: the methods sending twice cannot change anything twice; a
    connector whose platform writes whole records by id with ``PUT`` adds it."""

    idempotent_methods: frozenset[str] = SAFE_METHODS

    def __init__(
        self,
        context: ConnectorContext,
        base_url: str,
        errors: ErrorTable,
        *,
        auth: httpx.Auth | None = None,
        timeout: float | httpx.Timeout = 30.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        headers: dict[str, str] | None = None,
        limiter: Callable[[], RateLimiter] | None = None,
    ) -> None:
        self.errors = errors
        self.policy = policy
        # a write is not repeated after a transport failure (its answer may be lost)
        self.write_policy = replace(policy, retry_transient=False)
        self.clock = context.clock
        self.limiter = limiter
        self.waits: list[tuple[str, float]] = []  # (error class, seconds) of each retry wait
        transport = context.transport
        if limiter is not None:
            transport = PacedTransport(transport or httpx.AsyncHTTPTransport(), limiter)
        self.http = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            transport=transport,
            timeout=timeout,
            headers=headers,
        )

    async def send(
        self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One call with retries by class; a 2xx response, else the table's error.

        A request that is not idempotent (POST...; ``idempotent=True`` for one that only moves
        a status) is not retried after a transport failure or a 5xx: its answer may be lost
        after the platform acted, so it raises ``OutcomeUnknown`` and the caller reads back
        before writing again.  It is retried when it certainly did not arrive (the connection
        was never made) or was refused before anything was done (a rate limit)."""
        return await self.send_and_read(method, path, _itself, idempotent=idempotent, **kwargs)

    async def send_and_read(
        self,
        method: str,
        path: str,
        read: Callable[[httpx.Response], T],
        *,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> T:
        """``send``, with ``read`` (decode, check an envelope) inside the retry loop: an error
        it raises is retried by class like an error status."""
        method = method.upper()
        safe = method in self.idempotent_methods if idempotent is None else idempotent
        policy = self.policy if safe else self.write_policy

        async def once() -> T:
            url = await self.url_for(path)
            try:
                response = await self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                raise self.in_transit(method, path, exc, safe) from exc
            try:
                if not response.is_success:
                    raise self.errors.error_for(response)
                return read(response)
            except SyncError as exc:
                raise self.refused(exc, method, path, safe) from None

        return await call_with_retry(once, policy, sleep=self.clock.sleep, on_wait=self._on_wait)

    async def url_for(self, path: str) -> str:
        """Where ``path`` is sent (relative to the base URL); a platform whose token names
        its API host answers with that host."""
        return path

    def in_transit(
        self, method: str, path: str, exc: httpx.TransportError, safe: bool
    ) -> TransientError:
        """A transport failure as an error class: never sent, safe to repeat, or unknown."""
        what = f"{self.errors.platform}: {method} {path}"
        if isinstance(exc, NEVER_SENT):
            return TransientError(
                f"{what}: connection failed ({type(exc).__name__}); the request was never sent",
                platform=self.errors.platform,
                details={"sent": False},
            )
        if safe:
            return TransientError(
                f"{what} failed: {type(exc).__name__}", platform=self.errors.platform
            )
        return OutcomeUnknown(
            f"{what} failed ({type(exc).__name__}) after it was sent; the request may have been "
            "applied: the outcome of the write is unknown",
            platform=self.errors.platform,
        )

    def refused(self, exc: SyncError, method: str, path: str, safe: bool) -> SyncError:
        """What an error answer means here: the limiter learns of a rate limit, and a write
        answered 5xx may have committed before failing (``OutcomeUnknown``)."""
        if isinstance(exc, RateLimited):
            self._tell_limiter(exc)
            return exc
        if isinstance(exc, TransientError) and not safe and not isinstance(exc, OutcomeUnknown):
            return OutcomeUnknown(
                f"{exc.message}; {method} {path} may have taken effect",
                platform=exc.platform,
                code=exc.code,
                platform_message=exc.platform_message,
                status_code=exc.status_code,
            )
        return exc

    def _tell_limiter(self, exc: RateLimited) -> None:
        """A refusal for the account's limits reaches every caller of the account."""
        if self.limiter is None:
            return
        limiter = self.limiter()
        if isinstance(exc, QuotaExhausted):
            limiter.quota_exhausted(exc.retry_after)
        elif exc.details.get("scope") == "in_flight":
            limiter.concurrency_refused()
        elif exc.retry_after:
            limiter.block(exc.retry_after)

    def _on_wait(self, exc: BaseException, seconds: float) -> None:
        self.waits.append((type(exc).__name__, seconds))

    async def get_json(self, path: str, expect: type = object, **params: Any) -> Any:
        response = await self.send("GET", path, params=params or None)
        return parse_json(response, expect, platform=self.errors.platform)

    async def aclose(self) -> None:
        await self.http.aclose()


def _itself(response: httpx.Response) -> httpx.Response:
    return response
