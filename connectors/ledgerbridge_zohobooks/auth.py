"""Zoho's part of OAuth: minting an access token from the refresh token, and what each
refusal of the accounts server means.

The cache, the early renewal and the single-flight refresh (in this process and, through
``context.locks``, across processes -- Zoho mints at most 10 access tokens per refresh token
per 10 minutes, facts doc §2.8) are the kit's ``RotatingTokenAuth``; ``zoho_auth`` gives it
``ZohoRefresh``, which asks the accounts server, and says what a refused token looks like
(HTTP 401, or Zoho's code 14/57 in the envelope: facts doc §4, refresh-then-retry once).

The token endpoint reports failures *in the body with HTTP 200*
(``{"error": "invalid_code"}``); those become ``AuthFailed`` with a message
that tells an operator the likely cause -- ``CredentialsRevoked`` when the
refresh token itself is dead (facts doc §2.6: ``invalid_code`` is also the
answer for a revoked or deleted refresh token).

A dead refresh token is remembered: in this process, and in the credential
store as a digest of the credentials that failed (``DEAD_KEY``), so neither
this run nor a later one asks the accounts server again with the same ones --
a loop of refused refreshes helps nobody.  New credentials (a
``ledgerbridge connect``, a changed secret) have another digest and are tried.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx

from ledgerbridge.contracts.context import CredentialStore, LockProvider
from ledgerbridge.errors import AuthFailed, CredentialsRevoked, TransientError
from ledgerbridge.http.auth import AccessToken, RotatingTokenAuth

from .jsonmoney import loads

__all__ = ["AccessToken", "ZohoRefresh", "parse_token_response", "token_error", "zoho_auth"]

AUTH_CODES = frozenset({14, 57})  # envelope codes of a refused access token (facts doc §4)
REFRESH_TOKEN_KEY = "refresh_token"  # noqa: S105 - a name
DEAD_KEY = "refresh_refused"  # digest of the credentials the accounts server refused
# Token endpoint errors that mean the refresh token itself is dead (facts doc §2.6).
REVOKED_ERRORS = frozenset({"invalid_code", "invalid_token"})

TOKEN_ERROR_HINTS: dict[str, str] = {
    "invalid_code": (
        "the refresh token is no longer valid (revoked, or deleted because the Zoho user "
        "authorised more than 20 connections); reconnect with `ledgerbridge connect zohobooks`"
    ),
    "invalid_client": (
        "Zoho does not know this client id/secret at this accounts server: check the client "
        "credentials and the data centre (an organisation in another data centre answers "
        "invalid_client)"
    ),
    "invalid_redirect_uri": "the redirect URI does not match the one registered for the client",
    "invalid_token": (
        "the refresh token was revoked; reconnect with `ledgerbridge connect zohobooks`"
    ),
}


def token_error(error: str, accounts_server: str) -> AuthFailed:
    hint = TOKEN_ERROR_HINTS.get(error, "the token endpoint refused the request")
    kind = CredentialsRevoked if error in REVOKED_ERRORS else AuthFailed
    return kind(
        f"Zoho accounts server {accounts_server} answered {error!r}: {hint}",
        platform="zohobooks",
        code=error,
        platform_message=error,
    )


def parse_token_response(response: httpx.Response, accounts_server: str) -> dict[str, Any]:
    """The token JSON, or the right error class (errors come with HTTP 200 too)."""
    if response.status_code >= 500:
        raise TransientError(
            f"Zoho accounts server answered HTTP {response.status_code}",
            platform="zohobooks",
            status_code=response.status_code,
        )
    try:
        body = loads(response.content)
    except ValueError:
        raise TransientError(
            f"Zoho accounts server answered HTTP {response.status_code} without JSON",
            platform="zohobooks",
            status_code=response.status_code,
        ) from None
    if not isinstance(body, dict):
        raise AuthFailed("unexpected token response shape", platform="zohobooks")
    if "error" in body:
        raise token_error(str(body["error"]), accounts_server)
    if response.status_code >= 400 or not body.get("access_token"):
        raise AuthFailed(
            f"Zoho accounts server answered HTTP {response.status_code} without an access token",
            platform="zohobooks",
            status_code=response.status_code,
        )
    return body


def token_refused(response: httpx.Response) -> bool:
    """Whether Zoho refused the access token: HTTP 401, or code 14/57 in the envelope of
    another error status (the client's table reads those codes as a refused token whatever
    the status; the stricter reading)."""
    if response.status_code == 401:
        return True
    if response.status_code < 400 or response.status_code == 429:
        return False
    try:
        body = loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") in AUTH_CODES


def zoho_auth(
    refresh: ZohoRefresh, credentials: CredentialStore, locks: LockProvider
) -> RotatingTokenAuth:
    """The auth flow of a Zoho connection: ``Authorization: Zoho-oauthtoken <token>``."""
    return RotatingTokenAuth(
        refresh,
        credentials=credentials,
        locks=locks,
        lock_name=f"zohobooks:token:{refresh.connection_id}",
        scheme="Zoho-oauthtoken",
        rejected=token_refused,
    )


class ZohoRefresh:
    """Mints access tokens for one connection (one refresh token) at Zoho's accounts server."""

    def __init__(
        self,
        *,
        connection_id: str,
        http: httpx.AsyncClient,
        accounts_server: str,
        client_id: str,
        client_secret: str,
        refresh_token: str | None,
        credentials: CredentialStore,
    ) -> None:
        self.connection_id = connection_id
        self._http = http
        self.accounts_server = accounts_server
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._credentials = credentials
        self._dead: tuple[str, AuthFailed] | None = None  # (credentials digest, the refusal)

    async def __call__(self) -> AccessToken:
        """A new token; the remembered refusal, without asking Zoho, while the credentials
        are the ones the accounts server refused."""
        if self._dead is not None:
            await self._still_dead()
        return await self._refresh()

    def _digest(self, refresh_token: str) -> str:
        """Which credentials a refusal was for (never the secrets themselves)."""
        material = "\0".join(
            (self.accounts_server, self._client_id, self._client_secret, refresh_token)
        )
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    async def _still_dead(self) -> None:
        """Raise the remembered refusal unless the credentials changed since."""
        assert self._dead is not None
        refresh_token = await self._credentials.load(REFRESH_TOKEN_KEY) or self._refresh_token
        if refresh_token and self._digest(refresh_token) != self._dead[0]:
            self._dead = None  # reconnected while we ran: try the new credentials
            return
        raise self._dead[1].with_traceback(None)

    async def _refused(self, refresh_token: str, error: AuthFailed) -> AuthFailed:
        digest = self._digest(refresh_token)
        self._dead = (digest, error)
        await self._credentials.save(DEAD_KEY, digest)
        return error

    async def _refresh(self) -> AccessToken:
        refresh_token = await self._credentials.load(REFRESH_TOKEN_KEY) or self._refresh_token
        if not refresh_token:
            raise CredentialsRevoked(
                f"connection {self.connection_id} has no Zoho refresh token; "
                "run `ledgerbridge connect zohobooks`",
                platform="zohobooks",
            )
        if await self._credentials.load(DEAD_KEY) == self._digest(refresh_token):
            refused = CredentialsRevoked(
                f"Zoho's accounts server {self.accounts_server} refused this connection's "
                "refresh token before (revoked, or deleted by Zoho's 20-token cap); it is not "
                "asked again with the same credentials: reconnect with "
                "`ledgerbridge connect zohobooks`",
                platform="zohobooks",
                code="refused_before",
            )
            self._dead = (self._digest(refresh_token), refused)
            raise refused
        try:
            response = await self._http.post(
                f"{self.accounts_server}/oauth/v2/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh_token,
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
            )
        except httpx.TransportError as exc:
            raise TransientError(
                f"Zoho accounts server unreachable: {type(exc).__name__}", platform="zohobooks"
            ) from None
        try:
            body = parse_token_response(response, self.accounts_server)
        except AuthFailed as exc:
            raise await self._refused(refresh_token, exc) from None
        expires_in = float(body.get("expires_in") or 3600)
        domain = body.get("api_domain")
        return AccessToken(
            str(body["access_token"]),
            time.time() + expires_in,
            str(domain).rstrip("/") if domain else None,
        )
