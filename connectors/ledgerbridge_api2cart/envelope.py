"""API2Cart's response envelope and what each ``return_code`` means to ledgerbridge.

API2Cart answers HTTP 200 for everything and puts the outcome in ``return_code`` (0 = success),
so a 200 is never trusted on its own: every non-zero code is one class of ``ledgerbridge.errors``
and retry behaviour follows from the class.  Codes: https://api2cart.com/docs/response-status-codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgerbridge.errors import (
    AuthFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from ledgerbridge.http.return_codes import ReturnCodes

PLATFORM = "api2cart"

CODES = ReturnCodes(PLATFORM)
CODES.declare(
    RateLimited,
    {7: "store request limit exceeded", 110: "too many requests to the store's API"},
)
CODES.declare(
    RateLimited,
    {10: "account request limit exceeded"},
    said="{meaning} ({message}); every store under this API key waits",
)
# the same request may succeed later
CODES.declare(
    TransientError,
    {
        1: "API2Cart service is not available",
        9: "API2Cart internal service error",
        105: "the store's bridge answered with an error",
        106: "the store URL is not reachable",
        107: "the store returned an uncategorised error",
    },
)
# a person must fix these; the text says what to look at
_OPERATOR_SAID = "{meaning} (API2Cart said: {message})"
CODES.declare(
    AuthFailed,
    {
        2: "the API key was rejected: check secrets.api_key (x-api-key)",
        4: "access to this store was denied: check secrets.store_key (x-store-key) and "
        "that the store is still connected in API2Cart",
        6: "the API key is disabled in API2Cart: enable it or issue a new key",
        100: "API2Cart cannot reach the store's API (bad URL or store credentials changed): "
        "reconnect the store in API2Cart",
        101: "API2Cart does not know this store: check secrets.store_key (x-store-key) "
        "or re-add the store",
        102: "the store's FTP access is incorrect: reconnect the store",
        103: "the store's FTP write permissions are incorrect: reconnect the store",
        104: "the store's bridge was not found: re-install the bridge",
    },
    said=_OPERATOR_SAID,
)
CODES.declare(
    PermissionDenied,
    {5: "API access is denied for this API2Cart account (plan or billing)"},
    said=_OPERATOR_SAID,
)
CODES.declare(NotFound, {112: "not found"})
CODES.declare(Conflict, {8: "already exists", 113: "already exists"})
# our request is wrong (a bug, or a parameter this cart does not support)
CODES.declare(
    ValidationFailed,
    {
        3: "the API method is not specified",
        109: "incorrect parameters for the method",
        111: "too many items requested",
        114: "a required parameter is missing",
        115: "too many possible prefixes",
        116: "duplicate record",
    },
)

ACCOUNT_LIMIT = 10  # every store under the API key waits
TOO_MANY_ITEMS = 111  # page 1 is asked again with half the ``count``


@dataclass(frozen=True)
class Envelope:
    """A successful answer: the ``result`` and the cursor to the next page (if any)."""

    result: Any
    next_cursor: str | None


def open_envelope(payload: Any, *, method: str, account_backoff: float = 60.0) -> Envelope:
    """The result of a successful call, or the classified error (the account limit waits
    ``account_backoff`` seconds); JSON without the envelope is a gateway's answer, retried."""
    if not isinstance(payload, dict) or "return_code" not in payload:
        raise TransientError(
            f"API2Cart {method}: the response has no return_code envelope",
            platform=PLATFORM,
            status_code=200,
        )
    code = payload.get("return_code")
    if code == 0:
        pagination = payload.get("pagination") or {}
        next_cursor = pagination.get("next") if isinstance(pagination, dict) else None
        return Envelope(result=payload.get("result"), next_cursor=next_cursor or None)
    wait = {"retry_after": account_backoff} if code == ACCOUNT_LIMIT else {}
    message = str(payload.get("return_message") or "")
    raise CODES.error(code, message, f"API2Cart {method}: return_code {code}", **wait)
