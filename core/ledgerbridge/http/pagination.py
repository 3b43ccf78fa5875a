"""The three ways platforms page a list, as async iterators over pages.

A connector supplies "fetch one page" and gets the loop: stop conditions, a guard against a
platform that answers the same cursor forever, and a bound on pages.  Each yields the page as
the fetch returned it, so the connector maps records and checkpoints per page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

from ..errors import TransientError

P = TypeVar("P")

# A list longer than this many pages is a platform looping, not a shop's history.
MAX_PAGES = 1_000_000


async def numbered_pages(
    fetch: Callable[[int], Awaitable[P]],
    *,
    total_pages: Callable[[P], int | None] = lambda _page: None,
    is_empty: Callable[[P], bool] = lambda page: not page,
    first: int = 1,
) -> AsyncIterator[P]:
    """Pages 1, 2, ... until the platform's stated total (``X-WP-TotalPages``, a ``Link`` header
    without ``next``) is reached or a page comes back empty."""
    number = first
    while number - first < MAX_PAGES:
        page = await fetch(number)
        if is_empty(page):
            return
        yield page
        total = total_pages(page)
        if total is not None and number >= total + first - 1:
            return
        number += 1


async def cursor_pages(
    fetch: Callable[[str | None], Awaitable[P]],
    next_cursor: Callable[[P], str | None],
    *,
    start: str | None = None,
    platform: str = "",
) -> AsyncIterator[P]:
    """Pages until the platform returns no next cursor (GraphQL ``pageInfo.endCursor`` with
    ``hasNextPage``, REST ``page_info``, API2Cart ``next``)."""
    cursor, seen = start, set[str]()
    for _ in range(MAX_PAGES):
        page = await fetch(cursor)
        yield page
        cursor = next_cursor(page)
        if not cursor:
            return
        if cursor in seen:
            raise TransientError(
                f"{platform or 'platform'}: the cursor {cursor[:40]!r} came back twice; "
                "stopping instead of looping",
                platform=platform or None,
            )
        seen.add(cursor)


def end_cursor(connection: Mapping[str, Any]) -> str | None:
    """A GraphQL connection's next cursor (the Relay ``pageInfo`` convention): ``endCursor``
    while ``hasNextPage``, else None."""
    info = connection.get("pageInfo") or {}
    return (info.get("endCursor") or None) if info.get("hasNextPage") else None


def connection_items(connection: Mapping[str, Any] | None) -> list[Any]:
    """The items of a GraphQL connection, read as ``nodes`` or as ``edges { node }``."""
    if not connection:
        return []
    if "nodes" in connection:
        return list(connection["nodes"] or [])
    return [edge["node"] for edge in connection.get("edges") or []]


async def connection_pages(
    fetch: Callable[[str | None], Awaitable[Mapping[str, Any]]],
    *,
    start: str | None = None,
    platform: str = "",
) -> AsyncIterator[Mapping[str, Any]]:
    """GraphQL connections page by page: ``fetch(after)`` returns the connection object
    (``nodes``/``edges`` and ``pageInfo``); pages follow ``endCursor`` while ``hasNextPage``.
    ``start``: the cursor after a page already in hand (a nested connection's first page
    arrives inside its owner)."""
    async for page in cursor_pages(fetch, end_cursor, start=start, platform=platform):
        yield page


async def complete_connection(
    connection: Mapping[str, Any] | None,
    fetch: Callable[[str | None], Awaitable[Mapping[str, Any]]],
    *,
    platform: str = "",
) -> dict[str, Any]:
    """A nested connection with every page in ``nodes``: its first page arrived inside its
    owner, ``fetch(after)`` reads the pages after it (a follow-up query by the owner's id).
    The result says ``hasNextPage: False`` so a mapper can tell it is whole."""
    items = connection_items(connection)
    cursor = end_cursor(connection) if connection else None
    if cursor:
        async for page in connection_pages(fetch, start=cursor, platform=platform):
            items += connection_items(page)
    return {"nodes": items, "pageInfo": {"hasNextPage": False}}


async def has_more_pages(
    fetch: Callable[[int], Awaitable[P]],
    has_more: Callable[[P], bool],
    *,
    first: int = 1,
) -> AsyncIterator[P]:
    """Pages while the platform's flag says more follow (Zoho ``page_context.has_more_page``)."""
    number = first
    while number - first < MAX_PAGES:
        page = await fetch(number)
        yield page
        if not has_more(page):
            return
        number += 1


def header_total_pages(header: str) -> Callable[[Any], int | None]:
    """``total_pages`` for a page fetched as an ``httpx.Response``: the count in ``header``."""

    def read(response: Any) -> int | None:
        value = response.headers.get(header)
        return int(value) if value is not None and str(value).isdigit() else None

    return read


def header_count(response: Any, name: str) -> int | None:
    """A count header (``X-WP-Total``, ``X-Total-Count``) as an int; None when absent or not
    a plain number (a cache that mangles it must not end a read early)."""
    value = (response.headers.get(name) or "").strip()
    return int(value) if value.isdigit() else None


def more_numbered_pages(
    response: Any, page: int, per_page: int, count: int, *, total_pages_header: str
) -> bool:
    """Whether pages follow page ``page`` (of ``count`` records) of a page-numbered list.

    Platforms say it two ways, and some caches strip either: a total-pages header
    (``X-WP-TotalPages``) and an RFC 8288 ``Link`` header whose ``rel="next"`` names the next
    page.  With the total: more while the page number is below it (and, when a ``Link``
    header is sent, it names ``next``); without it, the ``Link`` header decides; with
    neither, a full page means more may follow (a short one is the last).
    """
    total_pages = header_count(response, total_pages_header)
    has_link, has_next = "link" in response.headers, "next" in response.links
    if total_pages is not None:
        return page < total_pages and (has_next or not has_link)
    return has_next if has_link else count >= per_page
