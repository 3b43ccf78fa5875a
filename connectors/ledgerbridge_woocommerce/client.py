"""``/wp-json/wc/v3`` through the kit's client (``ledgerbridge.http.KitClient``): WooCommerce's
error table (``responses``), its page headers (``X-WP-TotalPages`` and ``Link``, read by
``ledgerbridge.http.pagination.more_numbered_pages``) and the three ways it takes a consumer
key/secret, as the kit's auth pieces:

* HTTP Basic over https (``httpx.BasicAuth``);
* query parameters over https, for servers that drop the ``Authorization`` header, added
  below httpx (``ledgerbridge.http.QueryCredentials``) so no log or cassette holds them;
* OAuth 1.0a one-legged HMAC-SHA256 over plain http (``OAuth1Auth``), parameters in the
  ``Authorization`` header (WooCommerce 3.0+), without ``oauth_version`` as its docs say.

``initial_mode`` refuses a plain-http store unless the connection explicitly allows it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

import httpx

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.errors import AuthFailed, ConfigError, TransientError
from ledgerbridge.http import KitClient, QueryCredentials
from ledgerbridge.http import OAuth1Auth as KitOAuth1Auth
from ledgerbridge.http.pagination import header_count, more_numbered_pages
from ledgerbridge.retry import DEFAULT_POLICY, RetryPolicy

from .responses import ERRORS, PLATFORM, TimedOut
from .settings import WooCommerceSecrets, WooCommerceSettings

log = logging.getLogger(__name__)

API_PATH = "/wp-json/wc/v3"


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


@dataclass(frozen=True)
class Page:
    """One page of a collection: its records, ``X-WP-Total`` and whether more follow."""

    items: list[dict[str, Any]]
    total: int | None
    has_more: bool


class WooClient:
    """Reads one store. ``mode`` is the auth mode in use (it can move from basic to query once)."""

    def __init__(
        self,
        context: ConnectorContext,
        settings: WooCommerceSettings,
        secrets: WooCommerceSecrets,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self.settings = settings
        self.mode = initial_mode(settings)
        self._key, self._secret = credentials(secrets)
        self._fallback_tried = False
        self.kit = KitClient(
            context,
            settings.store_url + API_PATH,
            ERRORS,
            timeout=settings.timeout,
            policy=policy,
            headers={"Accept": "application/json", "User-Agent": "ledgerbridge-woocommerce"},
            **self._auth(self.mode, context.transport),
        )

    def _auth(self, mode: str, transport: httpx.AsyncBaseTransport | None) -> dict[str, Any]:
        if mode == "query":  # below httpx, so logs and cassettes never hold the credentials
            return {"transport": query_credentials(transport, self._key, self._secret)}
        if mode == "basic":
            return {"auth": httpx.BasicAuth(self._key, self._secret)}
        return {"auth": OAuth1Auth(self._key, self._secret)}

    async def aclose(self) -> None:
        await self.kit.aclose()

    async def _get(
        self, path: str, params: dict[str, Any], expect: type, *, retry_timeouts: bool = True
    ) -> tuple[httpx.Response, Any]:
        unretried = () if retry_timeouts else (TimedOut,)

        async def get() -> tuple[httpx.Response, Any]:
            kit = self.kit
            return await kit.request("GET", path, expect=expect, params=params, unretried=unretried)

        try:
            return await get()
        except AuthFailed:
            if self.settings.auth != "auto" or self.mode != "basic" or self._fallback_tried:
                raise
        # Some servers drop the Authorization header; WooCommerce documents the query
        # parameters as the fallback. Tried once; kept when it works.
        self._fallback_tried = True
        previous = self.kit.reconnect(
            wrap=lambda inner: query_credentials(inner, self._key, self._secret)
        )
        try:
            result = await get()
        except AuthFailed:
            await self.kit.http.aclose()
            self.kit.http = previous
            raise
        log.warning(
            "woocommerce %s: the server drops the Authorization header; using query-parameter "
            "credentials from now on",
            self.settings.store_key,
        )
        self.mode = "query"
        await previous.aclose()
        return result

    async def get_object(self, path: str) -> dict[str, Any]:
        _, data = await self._get(path, {}, dict)
        return cast(dict[str, Any], data)

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
        query = {**params, "page": page, "per_page": per_page}
        response, items = await self._get(path, query, list, retry_timeouts=retry_timeouts)
        bad = [i for i, item in enumerate(items) if not isinstance(item, dict)]
        if bad:
            raise TransientError(
                f"woocommerce: {path} page {page} holds non-objects at positions {bad[:5]}",
                platform=PLATFORM,
            )
        more = more_numbered_pages(
            response, page, per_page, len(items), total_pages_header="x-wp-totalpages"
        )
        return Page(items, header_count(response, "x-wp-total"), more)
