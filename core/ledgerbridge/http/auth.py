"""Authentication as ``httpx.Auth`` flows (httpx's own design): a client is given an auth
object once and never sets a credential header by hand."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Generator
from typing import Any

import httpx
from pydantic import SecretStr


class BearerAuth(httpx.Auth):
    """``Authorization: <scheme> <token>`` on every request; the token stays a ``SecretStr``
    until the header is written, so it never shows in a repr, a log line or an exception."""

    def __init__(self, token: SecretStr | str, scheme: str = "Bearer") -> None:
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        self._scheme = scheme

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"{self._scheme} {self._token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return f"BearerAuth(scheme={self._scheme!r}, token=**********)"


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
