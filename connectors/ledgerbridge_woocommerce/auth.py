"""The three ways WooCommerce accepts a consumer key/secret, as httpx auth pieces.

* HTTP Basic over https (``httpx.BasicAuth``);
* query parameters over https, for servers that drop the ``Authorization``
  header.  They are added *below* httpx (``QueryCredentialsTransport``) so the
  request httpx logs -- and the one cassettes record -- never carries them;
* OAuth 1.0a one-legged HMAC-SHA256 over plain http (``OAuth1Auth``), signed by
  oauthlib, parameters in the ``Authorization`` header (WooCommerce 3.0+).

``choose`` refuses a plain-http store unless the connection explicitly allows it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Generator
from typing import Any

import httpx

from ledgerbridge.errors import ConfigError

from .settings import WooCommerceSecrets, WooCommerceSettings

# Imported by name so type-checking does not depend on whether oauthlib's stubs are installed.
oauth1: Any = importlib.import_module("oauthlib.oauth1")
# oauthlib logs every signed request's parameters -- the consumer key among them -- at
# DEBUG: a log configured for debugging must still hold no credential.
logging.getLogger("oauthlib").setLevel(max(logging.INFO, logging.getLogger("oauthlib").level))


def _oauth_client(key: str, secret: str) -> Any:
    """oauthlib's client without ``oauth_version``, which WooCommerce's docs say to omit."""

    class WooOAuthClient(oauth1.Client):  # type: ignore[misc]
        def get_oauth_params(self, request: Any) -> list[tuple[str, str]]:
            params: list[tuple[str, str]] = super().get_oauth_params(request)
            return [(k, v) for k, v in params if k != "oauth_version"]

    return WooOAuthClient(
        key,
        client_secret=secret,
        signature_method=oauth1.SIGNATURE_HMAC_SHA256,
        signature_type=oauth1.SIGNATURE_TYPE_AUTH_HEADER,
    )


class OAuth1Auth(httpx.Auth):
    """One-legged OAuth 1.0a (no token), HMAC-SHA256; a fresh nonce and timestamp per request."""

    def __init__(self, consumer_key: str, consumer_secret: str) -> None:
        self._key = consumer_key
        self._secret = consumer_secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        client = _oauth_client(self._key, self._secret)
        # The body is not signed (WooCommerce); only URL query parameters are.
        _, headers, _ = client.sign(str(request.url), request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request


class QueryCredentialsTransport(httpx.AsyncBaseTransport):
    """Adds ``consumer_key``/``consumer_secret`` to the URL of a copy of each request.

    Only the copy handed to the wrapped transport carries them, so httpx's
    request log, exceptions and recorded cassettes keep the clean URL.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, key: str, secret: str) -> None:
        self._inner = inner
        self._key = key
        self._secret = secret

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url.copy_merge_params(
            {"consumer_key": self._key, "consumer_secret": self._secret}
        )
        signed = httpx.Request(
            request.method,
            url,
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return await self._inner.handle_async_request(signed)

    async def aclose(self) -> None:
        await self._inner.aclose()


def credentials(secrets: WooCommerceSecrets) -> tuple[str, str]:
    """The consumer key and secret, or a ConfigError naming what is missing."""
    missing = [
        name
        for name in ("consumer_key", "consumer_secret")
        if getattr(secrets, name) is None or not getattr(secrets, name).get_secret_value()
    ]
    if missing:
        raise ConfigError(f"woocommerce: secrets {', '.join(missing)} are required to read a store")
    assert secrets.consumer_key is not None and secrets.consumer_secret is not None
    return secrets.consumer_key.get_secret_value(), secrets.consumer_secret.get_secret_value()


def initial_mode(settings: WooCommerceSettings) -> str:
    """The auth mode to start with; refuses plain http unless explicitly allowed."""
    if not settings.is_https:
        if not settings.allow_http:
            raise ConfigError(
                f"woocommerce: store_url {settings.store_url} is not https; keys would travel in "
                "clear. Use https, or set allow_http: true to sign requests with OAuth 1.0a"
            )
        if settings.auth not in ("auto", "oauth1"):
            raise ConfigError(
                f"woocommerce: auth {settings.auth!r} sends the consumer secret over plain http "
                f"({settings.store_url}); only oauth1 is allowed there"
            )
        return "oauth1"
    return "basic" if settings.auth == "auto" else settings.auth
