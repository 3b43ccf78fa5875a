"""Access tokens: a pasted admin token, or an expiring offline token that rotates.

Shopify's expiring offline tokens live 60 minutes and come with a refresh token
that is *replaced on every use* (facts doc §2.3).  So a refresh must be
single-flight (one per shop at a time, under ``context.locks``) and the new
pair must be persisted -- as one value, atomically -- before the new access
token is used; otherwise a lost response strands the connection.  Tokens stay
``SecretStr`` (or inside the encrypted credential store) and never reach logs
or error messages.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import httpx

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.errors import AuthFailed, TransientError

from .mapping_common import PLATFORM

if TYPE_CHECKING:
    from .plugin import ShopifySecrets, ShopifySettings

HEADER = "X-Shopify-Access-Token"
REFRESH_MARGIN = 300.0  # refresh this many seconds before the access token expires
CREDENTIAL_NAME = "shopify.tokens"


class TokenProvider:
    """Hands out the access token to send; refreshes it when it can and must."""

    def __init__(
        self,
        context: ConnectorContext,
        settings: ShopifySettings,
        secrets: ShopifySecrets,
        token_url: str,
        wall_clock: Any = time.time,
    ) -> None:
        self._static, self._initial_refresh = secrets.access_token, secrets.refresh_token
        self.client_id, self._client_secret = settings.client_id, secrets.client_secret
        self._credentials, self._locks = context.credentials, context.locks
        self.shop, self.token_url, self._transport = settings.shop, token_url, context.transport
        self._now = wall_clock
        self._cached: dict[str, Any] | None = None
        self.refreshes = 0

    @property
    def can_refresh(self) -> bool:
        return bool(
            self.client_id
            and self._client_secret
            and (self._initial_refresh is not None or self._cached is not None)
        )

    async def _stored(self) -> dict[str, Any] | None:
        raw = await self._credentials.load(CREDENTIAL_NAME)
        if not raw:
            return None
        stored: dict[str, Any] = json.loads(raw)
        return stored

    async def token(self) -> str:
        """The access token to send now (refreshed first if it is about to expire)."""
        stored = self._cached or await self._stored()
        if stored is None:
            if self._static is None and self.can_refresh:
                return await self.refresh(None)
            if self._static is None:
                raise AuthFailed("shopify: no access token is configured", platform=PLATFORM)
            return self._static.get_secret_value()
        self._cached = stored
        if self.can_refresh and float(stored.get("expires_at", 0)) - self._now() < REFRESH_MARGIN:
            return await self.refresh(stored["access_token"])
        return str(stored["access_token"])

    async def refresh(self, stale: str | None) -> str:
        """Exchange the refresh token, once per shop at a time; returns the new access token."""
        if not self.can_refresh:
            raise AuthFailed(
                "shopify: the access token was refused and cannot be refreshed; reconnect the shop",
                platform=PLATFORM,
            )
        async with self._locks.lock(f"shopify:{self.shop}:token-refresh", ttl=60.0):
            stored = await self._stored()
            if (
                stored
                and stale is not None
                and stored["access_token"] != stale
                and float(stored.get("expires_at", 0)) - self._now() >= REFRESH_MARGIN
            ):
                # another worker refreshed while we waited for the lock
                self._cached = stored
                return str(stored["access_token"])
            refresh_token = (stored or {}).get("refresh_token") or (
                self._initial_refresh.get_secret_value() if self._initial_refresh else None
            )
            if not refresh_token:
                raise AuthFailed(
                    "shopify: no refresh token to renew the access token", platform=PLATFORM
                )
            assert self._client_secret is not None
            form = {
                "client_id": self.client_id or "",
                "client_secret": self._client_secret.get_secret_value(),
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            }
            try:
                async with httpx.AsyncClient(transport=self._transport, timeout=30.0) as http:
                    response = await http.post(self.token_url, data=form)
            except httpx.TransportError as exc:
                raise TransientError(
                    f"shopify token refresh: {type(exc).__name__}", platform=PLATFORM
                ) from exc
            if response.status_code >= 500:
                raise TransientError(
                    f"shopify token refresh: HTTP {response.status_code}",
                    platform=PLATFORM,
                    status_code=response.status_code,
                )
            try:
                body = response.json()
            except ValueError:
                body = {}
            if response.status_code != 200 or "access_token" not in body or "error" in body:
                raise AuthFailed(
                    "shopify token refresh was refused "
                    f"(HTTP {response.status_code}, {body.get('error', 'no access token')}); "
                    "reconnect the shop",
                    platform=PLATFORM,
                    status_code=response.status_code,
                    code=body.get("error"),
                )
            pair = {
                "access_token": body["access_token"],
                "refresh_token": body.get("refresh_token") or refresh_token,
                "expires_at": self._now() + float(body.get("expires_in") or 3600),
            }
            # persisted as one value, before the new token is used (a rotation is not repeatable)
            await self._credentials.save(CREDENTIAL_NAME, json.dumps(pair))
            self._cached = pair
            self.refreshes += 1
            return str(pair["access_token"])


class ShopifyAuth(httpx.Auth):
    """Adds ``X-Shopify-Access-Token``; on a 401 refreshes once (if it can) and resends."""

    def __init__(self, provider: TokenProvider) -> None:
        self.provider = provider

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.provider.token()
        request.headers[HEADER] = token
        response = yield request
        if response.status_code == 401 and self.provider.can_refresh:
            await response.aread()
            request.headers[HEADER] = await self.provider.refresh(token)
            yield request


def shopify_auth(
    context: ConnectorContext, settings: ShopifySettings, secrets: ShopifySecrets, token_url: str
) -> ShopifyAuth:
    """A pasted token, or -- with ``client_id``, ``client_secret`` and a ``refresh_token`` --
    expiring tokens refreshed as they run out (a pasted token, if any, is used first)."""
    tokens = TokenProvider(context, settings, secrets, token_url)
    if secrets.access_token is None and not tokens.can_refresh:
        raise AuthFailed(
            "shopify: configure access_token, or client_id + client_secret + refresh_token",
            platform=PLATFORM,
        )
    return ShopifyAuth(tokens)
