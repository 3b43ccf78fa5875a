"""HTTP to API2Cart v1.1 on the kit's client: two key headers, the envelope, throttling, cursors.

One client per store key.  API2Cart answers HTTP 200 for everything, so the envelope is
opened inside the retried call and its throttling codes (7/10/110) are waited out like a 429;
a ``Pacer`` spaces requests after a store said "slow down", and return code 10 pauses every
store under the API key.  Lists send their filters on page 1, then ``page_cursor`` alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any
from urllib.parse import urlencode

import httpx

from ledgerbridge.catalog_kit import exact_json
from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.errors import AuthFailed, RateLimited, SyncError, TransientError, ValidationFailed
from ledgerbridge.http import (
    ErrorTable,
    KitClient,
    SecretHeaders,
    cursor_pages,
    parse_json,
    retry_after,
)
from ledgerbridge.http.pacing import PAUSES as _GATES  # noqa: F401 -- tests clear it
from ledgerbridge.http.pacing import Pacer, shared_pause
from ledgerbridge.http.responses import Refusal

from .envelope import ACCOUNT_LIMIT, PLATFORM, TOO_MANY_ITEMS, Envelope, open_envelope
from .settings import Api2CartSecrets, Api2CartSettings

Params = Mapping[str, str | int | bool]
ERRORS = ErrorTable(PLATFORM)


@ERRORS.rule
def _gateway(response: httpx.Response, refusal: Refusal) -> SyncError:
    """API2Cart documents only HTTP 200: any other status is the gateway's."""
    if refusal.status == 429:
        return RateLimited(refusal.text, retry_after=retry_after(response), **refusal.kw)
    return TransientError(
        refusal.text + " (API2Cart documents only 200; treated as a gateway error)", **refusal.kw
    )


class Api2CartClient:
    """Calls ``{base_url}/{method}.json`` and returns the opened envelope."""

    def __init__(
        self, context: ConnectorContext, settings: Api2CartSettings, secrets: Api2CartSecrets
    ) -> None:
        api_key = secrets.api_key
        if api_key is None or not api_key.get_secret_value():
            raise AuthFailed(
                "API2Cart: no API key configured: set secrets.api_key for this connection",
                platform=PLATFORM,
            )
        self.kit = KitClient(
            context,
            settings.base_url.rstrip("/") + "/",
            ERRORS,
            # x-api-key: the account; x-store-key: one connected store
            auth=SecretHeaders({"x-api-key": api_key, "x-store-key": secrets.store_key}),
            timeout=settings.timeout,
            headers={"accept": "application/json"},
        )
        self._now = context.clock.now
        self.gate = shared_pause(api_key, PLATFORM)  # return code 10: the whole account waits
        self._account_backoff = settings.account_backoff
        self.pacer = Pacer()

    async def aclose(self) -> None:
        await self.kit.aclose()

    async def get(self, method: str, params: Params | None = None) -> Envelope:
        query = {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (params or {}).items()
        }
        return await self._call(method, "GET", query=urlencode(query))

    async def get_page(self, method: str, cursor: str) -> Envelope:
        """The next page: ``page_cursor`` alone, verbatim (it is already percent-encoded)."""
        return await self._call(method, "GET", query=f"page_cursor={cursor}")

    async def post(self, method: str, body: Mapping[str, Any]) -> Envelope:
        return await self._call(method, "POST", json=dict(body))

    async def put(self, method: str, body: Mapping[str, Any]) -> Envelope:
        """A write of absolute values (sent again safely); prices go out as exact JSON
        numbers, never through float."""
        json_body = exact_json(body).encode()
        headers = {"content-type": "application/json"}
        return await self._call(method, "PUT", content=json_body, headers=headers)

    async def _pace(self) -> None:
        await self.gate.wait(self._now(), self.kit.sleep)
        await self.pacer.wait(self.kit.sleep)

    def _open(self, method: str, response: httpx.Response) -> Envelope:
        payload = parse_json(response, platform=PLATFORM)  # exact decimals
        try:
            envelope = open_envelope(payload, method=method, account_backoff=self._account_backoff)
        except RateLimited as exc:
            self.pacer.throttled()
            if exc.code == str(ACCOUNT_LIMIT) and exc.retry_after:
                self.gate.pause(self._now() + exc.retry_after)
            raise
        self.pacer.succeeded()
        return envelope

    async def _call(self, method: str, verb: str, *, query: str = "", **send: Any) -> Envelope:
        url = f"{method}.json" + (f"?{query}" if query else "")
        _, envelope = await self.kit.request(
            verb,
            url,
            idempotent=True,  # reads, and writes that carry an ``idempotency_key`` or set values
            before=self._pace,
            read=lambda response: self._open(method, response),
            **send,
        )
        return envelope  # type: ignore[no-any-return]


@dataclass
class CursorPaginator:
    """Walks one list method; ``items_key`` names the list inside ``result`` (``order``,
    ``children``...).  On return code 111 ("too many items") page 1 is asked again with half
    the ``count``."""

    client: Api2CartClient
    method: str
    params: Params
    items_key: str
    # ``result.orders_count`` and its kin: how many items the query matches, all pages
    # together (../shared/docs/platforms/api2cart.md, "Lists nest under result").
    count_key: str | None = None
    count: int | None = None  # read from the first page, when ``count_key`` is there

    async def pages(self) -> AsyncIterator[list[dict[str, Any]]]:
        next_cursor = attrgetter("next_cursor")
        async for envelope in cursor_pages(self._fetch, next_cursor, platform=PLATFORM):
            result = envelope.result or {}
            if not isinstance(result, dict):
                raise ValidationFailed(
                    f"API2Cart {self.method}: result is {type(result).__name__}, not an object",
                    platform=PLATFORM,
                )
            items = result.get(self.items_key) or []
            if not isinstance(items, list):
                raise ValidationFailed(
                    f"API2Cart {self.method}: result.{self.items_key} is not a list",
                    platform=PLATFORM,
                )
            found = result.get(self.count_key) if self.count_key else None
            if self.count is None and isinstance(found, int) and not isinstance(found, bool):
                self.count = max(0, found)
            yield items

    async def all(self) -> list[dict[str, Any]]:
        return [item async for page in self.pages() for item in page]

    async def _fetch(self, cursor: str | None) -> Envelope:
        if cursor is not None:
            return await self.client.get_page(self.method, cursor)
        params = dict(self.params)
        while True:
            try:
                return await self.client.get(self.method, params)
            except ValidationFailed as exc:
                count = int(params.get("count", 10))
                if exc.code != str(TOO_MANY_ITEMS) or count <= 1:
                    raise
                params["count"] = count // 2
