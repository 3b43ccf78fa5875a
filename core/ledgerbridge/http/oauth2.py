"""The OAuth 2.0 refresh-token grant (RFC 6749 §6) and the store of a refresh token that
rotates: what ``RotatingTokenAuth`` asks a platform for (``refresh``, and a ``store`` when the
refresh token rotates), written once.  A platform declares its token URL and how it words a
refusal.  Shopify and Zoho Books use it; so would QuickBooks Online and Xero (standard token
endpoints, refresh tokens replaced on every use)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from pydantic import SecretStr

from ..contracts.context import CredentialStore
from ..errors import AuthFailed, TransientError
from .auth import AccessToken


class TokenEndpoint:
    """A platform's token endpoint and how its answers read.

    A grant is a form POST with the client credentials in the body (RFC 6749 §2.3.1).  A
    transport error or a 5xx is a ``TransientError`` (the next attempt may get through);
    anything but HTTP 200 with an ``access_token`` and no ``error`` is the platform's refusal,
    ``refused`` -> ``AuthFailed`` with its ``error`` code -- the body is read whatever the
    status, as some platforms (Zoho) answer an error with 200.  Messages are made from the
    templates below, which see the endpoint's name, the status, the ``error`` code and an
    exception's class name: never a token or the client secret."""

    unreachable = "{name}: {error}"
    server_error = "{name}: HTTP {status}"
    refusal = "{name} was refused (HTTP {status}, {error}); reconnect"
    not_json: str | None = None  # set: an answer that is not JSON is transient, not a refusal

    def __init__(self, url: str, platform: str, name: str | None = None) -> None:
        self.url, self.platform = url, platform
        self.name = name or f"{platform} token refresh"

    async def refresh(
        self, http: httpx.AsyncClient, refresh_token: str, client_id: str, client_secret: str
    ) -> AccessToken:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        try:
            response = await http.post(self.url, data=form)
        except httpx.TransportError as exc:
            message = self.unreachable.format(name=self.name, error=type(exc).__name__)
            raise TransientError(message, platform=self.platform) from None
        return self.access_token(self.read(response), refresh_token)

    def read(self, response: httpx.Response) -> dict[str, Any]:
        """The answer's JSON if it holds a token, else the error it means."""
        status = response.status_code
        if status >= 500:
            message = self.server_error.format(name=self.name, status=status)
            raise TransientError(message, platform=self.platform, status_code=status)
        try:
            body = json.loads(response.content)
        except ValueError:
            if self.not_json is not None:
                message = self.not_json.format(name=self.name, status=status)
                raise TransientError(message, platform=self.platform, status_code=status) from None
            body = None
        granted = isinstance(body, dict) and body.get("access_token") and "error" not in body
        if status == 200 and granted:
            return body  # type: ignore[no-any-return]
        raise self.refused(status, body)

    def refused(self, status: int, body: Any) -> AuthFailed:
        """The refusal ``body`` (the answer's JSON; None if it was not JSON) means."""
        fields = body if isinstance(body, dict) else {}
        error = fields.get("error", "no access token")
        message = self.refusal.format(name=self.name, status=status, error=error)
        return AuthFailed(
            message, platform=self.platform, status_code=status, code=fields.get("error")
        )

    def access_token(self, body: dict[str, Any], refresh_token: str) -> AccessToken:
        """``expires_in`` (an hour if absent) as an expiry; a refresh token in the answer
        replaces the one used (rotation, RFC 6749 §6)."""
        expires_at = time.time() + float(body.get("expires_in") or 3600)
        rotated = body.get("refresh_token") or refresh_token
        return AccessToken(str(body["access_token"]), expires_at, None, rotated)


class RotatingRefresh:
    """A refresh token the platform replaces on every use: ``RotatingTokenAuth``'s ``refresh``
    and its ``store`` at once.

    The pair is one JSON credential (``name``), so access and refresh token are saved in one
    write, which ``RotatingTokenAuth`` makes before the new access token is used: a rotation
    cannot be repeated, and a refresh token lost between two writes strands the connection.
    The refresh token used is the last one stored (``RotatingTokenAuth`` reloads the store
    under its lock before refreshing), else the configured one.  ``seed`` is an access token
    configured by hand, used until it is refused or a rotated pair is stored.  Each refresh
    opens its own client on ``transport`` (refreshes are rare)."""

    def __init__(
        self,
        endpoint: TokenEndpoint,
        credentials: CredentialStore,
        name: str,
        *,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        seed: SecretStr | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoint, self._credentials, self._name = endpoint, credentials, name
        self.client_id, self._client_secret = client_id, client_secret
        self._refresh_token = refresh_token.get_secret_value()
        self._seed, self._transport = seed, transport

    async def load(self) -> AccessToken | None:
        raw = await self._credentials.load(self._name)
        if not raw:
            seed = self._seed.get_secret_value() if self._seed else None
            return AccessToken(seed, float("inf")) if seed else None
        pair = json.loads(raw)
        self._refresh_token = pair.get("refresh_token") or self._refresh_token
        expires_at = float(pair.get("expires_at", 0))
        return AccessToken(pair["access_token"], expires_at, None, self._refresh_token)

    async def save(self, token: AccessToken) -> None:
        pair = {"access_token": token.value, "refresh_token": token.refresh_token}
        await self._credentials.save(
            self._name, json.dumps({**pair, "expires_at": token.expires_at})
        )
        self._refresh_token = token.refresh_token or self._refresh_token

    async def __call__(self) -> AccessToken:
        async with httpx.AsyncClient(transport=self._transport, timeout=30.0) as http:
            secret = self._client_secret.get_secret_value()
            return await self.endpoint.refresh(http, self._refresh_token, self.client_id, secret)

    def __repr__(self) -> str:
        return f"RotatingRefresh({self.endpoint.url!r}, {self._name!r}, tokens=**********)"
