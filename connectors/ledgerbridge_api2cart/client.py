"""HTTP client for API2Cart v1.1: auth headers, envelope, errors, throttling.

One client per store key.  Every call goes through ``call_with_retry`` so
throttling (return codes 7/10/110) and gateway errors are waited out by policy,
and through a ``Pacer`` so that a store that said "slow down" gets fewer
requests per second afterwards instead of failing the run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from ledgerbridge.errors import AuthFailed, RateLimited, TransientError
from ledgerbridge.retry import DEFAULT_POLICY, RetryPolicy, call_with_retry

from .envelope import PLATFORM, RETURN_CODE_ACCOUNT_LIMIT, Envelope, decode, open_envelope

Params = Mapping[str, str | int | bool]


class Api2CartAuth(httpx.Auth):
    """Adds ``x-api-key`` (the account) and ``x-store-key`` (one connected store)."""

    def __init__(self, api_key: SecretStr, store_key: SecretStr | None) -> None:
        self._api_key = api_key
        self._store_key = store_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-api-key"] = self._api_key.get_secret_value()
        if self._store_key is not None:
            request.headers["x-store-key"] = self._store_key.get_secret_value()
        yield request


@dataclass
class Pacer:
    """Spaces requests out after the store throttled us, and relaxes again on success.

    API2Cart publishes no numbers, so the interval is learnt: it doubles on each
    throttle answer (up to ``maximum``) and halves on each success.
    """

    initial: float = 0.5
    maximum: float = 8.0
    interval: float = 0.0
    waits: list[float] = field(default_factory=list)

    def throttled(self) -> None:
        self.interval = min(self.maximum, max(self.initial, self.interval * 2))

    def succeeded(self) -> None:
        self.interval = 0.0 if self.interval <= self.initial else self.interval / 2

    async def wait(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        if self.interval > 0:
            self.waits.append(self.interval)
            await sleep(self.interval)


@dataclass
class AccountGate:
    """What every client of one API key in this process shares: the account-wide pause.

    Return code 10 means the *account* is over its limit, so every store under that key
    waits -- not only the one that was told.  Keyed by a hash of the key, never the key.
    """

    paused_until: float = 0.0


_GATES: dict[str, AccountGate] = {}


def account_gate(api_key: SecretStr) -> AccountGate:
    digest = hashlib.sha256(api_key.get_secret_value().encode()).hexdigest()
    return _GATES.setdefault(digest, AccountGate())


def _bool(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Api2CartClient:
    """Calls ``{base_url}/{method}.json`` and returns the opened envelope."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: SecretStr | None,
        store_key: SecretStr | None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]],
        now: Callable[[], float],
        policy: RetryPolicy = DEFAULT_POLICY,
        account_backoff: float = 60.0,
        timeout: float = 30.0,
        on_wait: Callable[[BaseException, float], None] | None = None,
    ) -> None:
        if api_key is None or not api_key.get_secret_value():
            raise AuthFailed(
                "API2Cart: no API key configured: set secrets.api_key for this connection",
                platform=PLATFORM,
            )
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            auth=Api2CartAuth(api_key, store_key),
            transport=transport,
            timeout=timeout,
            headers={"accept": "application/json"},
        )
        self._sleep = sleep
        self._now = now
        self.gate = account_gate(api_key)
        self._policy = policy
        self._account_backoff = account_backoff
        self._on_wait = on_wait
        self.pacer = Pacer()
        self.calls = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, method: str, params: Params | None = None) -> Envelope:
        query = urlencode({k: _bool(v) for k, v in (params or {}).items()})
        return await self._call(method, "GET", query=query)

    async def get_page(self, method: str, cursor: str) -> Envelope:
        """The next page: ``page_cursor`` alone, verbatim (it is already percent-encoded)."""
        return await self._call(method, "GET", query=f"page_cursor={cursor}")

    async def post(self, method: str, body: Mapping[str, Any]) -> Envelope:
        return await self._call(method, "POST", body=dict(body))

    async def _call(
        self, method: str, verb: str, *, query: str = "", body: dict[str, Any] | None = None
    ) -> Envelope:
        url = f"{method}.json" + (f"?{query}" if query else "")

        async def attempt() -> Envelope:
            paused = self.gate.paused_until - self._now()
            if paused > 0:
                await self._sleep(paused)
            await self.pacer.wait(self._sleep)
            self.calls += 1
            try:
                response = await self._http.request(verb, url, json=body)
            except httpx.TimeoutException as exc:
                raise TransientError(
                    f"API2Cart {method}: timed out ({type(exc).__name__})", platform=PLATFORM
                ) from None
            except httpx.TransportError as exc:
                raise TransientError(
                    f"API2Cart {method}: connection failed ({type(exc).__name__})",
                    platform=PLATFORM,
                ) from None
            payload = decode(response.content, method=method, status_code=response.status_code)
            try:
                envelope = open_envelope(
                    payload, method=method, account_backoff=self._account_backoff
                )
            except RateLimited as exc:
                self.pacer.throttled()
                if exc.code == str(RETURN_CODE_ACCOUNT_LIMIT) and exc.retry_after:
                    until = self._now() + exc.retry_after
                    self.gate.paused_until = max(self.gate.paused_until, until)
                raise
            self.pacer.succeeded()
            return envelope

        return await call_with_retry(
            attempt, self._policy, sleep=self._sleep, on_wait=self._on_wait
        )
