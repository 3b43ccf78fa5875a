"""HTTP to TinyShop: the kit's client (``ledgerbridge.http``) with TinyShop's bearer token.

TinyShop's errors are plain HTTP (404 unknown order, 429 with ``Retry-After``, 5xx), which the
kit's default table already maps; the one platform rule says what to do about a bad token.
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.errors import AuthFailed, SyncError
from ledgerbridge.http import BearerAuth, ErrorTable, KitClient
from ledgerbridge.http.responses import Refusal

ERRORS = ErrorTable("tinyshop")


@ERRORS.rule
def bad_token(response: httpx.Response, refusal: Refusal) -> SyncError | None:
    if refusal.status != 401:
        return None
    return AuthFailed(
        refusal.text + "; TinyShop refused the API token: create a new one", **refusal.kw
    )


def tinyshop_client(context: ConnectorContext, base_url: str, token: SecretStr) -> KitClient:
    return KitClient(context, base_url, ERRORS, auth=BearerAuth(token))
