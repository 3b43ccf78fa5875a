"""HTTP to TinyShop: the kit's client with TinyShop's bearer token.

TinyShop's errors are plain HTTP (404 unknown order, 429 with ``Retry-After``, 5xx), which the
kit's default table maps; TinyShop only adds what to do about a refused token."""

from pydantic import SecretStr

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.http import BearerAuth, ErrorTable, KitClient

ERRORS = ErrorTable("tinyshop", advice={401: "TinyShop refused the API token: create a new one"})


def tinyshop_client(context: ConnectorContext, base_url: str, token: SecretStr) -> KitClient:
    return KitClient(context, base_url, ERRORS, auth=BearerAuth(token))
