"""The three ways WooCommerce accepts a consumer key/secret, as the kit's auth pieces:

* HTTP Basic over https (``httpx.BasicAuth``);
* query parameters over https, for servers that drop the ``Authorization`` header, added
  below httpx (``ledgerbridge.http.QueryCredentials``) so no log or cassette holds them;
* OAuth 1.0a one-legged HMAC-SHA256 over plain http (``OAuth1Auth``), parameters in the
  ``Authorization`` header (WooCommerce 3.0+), without ``oauth_version`` as its docs say.

``initial_mode`` refuses a plain-http store unless the connection explicitly allows it.
"""

from __future__ import annotations

import httpx

from ledgerbridge.errors import ConfigError
from ledgerbridge.http import OAuth1Auth as KitOAuth1Auth
from ledgerbridge.http import QueryCredentials

from .settings import WooCommerceSecrets, WooCommerceSettings


class OAuth1Auth(KitOAuth1Auth):
    omit_version = True


def query_credentials(
    inner: httpx.AsyncBaseTransport | None, key: str, secret: str
) -> QueryCredentials:
    params = {"consumer_key": key, "consumer_secret": secret}
    return QueryCredentials(inner or httpx.AsyncHTTPTransport(), params)


def credentials(secrets: WooCommerceSecrets) -> tuple[str, str]:
    """The consumer key and secret, or a ConfigError naming what is missing."""
    pair = {name: getattr(secrets, name) for name in ("consumer_key", "consumer_secret")}
    values = {name: value.get_secret_value() if value else "" for name, value in pair.items()}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConfigError(f"woocommerce: secrets {', '.join(missing)} are required to read a store")
    return values["consumer_key"], values["consumer_secret"]


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
