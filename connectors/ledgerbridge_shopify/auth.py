"""Access tokens: a pasted admin token, or an expiring offline token that rotates.

Shopify's expiring offline tokens live 60 minutes and come with a refresh token that is
*replaced on every use* (facts doc §2.3): the kit's ``RotatingRefresh`` keeps the pair as one
credential (``shopify.tokens``), saved before the new access token is used, and
``RotatingTokenAuth`` refreshes once at a time per shop.  Shopify's part is its token URL
(``/admin/oauth/access_token`` on the shop), the header (``X-Shopify-Access-Token``, no
scheme) and the wording of a refusal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from ledgerbridge.contracts.context import ConnectorContext
from ledgerbridge.errors import AuthFailed
from ledgerbridge.http import BearerAuth, RotatingRefresh, RotatingTokenAuth, TokenEndpoint

from .mapping_common import PLATFORM

if TYPE_CHECKING:
    from .plugin import ShopifySecrets, ShopifySettings

HEADER = "X-Shopify-Access-Token"
CREDENTIAL_NAME = "shopify.tokens"


class ShopifyTokenEndpoint(TokenEndpoint):
    refusal = "{name} was refused (HTTP {status}, {error}); reconnect the shop"


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
    tokens = RotatingRefresh(
        ShopifyTokenEndpoint(token_url, PLATFORM),
        context.credentials,
        CREDENTIAL_NAME,
        client_id=settings.client_id,
        client_secret=secrets.client_secret,
        refresh_token=secrets.refresh_token,
        seed=secrets.access_token,
        transport=context.transport,
    )
    return RotatingTokenAuth(
        tokens,
        credentials=context.credentials,
        locks=context.locks,
        lock_name=f"shopify:{settings.shop}:token-refresh",
        scheme="",
        header=HEADER,
        store=tokens,
    )
