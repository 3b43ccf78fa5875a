"""HTTP to TinyShop: bearer-token auth as an httpx auth flow, errors as ledgerbridge classes."""

from __future__ import annotations

import json
from collections.abc import Generator
from decimal import Decimal
from typing import Any

import httpx

from ledgerbridge.errors import AuthFailed, NotFound, RateLimited, TransientError, ValidationFailed
from ledgerbridge.retry import call_with_retry


class BearerToken(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class TinyShopClient:
    def __init__(
        self, base_url: str, token: str, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, auth=BearerToken(token), transport=transport, timeout=30
        )

    async def get(self, path: str, **params: Any) -> Any:
        async def once() -> Any:
            try:
                response = await self._http.get(path, params=params)
            except httpx.TransportError as exc:
                raise TransientError(f"TinyShop unreachable: {exc!r}", platform="tinyshop") from exc
            return self._decode(response)

        return await call_with_retry(once)

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        status = response.status_code
        if status == 401:
            raise AuthFailed("TinyShop rejected the API token; create a new one", status_code=401)
        if status == 404:
            raise NotFound(f"TinyShop has no {response.request.url.path}", status_code=404)
        if status == 429:
            after = response.headers.get("Retry-After")
            raise RateLimited("TinyShop rate limit", retry_after=float(after) if after else None)
        if status >= 500:
            raise TransientError(f"TinyShop answered {status}", status_code=status)
        if status >= 400:
            raise ValidationFailed(
                f"TinyShop refused the request: {response.text}", status_code=status
            )
        return json.loads(response.content, parse_float=Decimal)

    async def aclose(self) -> None:
        await self._http.aclose()
