"""Access tokens: a pasted admin token, or an expiring offline token that rotates.

Shopify's expiring offline tokens live 60 minutes and come with a refresh token that is
*replaced on every use* (facts doc §2.3).  The kit's ``RotatingTokenAuth`` does what every
rotating token needs -- single-flight refresh (in process and under ``context.locks``),
renewal ``REFRESH_MARGIN`` before expiry, a 401 invalidating the token and the request sent
once more.  Shopify's part is here: the token endpoint, the header
(``X-Shopify-Access-Token``, no scheme) and the store layout -- the rotated pair is saved as
one value (``shopify.tokens``), atomically, before the new access token is used; otherwise a
lost response strands the connection.  Tokens stay ``SecretStr`` (or inside the encrypted
credential store) and never reach logs or error messages.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import httpx

from ledgerbridge.contracts.context import ConnectorContext
from ledgerbridge.errors import AuthFailed, TransientError
from ledgerbridge.http.auth import AccessToken, BearerAuth, RotatingTokenAuth

from .mapping_common import PLATFORM

if TYPE_CHECKING:
    from .plugin import ShopifySecrets, ShopifySettings

HEADER = "X-Shopify-Access-Token"
CREDENTIAL_NAME = "shopify.tokens"


class ShopifyTokens:
    """The kit's ``TokenStore`` (the pair as one JSON value) and its ``refresh`` callable:
    the refresh token used is the one last stored (the kit reloads the store, under the
    lock, before it refreshes), else the configured one."""

    def __init__(
        self, context: ConnectorContext, client_id: str, secrets: ShopifySecrets, token_url: str
    ) -> None:
        assert secrets.client_secret is not None and secrets.refresh_token is not None
        self._credentials, self._transport = context.credentials, context.transport
        self.client_id, self._client_secret = client_id, secrets.client_secret
        self._refresh_token = secrets.refresh_token.get_secret_value()
        self._static, self.token_url = secrets.access_token, token_url

    async def load(self) -> AccessToken | None:
        raw = await self._credentials.load(CREDENTIAL_NAME)
        if not raw:  # nothing rotated yet: a pasted token is used until it is refused
            secret = self._static.get_secret_value() if self._static else None
            return AccessToken(secret, float("inf")) if secret else None
        pair = json.loads(raw)
        self._refresh_token = pair.get("refresh_token") or self._refresh_token
        return AccessToken(
            pair["access_token"], float(pair.get("expires_at", 0)), None, self._refresh_token
        )

    async def save(self, token: AccessToken) -> None:
        # persisted as one value, before the new token is used (a rotation is not repeatable)
        pair = {"access_token": token.value, "refresh_token": token.refresh_token}
        await self._credentials.save(
            CREDENTIAL_NAME, json.dumps(pair | {"expires_at": token.expires_at})
        )
        self._refresh_token = token.refresh_token or self._refresh_token

    async def __call__(self) -> AccessToken:
        """Exchange the refresh token for a new pair (Shopify's token endpoint)."""
        form = {
            "client_id": self.client_id,
            "client_secret": self._client_secret.get_secret_value(),
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
        }
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=30.0) as http:
                response = await http.post(self.token_url, data=form)
        except httpx.TransportError as exc:
            raise TransientError(
                f"shopify token refresh: {type(exc).__name__}", platform=PLATFORM
            ) from exc
        status = response.status_code
        if status >= 500:
            raise TransientError(
                f"shopify token refresh: HTTP {status}", platform=PLATFORM, status_code=status
            )
        try:
            body = response.json()
        except ValueError:
            body = {}
        if status != 200 or "access_token" not in body or "error" in body:
            raise AuthFailed(
                f"shopify token refresh was refused (HTTP {status}, "
                f"{body.get('error', 'no access token')}); reconnect the shop",
                platform=PLATFORM,
                status_code=status,
                code=body.get("error"),
            )
        expires_at = time.time() + float(body.get("expires_in") or 3600)
        rotated = body.get("refresh_token") or self._refresh_token
        return AccessToken(body["access_token"], expires_at, None, rotated)


def shopify_auth(
    context: ConnectorContext, settings: ShopifySettings, secrets: ShopifySecrets, token_url: str
) -> httpx.Auth:
    """A pasted token sent as is, or -- with ``client_id``, ``client_secret`` and a
    ``refresh_token`` -- rotating tokens (a pasted token, if any, is used first)."""
    if not (settings.client_id and secrets.client_secret and secrets.refresh_token):
        if secrets.access_token is None:
            raise AuthFailed(
                "shopify: configure access_token, or client_id + client_secret + refresh_token",
                platform=PLATFORM,
            )
        return BearerAuth(secrets.access_token, scheme="", header=HEADER)
    tokens = ShopifyTokens(context, settings.client_id, secrets, token_url)
    return RotatingTokenAuth(
        tokens,
        credentials=context.credentials,
        locks=context.locks,
        lock_name=f"shopify:{settings.shop}:token-refresh",
        scheme="",
        header=HEADER,
        store=tokens,
    )
