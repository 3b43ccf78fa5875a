"""The kit's keyset read of a page-numbered list (``incremental.keyset.Keyset``), against a
small in-memory platform that filters ``modified >= since``, orders by modification time and
pages by number -- so a record modified mid-scan shifts every later row, as on WooCommerce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from ledgerbridge.canonical import EntityType
from ledgerbridge.errors import SyncError
from ledgerbridge.incremental import Listing, Watermark
from ledgerbridge.incremental.keyset import Keyset

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).replace(tzinfo=None).isoformat()


LISTING = Listing(
    EntityType.ORDER,
    "memory",
    identify="id",
    version="modified",
    strict=True,
)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    has_more: bool
    total: int | None


class Shop:
    """Records by id; a list call sees them as they are at the moment of the call."""

    def __init__(self, records: dict[int, int], *, ignores_filter: bool = False) -> None:
        self.records = {i: {"id": i, "modified": at(m)} for i, m in records.items()}
        self.calls: list[tuple[datetime | None, int, int, bool]] = []
        self.ignores_filter = ignores_filter
        self.timeouts_above: int | None = None  # per_page above which the host times out
        self.on_call: Any = None

    async def fetch(self, since: datetime | None, page: int, size: int, last: bool) -> Page:
        self.calls.append((since, page, size, last))
        if self.on_call:
            self.on_call(len(self.calls))
        if self.timeouts_above is not None and size > self.timeouts_above:
            raise TimeoutError
        rows = sorted(self.records.values(), key=lambda r: (r["modified"], r["id"]))
        if since is not None and not self.ignores_filter:
            floor = since.replace(tzinfo=None).isoformat()
            rows = [r for r in rows if r["modified"] >= floor]
        chunk = rows[(page - 1) * size : page * size]
        return Page(chunk, page * size < len(rows), len(rows))


class TooOld(SyncError):
    pass


def refuse(item: dict[str, Any], moment: datetime, bound: datetime) -> Exception:
    return TooOld(f"{item['id']} modified {moment.isoformat()} before {bound.isoformat()}")


def read(shop: Shop, lane: Watermark, per_page: int, **kw: Any) -> tuple[list[Any], Keyset]:
    keyset = Keyset(LISTING, timedelta(seconds=1), shop.fetch, per_page, refuse, **kw)

    async def run() -> list[Any]:
        return [(list(fresh), after) async for fresh, after in keyset.pages(lane)]

    return anyio.run(run), keyset


def ids(pages: list[Any]) -> list[int]:
    return [r["id"] for fresh, _ in pages for r in fresh]


def test_a_page_that_moves_the_mark_starts_a_narrower_query_from_page_one():
    shop = Shop({i: i for i in range(1, 8)})  # seven records, a minute apart
    pages, _ = read(shop, Watermark(), per_page=3)
    assert ids(pages) == [1, 2, 3, 4, 5, 6, 7]
    # every request is page 1: each page moved the mark, so the next asks from it
    assert [(page, size) for _, page, size, _ in shop.calls] == [(1, 3)] * len(shop.calls)
    assert shop.calls[1][0] == T0 + timedelta(minutes=3) - timedelta(seconds=1)
    assert pages[-1][1].mark == T0 + timedelta(minutes=7)


def test_a_full_page_of_ties_walks_on_to_the_next_page_number():
    shop = Shop({1: 5, 2: 5, 3: 5, 4: 5, 5: 5, 6: 9})  # five records at one instant
    pages, _ = read(shop, Watermark(T0), per_page=2)
    assert ids(pages) == [1, 2, 3, 4, 5, 6]
    # the first page moved the mark (T0 -> T0+5): page 1 again from there; it hands over
    # nothing new and cannot move the mark, so the walk goes by number through the ties
    assert [page for _, page, _, _ in shop.calls] == [1, 1, 2, 3]


def test_a_record_modified_while_the_list_is_read_is_not_skipped():
    shop = Shop({i: i for i in range(1, 7)})

    def modify(call: int) -> None:
        if call == 2:  # between the first and second page, record 1 changes
            shop.records[1]["modified"] = at(30)

    shop.on_call = modify
    pages, _ = read(shop, Watermark(), per_page=2)
    assert sorted(ids(pages)) == [1, 2, 3, 4, 5, 6]  # once each: no row skipped by the shift
    # its new version is the next read's: listed after the mark, handed over then
    again, _ = read(shop, pages[-1][1], per_page=2)
    assert ids(again) == [1] and again[-1][1].mark == T0 + timedelta(minutes=30)


def test_a_timeout_halves_the_page_from_the_same_offset_down_to_the_floor():
    shop = Shop({i: 5 for i in range(1, 9)})  # ties: the walk goes by page number
    shop.timeouts_above = 2
    heard: list[tuple[int, int]] = []
    pages, keyset = read(
        shop, Watermark(T0), per_page=8, floor=2, shrunk=lambda a, b: heard.append((a, b))
    )
    assert ids(pages) == list(range(1, 9))
    assert heard == [(8, 4), (4, 2)]
    assert keyset.per_page == 2  # what later reads of the source may keep
    # only at the floor may the fetch retry a timeout as it is
    assert [(size, last) for _, _, size, last in shop.calls[:3]] == [
        (8, False),
        (4, False),
        (2, True),
    ]


def test_a_platform_that_ignores_the_bound_is_refused_not_read_again_as_new():
    shop = Shop({1: 0, 2: 10}, ignores_filter=True)
    with pytest.raises(TooOld, match="1 modified"):
        read(shop, Watermark(T0 + timedelta(minutes=5)), per_page=10)


def test_remaining_is_the_stated_total_less_earlier_pages_of_the_query():
    shop = Shop({i: 5 for i in range(1, 6)})
    seen: list[int | None] = []
    keyset = Keyset(LISTING, timedelta(seconds=1), shop.fetch, 2, refuse)

    async def run() -> None:
        async for _ in keyset.pages(Watermark(T0)):
            seen.append(keyset.remaining)

    anyio.run(run)
    assert seen == [5, 5, 3, 1]  # page 1 twice: the first page moved the mark
