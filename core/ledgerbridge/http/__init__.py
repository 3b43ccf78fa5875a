"""The connector kit's HTTP parts: what every platform client needs and none should write again.

- ``responses``: one ``Retry-After`` reader (seconds or an HTTP date), JSON with ``Decimal``
  amounts, and a default status -> error-class table a connector extends with its platform's
  codes (``ErrorTable``).
- ``auth``: ``BearerAuth``, an ``httpx.Auth`` flow over a secret (``SecretHeaders`` for
  several); ``OAuth1Auth``
  (one-legged OAuth 1.0a); ``QueryCredentials``, credentials in the query added below httpx
  so no log or cassette holds them; ``RotatingTokenAuth``, expiring OAuth access tokens minted by
  a platform's ``refresh`` callable (cached, renewed early, single-flight across processes, one
  resend after a refused token).
- ``oauth2``: ``TokenEndpoint``, the OAuth 2.0 refresh-token grant and how a platform's answers
  read; ``RotatingRefresh``, a refresh token replaced on every use, kept with its access token
  as one credential.
- ``pacing``: ``PacedTransport``, every request through the account's ``RateLimiter``; ``Pacer``
  and ``SharedPause`` for a platform that publishes no limits.
- ``signatures``: HMAC-SHA256 webhook signatures, verified in constant time, and the matching
  signer the emulators use.
- ``pagination``: page-number, cursor, GraphQL-connection and has-more loops as small async
  iterators.
- ``client``: ``KitClient``, an ``httpx.AsyncClient`` built from a ``ConnectorContext`` whose
  calls map transport failures and error statuses to ``ledgerbridge.errors`` and retry by class.
"""

from .auth import (
    AccessToken,
    BearerAuth,
    OAuth1Auth,
    QueryCredentials,
    RotatingTokenAuth,
    SecretHeaders,
)
from .client import KitClient
from .oauth2 import RotatingRefresh, TokenEndpoint
from .pacing import PacedTransport
from .pagination import (
    complete_connection,
    connection_items,
    connection_pages,
    cursor_pages,
    end_cursor,
    has_more_pages,
    numbered_pages,
)
from .responses import ErrorTable, parse_json, retry_after
from .signatures import hmac_sha256, verify_hmac_sha256

__all__ = [
    "AccessToken",
    "BearerAuth",
    "ErrorTable",
    "KitClient",
    "OAuth1Auth",
    "PacedTransport",
    "QueryCredentials",
    "RotatingRefresh",
    "RotatingTokenAuth",
    "SecretHeaders",
    "TokenEndpoint",
    "complete_connection",
    "connection_items",
    "connection_pages",
    "cursor_pages",
    "end_cursor",
    "has_more_pages",
    "hmac_sha256",
    "numbered_pages",
    "parse_json",
    "retry_after",
    "verify_hmac_sha256",
]
