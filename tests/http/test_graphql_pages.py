"""The kit's GraphQL connection paging: Relay ``pageInfo`` followed to the end, a nested
connection continued after the page its owner brought, ``nodes`` or ``edges`` read alike."""

from __future__ import annotations

import anyio
import pytest

from ledgerbridge.errors import TransientError
from ledgerbridge.http import complete_connection, connection_items, connection_pages, end_cursor


def _page(items, cursor=None, more=False, edges=False):
    info = {"hasNextPage": more, "endCursor": cursor}
    if edges:
        return {"edges": [{"node": i} for i in items], "pageInfo": info}
    return {"nodes": items, "pageInfo": info}


PAGES = {
    None: _page([1, 2], "c1", True),
    "c1": _page([3], "c2", True, edges=True),
    "c2": _page([4], "c3", False),  # a cursor without hasNextPage: the end
}


async def _items(fetch, **kw):
    asked: list[str | None] = []

    async def spy(after):
        asked.append(after)
        return await fetch(after)

    items = [i async for page in connection_pages(spy, **kw) for i in connection_items(page)]
    return items, asked


async def _fetch(after):
    return PAGES[after]


def test_connection_pages_follow_end_cursor_while_has_next_page():
    assert anyio.run(_items, _fetch) == ([1, 2, 3, 4], [None, "c1", "c2"])
    # a nested connection: its first page came inside the owner, continue after it
    assert anyio.run(lambda: _items(_fetch, start="c1")) == ([3, 4], ["c1", "c2"])


def test_end_cursor_and_items_read_either_shape():
    assert end_cursor(_page([], "x", True)) == "x"
    assert end_cursor(_page([], "x", False)) is None
    assert end_cursor(_page([], None, True)) is None and end_cursor({}) is None
    assert connection_items(None) == [] and connection_items({"edges": []}) == []
    assert connection_items(_page([5], edges=True)) == [5]


def test_a_connection_that_answers_the_same_cursor_forever_is_refused():
    async def stuck(after):
        return _page([0], "same", True)

    with pytest.raises(TransientError, match="came back twice"):
        anyio.run(lambda: _items(stuck, platform="shop"))


def test_complete_connection_reads_the_pages_after_the_one_its_owner_brought():
    asked: list[str | None] = []

    async def fetch(after):
        asked.append(after)
        return PAGES[after]

    whole = anyio.run(complete_connection, PAGES[None], fetch)
    assert whole == {"nodes": [1, 2, 3, 4], "pageInfo": {"hasNextPage": False}}
    assert asked == ["c1", "c2"]  # the first page came with its owner: never asked again
    single = anyio.run(complete_connection, _page([9], "x", False), fetch)
    assert single["nodes"] == [9] and asked == ["c1", "c2"]
