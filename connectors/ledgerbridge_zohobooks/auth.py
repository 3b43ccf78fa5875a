"""OAuth 2.0 access tokens for Zoho: refreshed early, once, for everyone.

Zoho mints at most 10 access tokens per refresh token per 10 minutes, so a
burst of workers that each refresh on expiry would lock the connection out.
``TokenManager.token()`` is single-flight at two levels:

* in this process, an anyio lock plus a second "still valid?" check after
  taking it, so concurrent tasks wait for one refresh and share its token;
* across processes, a named lock from ``context.locks`` (the engine backs it
  by the store) around re-reading ``context.credentials`` -- another process
  may already have refreshed and saved a token -- and refreshing.

Tokens live in ``context.credentials`` only; they never reach logs or errors.
The token endpoint reports failures *in the body with HTTP 200*
(``{"error": "invalid_code"}``); those become ``AuthFailed`` with a message
that tells an operator the likely cause -- ``CredentialsRevoked`` when the
refresh token itself is dead (facts doc §2.6: ``invalid_code`` is also the
answer for a revoked or deleted refresh token).

A dead refresh token is remembered: in this process, and in the credential
store as a digest of the credentials that failed (``DEAD_KEY``), so neither
this run nor a later one asks the accounts server again with the same ones --
Zoho mints at most 10 access tokens per refresh token per 10 minutes (§2.8),
and a loop of refused refreshes helps nobody.  New credentials (a
``ledgerbridge connect``, a changed secret) have another digest and are tried.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from ledgerbridge.contracts.context import CredentialStore, LockProvider
from ledgerbridge.errors import AuthFailed, CredentialsRevoked, TransientError

from .jsonmoney import loads

REFRESH_MARGIN = 300.0  # refresh this many seconds before Zoho's expiry
TOKEN_KEY = "access_token"  # noqa: S105 - a credential name, not a value
EXPIRES_KEY = "access_token_expires_at"
API_DOMAIN_KEY = "api_domain"
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


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float  # wall-clock epoch seconds
    api_domain: str | None = None

    def fresh(self, margin: float = REFRESH_MARGIN) -> bool:
        return time.time() < self.expires_at - margin


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


class TokenManager:
    """Access tokens for one connection (one refresh token)."""

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
        locks: LockProvider,
    ) -> None:
        self.connection_id = connection_id
        self._http = http
        self.accounts_server = accounts_server
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._credentials = credentials
        self._locks = locks
        self._cached: AccessToken | None = None
        self._lock = anyio.Lock()
        self.refreshes = 0
        self._dead: tuple[str, AuthFailed] | None = None  # (credentials digest, the refusal)

    @property
    def lock_name(self) -> str:
        return f"zohobooks:token:{self.connection_id}"

    async def token(self) -> AccessToken:
        """A token valid for at least the refresh margin (refreshing at most once at a time).

        Raises the remembered refusal, without asking Zoho, while the credentials are
        the ones the accounts server refused."""
        cached = self._cached
        if cached is not None and cached.fresh():
            return cached
        async with self._lock:
            if self._dead is not None:
                await self._still_dead()
            cached = self._cached
            if cached is not None and cached.fresh():
                return cached  # another task refreshed while we waited
            async with self._locks.lock(self.lock_name, ttl=60.0):
                stored = await self._load_stored()
                if stored is not None and stored.fresh() and stored != self._cached:
                    self._cached = stored  # another process refreshed while we waited
                    return stored
                self._cached = await self._refresh()
                await self._save(self._cached)
                return self._cached

    def invalidate(self, used: str) -> None:
        """Zoho rejected ``used``: the next ``token()`` refreshes (unless someone already did)."""
        if self._cached is not None and self._cached.value == used:
            self._cached = AccessToken(used, 0.0, self._cached.api_domain)

    async def _load_stored(self) -> AccessToken | None:
        value = await self._credentials.load(TOKEN_KEY)
        expires = await self._credentials.load(EXPIRES_KEY)
        if not value or not expires:
            return None
        if self._cached is not None and self._cached.value == value:
            return self._cached  # the one just rejected or expired: not a new token
        domain = await self._credentials.load(API_DOMAIN_KEY)
        return AccessToken(value, float(expires), domain)

    async def _save(self, token: AccessToken) -> None:
        await self._credentials.save(TOKEN_KEY, token.value)
        await self._credentials.save(EXPIRES_KEY, repr(token.expires_at))
        if token.api_domain:
            await self._credentials.save(API_DOMAIN_KEY, token.api_domain)

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
        self.refreshes += 1
        expires_in = float(body.get("expires_in") or 3600)
        domain = body.get("api_domain")
        return AccessToken(
            str(body["access_token"]),
            time.time() + expires_in,
            str(domain).rstrip("/") if domain else None,
        )
