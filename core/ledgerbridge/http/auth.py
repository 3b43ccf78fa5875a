"""Authentication as ``httpx.Auth`` flows (httpx's own design): a client is given an auth
object once and never sets a credential header by hand."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import anyio
import httpx
from pydantic import SecretStr

from ..contracts.context import CredentialStore, LockProvider

REFRESH_MARGIN = 300.0  # renew an access token this many seconds before it expires
API_DOMAIN_KEY = "api_domain"  # where a token response's API host is kept


class BearerAuth(httpx.Auth):
    """``Authorization: <scheme> <token>`` on every request; the token stays a ``SecretStr``
    until the header is written, so it never shows in a repr, a log line or an exception."""

    def __init__(
        self, token: SecretStr | str, scheme: str = "Bearer", header: str = "Authorization"
    ) -> None:
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        self._scheme = scheme
        self._header = header  # e.g. ``X-Shopify-Access-Token`` with no scheme

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = _credential(self._scheme, self._token.get_secret_value())
        yield request

    def __repr__(self) -> str:
        return f"BearerAuth(scheme={self._scheme!r}, token=**********)"


class SecretHeaders(httpx.Auth):
    """Fixed secret headers on every request, for a platform keyed by more than one header
    (API2Cart: ``x-api-key`` for the account, ``x-store-key`` for one store).  Values stay
    ``SecretStr`` until written, as in ``BearerAuth``; a None value is not sent."""

    def __init__(self, headers: dict[str, SecretStr | None]) -> None:
        self._headers = headers

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        for name, value in self._headers.items():
            if value is not None:
                request.headers[name] = value.get_secret_value()
        yield request

    def __repr__(self) -> str:
        return f"SecretHeaders({sorted(self._headers)!r}, values=**********)"


def _credential(scheme: str, token: str) -> str:
    return f"{scheme} {token}" if scheme else token


# Imported by name so type-checking does not depend on whether oauthlib's stubs are installed.
_oauth1: Any = importlib.import_module("oauthlib.oauth1")
# oauthlib logs every signed request's parameters -- the consumer key among them -- at
# DEBUG: a log configured for debugging must still hold no credential.
logging.getLogger("oauthlib").setLevel(max(logging.INFO, logging.getLogger("oauthlib").level))


class OAuth1Auth(httpx.Auth):
    """One-legged OAuth 1.0a (a consumer key and secret, no token), HMAC-SHA256, parameters in
    the ``Authorization`` header; a fresh nonce and timestamp per request, signed by oauthlib.
    Only the URL's query parameters are signed, not the body.  ``omit_version``: leave out
    ``oauth_version`` (optional in RFC 5849 §3.1; some platforms' docs say to omit it)."""

    omit_version: bool = False

    def __init__(self, consumer_key: str, consumer_secret: str) -> None:
        self._key = consumer_key
        self._secret = consumer_secret

    def _client(self) -> Any:
        omit = self.omit_version

        class Client(_oauth1.Client):  # type: ignore[misc]
            def get_oauth_params(self, request: Any) -> list[tuple[str, str]]:
                params: list[tuple[str, str]] = super().get_oauth_params(request)
                return [(k, v) for k, v in params if not (omit and k == "oauth_version")]

        return Client(
            self._key,
            client_secret=self._secret,
            signature_method=_oauth1.SIGNATURE_HMAC_SHA256,
            signature_type=_oauth1.SIGNATURE_TYPE_AUTH_HEADER,
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _, headers, _ = self._client().sign(str(request.url), request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request

    def __repr__(self) -> str:
        return f"{type(self).__name__}(consumer_key=**********)"


class QueryCredentials(httpx.AsyncBaseTransport):
    """Adds credentials as URL query parameters to a copy of each request, below httpx.

    For servers that drop the ``Authorization`` header: only the copy handed to the wrapped
    transport carries them, so httpx's request log, exceptions and recorded cassettes keep
    the clean URL."""

    def __init__(self, inner: httpx.AsyncBaseTransport, params: dict[str, str]) -> None:
        self._inner = inner
        self._params = params

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        signed = httpx.Request(
            request.method,
            request.url.copy_merge_params(self._params),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return await self._inner.handle_async_request(signed)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True)
class AccessToken:
    """A short-lived access token, what a refresh returns: the value, its wall-clock expiry
    (epoch seconds) and the API host the platform said to use with it, if it said one."""

    value: str = field(repr=False)
    expires_at: float
    api_domain: str | None = None
    refresh_token: str | None = field(default=None, repr=False)  # when refreshes rotate it

    def fresh(self, margin: float = REFRESH_MARGIN) -> bool:
        return time.time() < self.expires_at - margin


Refresh = Callable[[], Awaitable[AccessToken]]


class TokenStore(Protocol):
    """Where a platform keeps its current token (the credential store, in its own layout)."""

    async def load(self) -> AccessToken | None: ...

    async def save(self, token: AccessToken) -> None: ...


def refused_401(response: httpx.Response) -> bool:
    return response.status_code == 401


class RotatingTokenAuth(httpx.Auth):
    """OAuth access tokens that expire and are minted from a refresh token, as an auth flow.

    The platform part is one callable, ``refresh``, that asks the platform for a new token
    (``oauth2.TokenEndpoint`` makes the standard request).  What every such platform needs is
    here, once:

    * the token is cached and renewed ``margin`` seconds before it expires;
    * renewal is single-flight twice over: in this process an anyio lock with a second
      "still valid?" check after taking it, so concurrent tasks share one refresh; across
      processes a named lock from ``context.locks`` around re-reading the credential store
      (another process may have refreshed and saved a token) and refreshing -- platforms cap
      how many tokens a refresh token may mint (Zoho: 10 per 10 minutes);
    * tokens live in the credential store (``<key>``, ``<key>_expires_at``, ``api_domain``,
      or a platform's own layout through ``store``: ``oauth2.RotatingRefresh`` keeps a rotated
      refresh token and its access token as one value), never in a log line or an exception;
    * the token is sent as ``<header>: <scheme> <token>`` (no scheme: the bare token, as
      Shopify's ``X-Shopify-Access-Token``);
    * a response that ``rejected`` calls a refusal of the token (401; Zoho's code 57 with a
      403) invalidates it and the request is sent once more with a new one.  A second refusal
      goes back to the client, whose error table names it.
    """

    requires_response_body = True  # ``rejected`` may read an error envelope

    def __init__(
        self,
        refresh: Refresh,
        *,
        credentials: CredentialStore,
        locks: LockProvider,
        lock_name: str,
        scheme: str = "Bearer",
        margin: float = REFRESH_MARGIN,
        rejected: Callable[[httpx.Response], bool] = refused_401,
        key: str = "access_token",
        header: str = "Authorization",
        store: TokenStore | None = None,
    ) -> None:
        self._refresh = refresh
        self._credentials = credentials
        self._locks = locks
        self.lock_name = lock_name
        self._scheme = scheme
        self._margin = margin
        self._rejected = rejected
        self._key, self._expires_key = key, f"{key}_expires_at"
        self._header, self._store = header, store
        self._cached: AccessToken | None = None
        self._lock = anyio.Lock()
        self.refreshes = 0

    async def token(self) -> AccessToken:
        """A token valid for at least the margin, refreshing at most once at a time."""
        cached = self._cached
        if cached is not None and cached.fresh(self._margin):
            return cached
        async with self._lock:
            cached = self._cached
            if cached is not None and cached.fresh(self._margin):
                return cached  # another task refreshed while we waited
            async with self._locks.lock(self.lock_name, ttl=60.0):
                stored = await self._load_stored()
                if stored is not None and stored.fresh(self._margin) and stored != self._cached:
                    self._cached = stored  # another process refreshed while we waited
                    return stored
                self._cached = await self._refresh()
                self.refreshes += 1
                await self._save(self._cached)
                return self._cached

    def invalidate(self, used: str) -> None:
        """The platform refused ``used``: the next ``token()`` refreshes (unless another task
        already did)."""
        if self._cached is not None and self._cached.value == used:
            self._cached = replace(self._cached, expires_at=0.0)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.token()
        self._sign(request, token)
        response = yield request
        if self._rejected(response):
            self.invalidate(token.value)
            self._sign(request, await self.token())
            yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("RotatingTokenAuth refreshes asynchronously: use an AsyncClient")

    def _sign(self, request: httpx.Request, token: AccessToken) -> None:
        request.headers[self._header] = _credential(self._scheme, token.value)

    async def _load_stored(self) -> AccessToken | None:
        if self._store is not None:
            stored = await self._store.load()
            if (
                stored is not None
                and self._cached is not None
                and stored.value == self._cached.value
            ):
                return self._cached  # the one just refused or expired: not a new token
            return stored
        value = await self._credentials.load(self._key)
        expires = await self._credentials.load(self._expires_key)
        if not value or not expires:
            return None
        if self._cached is not None and self._cached.value == value:
            return self._cached  # the one just refused or expired: not a new token
        domain = await self._credentials.load(API_DOMAIN_KEY)
        return AccessToken(value, float(expires), domain)

    async def _save(self, token: AccessToken) -> None:
        if self._store is not None:
            await self._store.save(token)
            return
        await self._credentials.save(self._key, token.value)
        await self._credentials.save(self._expires_key, repr(token.expires_at))
        if token.api_domain:
            await self._credentials.save(API_DOMAIN_KEY, token.api_domain)

    def __repr__(self) -> str:
        return f"RotatingTokenAuth(lock={self.lock_name!r}, refreshes={self.refreshes})"
