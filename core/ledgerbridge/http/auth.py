"""Authentication as ``httpx.Auth`` flows (httpx's own design): a client is given an auth
object once and never sets a credential header by hand."""

from __future__ import annotations

from collections.abc import Generator

import httpx
from pydantic import SecretStr


class BearerAuth(httpx.Auth):
    """``Authorization: <scheme> <token>`` on every request; the token stays a ``SecretStr``
    until the header is written, so it never shows in a repr, a log line or an exception."""

    def __init__(self, token: SecretStr | str, scheme: str = "Bearer") -> None:
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        self._scheme = scheme

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"{self._scheme} {self._token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return f"BearerAuth(scheme={self._scheme!r}, token=**********)"
