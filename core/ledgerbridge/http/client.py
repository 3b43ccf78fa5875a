"""``KitClient``: the HTTP client a connector gets from its ``ConnectorContext``.

It owns what every platform client used to write again: the transport seam, a timeout, the
auth flow, transport failures as ``TransientError`` (or ``OutcomeUnknown`` for a write whose
request may have arrived), error statuses through the connector's ``ErrorTable``, pacing by the
account's rate limiter (``limiter``), and retries by error class (``ledgerbridge.retry``) on the
context's clock.  A body is decoded inside the
retried call: a host's HTML page with status 200 is retried like a 503, never read as data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx

from ..contracts import ConnectorContext
from ..errors import OutcomeUnknown, QuotaExhausted, RateLimited, SyncError
from ..limits import RateLimiter
from ..retry import DEFAULT_POLICY, RetryPolicy, call_with_retry
from .pacing import PacedTransport
from .responses import ErrorTable, parse_json

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Failures before the request left: the server certainly never saw it, whatever the method.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _Unretried(Exception):
    """Carries an error past ``call_with_retry`` when the caller handles it itself."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


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
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        limiter: Callable[[], RateLimiter] | None = None,
    ) -> None:
        self.errors = errors
        self.policy = policy
        # a write is not repeated after a transport failure (its answer may be lost)
        self.write_policy = replace(policy, retry_transient=False)
        self.sleep = sleep or context.clock.sleep
        self.timeout = timeout
        self.limiter = limiter
        self.waits: list[tuple[str, float]] = []  # (error class, seconds) of each retry wait
        self._base = {"base_url": base_url, "timeout": timeout, "headers": headers}
        self._transport = context.transport
        if limiter is not None:  # every request paced, a resend by the auth flow too
            self._transport = PacedTransport(self._transport or httpx.AsyncHTTPTransport(), limiter)
        self.http = self._client(auth, transport or self._transport)

    def _client(
        self, auth: httpx.Auth | None, transport: httpx.AsyncBaseTransport | None
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(auth=auth, transport=transport, **self._base)  # type: ignore[arg-type]

    def reconnect(
        self,
        *,
        auth: httpx.Auth | None = None,
        wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
    ) -> httpx.AsyncClient:
        """Switch to another auth flow (or a transport wrapped around the context's, e.g. one
        that adds credentials below httpx); returns the previous client for the caller to
        close or restore."""
        transport = self._transport
        if wrap is not None:
            transport = wrap(transport or httpx.AsyncHTTPTransport())
        previous, self.http = self.http, self._client(auth, transport)
        return previous

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call with retries by class; a 2xx response, else the table's error.

        A request that is not safe (POST, PUT...) is not retried after a transport failure: its
        answer may be lost after the platform acted, so it raises ``OutcomeUnknown`` and the
        caller reads back before writing again."""
        response, _ = await self.request(method, path, **kwargs)
        return response

    async def request(
        self,
        method: str,
        path: str,
        *,
        expect: type | None = None,
        read: Callable[[httpx.Response], Any] | None = None,
        before: Callable[[], Awaitable[None]] | None = None,
        unretried: tuple[type[SyncError], ...] = (),
        idempotent: bool = False,
        **kwargs: Any,
    ) -> tuple[httpx.Response, Any]:
        """``send`` that also decodes the body -- as JSON of type ``expect``, or by ``read``
        (a platform's envelope) -- inside the retried call, so what ``read`` raises is retried
        by class too.  ``before`` runs ahead of every attempt (a platform's pacing).  Errors of
        the ``unretried`` classes are raised at once, for a caller that would rather ask
        differently (a smaller page after a timeout) than the same again.  ``idempotent``: a
        write the platform de-duplicates (an idempotency key) is retried like a read.  A write
        whose connection was never made is retried whatever it is."""
        method = method.upper()
        safe = idempotent or method in self.idempotent_methods
        policy = self.policy if safe else self.write_policy

        async def once() -> tuple[httpx.Response, Any]:
            if before is not None:
                await before()
            try:
                response, data = await self._once(method, path, safe, expect, kwargs)
                if read is None:
                    return response, data
                try:
                    return response, read(response)
                except SyncError as exc:
                    raise self.refused(exc, method, path, safe) from None
            except unretried as exc:
                raise _Unretried(exc) from exc

        try:
            return await call_with_retry(once, policy, sleep=self.sleep, on_wait=self._on_wait)
        except _Unretried as wrapped:
            raise wrapped.error from None

    async def _once(
        self, method: str, path: str, safe: bool, expect: type | None, kwargs: dict[str, Any]
    ) -> tuple[httpx.Response, Any]:
        try:
            response = await self.http.request(method, await self.url_for(path), **kwargs)
        except httpx.TransportError as exc:
            if isinstance(exc, NEVER_SENT):
                error = self.errors.transport_error(method, path, exc, self._seconds())
                error.details["sent"] = False  # retried even for a write: it never arrived
                raise error from exc
            if safe:
                raise self.errors.transport_error(method, path, exc, self._seconds()) from exc
            what = f"{self.errors.platform}: {method} {path} failed: {type(exc).__name__}"
            raise OutcomeUnknown(
                what + "; the request may have been applied: the outcome of the write is unknown",
                platform=self.errors.platform,
            ) from exc
        if not response.is_success:
            raise self.refused(self.errors.error_for(response), method, path, safe)
        if expect is None:
            return response, None
        return response, parse_json(response, expect, platform=self.errors.platform)

    def _seconds(self) -> float:
        timeout = self.timeout
        if isinstance(timeout, httpx.Timeout):
            return float(timeout.read or timeout.connect or 0.0)
        return float(timeout)

    async def url_for(self, path: str) -> str:
        """Where ``path`` is sent (relative to the base URL); a platform whose token names
        its API host answers with that host."""
        return path

    def refused(self, exc: SyncError, method: str, path: str, safe: bool) -> SyncError:
        """What an error answer means here; by default the limiter learns of a rate limit.
        A connector overrides it for what its platform's answers mean beyond the table."""
        if isinstance(exc, RateLimited):
            self._tell_limiter(exc)
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
        """The JSON body of a GET; a parameter whose value is None (a filter left unset) is
        not sent."""
        query = {name: value for name, value in params.items() if value is not None}
        _, data = await self.request("GET", path, expect=expect, params=query or None)
        return data

    async def aclose(self) -> None:
        await self.http.aclose()
