"""Cursor pagination on the kit's loop (``ledgerbridge.http.cursor_pages``): filters on page 1,
then ``page_cursor`` alone until ``next`` is null."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ledgerbridge.errors import ValidationFailed
from ledgerbridge.http import cursor_pages

from .client import Api2CartClient, Params
from .envelope import PLATFORM, TOO_MANY_ITEMS, Envelope


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
        async for envelope in cursor_pages(self._fetch, _next, platform=PLATFORM):
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


def _next(envelope: Envelope) -> str | None:
    return envelope.next_cursor
