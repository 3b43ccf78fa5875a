"""Zoho's part of OAuth: its accounts server, what each of its refusals means, and a dead
refresh token remembered.

The exchange (the kit's ``TokenEndpoint``) and the cache, early renewal and single-flight
refresh (``RotatingTokenAuth``: Zoho mints at most 10 access tokens per refresh token per 10
minutes, facts doc §2.8) are the kit's.  Zoho's quirks are here: the token endpoint reports
failures *in the body with HTTP 200* (``{"error": "invalid_code"}``, facts doc §2.6), and
``invalid_code`` is also the answer for a revoked or deleted refresh token, so it becomes
``CredentialsRevoked`` with the likely cause; the answer names the API host to use
(``api_domain``); a refused access token is HTTP 401 or code 14/57 in the envelope (facts
doc §4, refresh-then-retry once).

A dead refresh token is remembered: in this process, and in the credential store as a
digest of the credentials that failed (``DEAD_KEY``), so neither this run nor a later one
asks the accounts server again with the same ones -- a loop of refused refreshes helps
nobody.  New credentials (a ``ledgerbridge connect``, a changed secret) have another digest
and are tried.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import httpx
from pydantic import SecretStr

from ledgerbridge.contracts.context import ConnectorContext
from ledgerbridge.errors import AuthFailed, CredentialsRevoked
from ledgerbridge.http import AccessToken, RotatingTokenAuth, TokenEndpoint

from .jsonmoney import loads

if TYPE_CHECKING:
    from .settings import ZohoBooksSecrets

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


class ZohoTokenEndpoint(TokenEndpoint):
    """``{accounts_server}/oauth/v2/token`` (facts doc §2.3-2.6); an answer that is not JSON
    is taken for a passing outage, not a refusal."""

    unreachable = "Zoho accounts server unreachable: {error}"
    server_error = "Zoho accounts server answered HTTP {status}"
    not_json = "Zoho accounts server answered HTTP {status} without JSON"

    def __init__(self, accounts_server: str) -> None:
        super().__init__(f"{accounts_server}/oauth/v2/token", "zohobooks")
        self.accounts_server = accounts_server

    def refused(self, status: int, body: Any) -> AuthFailed:
        if not isinstance(body, dict):
            return AuthFailed("unexpected token response shape", platform="zohobooks")
        if "error" in body:
            error = str(body["error"])
            hint = TOKEN_ERROR_HINTS.get(error, "the token endpoint refused the request")
            kind = CredentialsRevoked if error in REVOKED_ERRORS else AuthFailed
            return kind(
                f"Zoho accounts server {self.accounts_server} answered {error!r}: {hint}",
                platform="zohobooks",
                code=error,
                platform_message=error,
            )
        return AuthFailed(
            f"Zoho accounts server answered HTTP {status} without an access token",
            platform="zohobooks",
            status_code=status,
        )

    def access_token(self, body: dict[str, Any], refresh_token: str) -> AccessToken:
        domain = body.get("api_domain")
        token = super().access_token(body, refresh_token)
        return replace(token, api_domain=str(domain).rstrip("/") if domain else None)


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
    context: ConnectorContext, accounts_server: str, http: httpx.AsyncClient
) -> RotatingTokenAuth:
    """The auth flow of a Zoho connection: ``Authorization: Zoho-oauthtoken <token>``."""
    return RotatingTokenAuth(
        ZohoRefresh(context, accounts_server, http),
        credentials=context.credentials,
        locks=context.locks,
        lock_name=f"zohobooks:token:{context.connection_id}",
        scheme="Zoho-oauthtoken",
        rejected=token_refused,
    )


class ZohoRefresh:
    """Mints access tokens for one connection (one refresh token, never rotated: facts doc
    §2.4) at Zoho's accounts server; the refresh token is the stored one, else the configured
    one."""

    def __init__(
        self, context: ConnectorContext, accounts_server: str, http: httpx.AsyncClient
    ) -> None:
        secrets = cast("ZohoBooksSecrets", context.secrets)
        self.connection_id, self._credentials = context.connection_id, context.credentials
        self.endpoint, self._http = ZohoTokenEndpoint(accounts_server), http
        self._client_id = _plain(secrets.client_id) or ""
        self._client_secret = _plain(secrets.client_secret) or ""
        self._refresh_token = _plain(secrets.refresh_token)
        self._dead: tuple[str, AuthFailed] | None = None  # (credentials digest, the refusal)

    def _digest(self, refresh_token: str) -> str:
        """Which credentials a refusal was for (never the secrets themselves)."""
        material = "\0".join(
            (self.endpoint.accounts_server, self._client_id, self._client_secret, refresh_token)
        )
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    async def __call__(self) -> AccessToken:
        """A new token; the remembered refusal, without asking Zoho, while the credentials
        are the ones the accounts server refused."""
        refresh_token = await self._credentials.load(REFRESH_TOKEN_KEY) or self._refresh_token
        if self._dead is not None:
            if not refresh_token or self._digest(refresh_token) == self._dead[0]:
                raise self._dead[1].with_traceback(None)
            self._dead = None  # reconnected while we ran: try the new credentials
        if not refresh_token:
            raise CredentialsRevoked(
                f"connection {self.connection_id} has no Zoho refresh token; "
                "run `ledgerbridge connect zohobooks`",
                platform="zohobooks",
            )
        digest = self._digest(refresh_token)
        if await self._credentials.load(DEAD_KEY) == digest:
            refused = CredentialsRevoked(
                f"Zoho's accounts server {self.endpoint.accounts_server} refused this "
                "connection's refresh token before (revoked, or deleted by Zoho's 20-token "
                "cap); it is not asked again with the same credentials: reconnect with "
                "`ledgerbridge connect zohobooks`",
                platform="zohobooks",
                code="refused_before",
            )
            self._dead = (digest, refused)
            raise refused
        try:
            return await self.endpoint.refresh(
                self._http, refresh_token, self._client_id, self._client_secret
            )
        except AuthFailed as exc:
            self._dead = (digest, exc)
            await self._credentials.save(DEAD_KEY, digest)
            raise exc from None


def _plain(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret else None
