"""A page-numbered list ordered by modification time, read as a keyset.

Page numbers over a set that changes while it is read shift: a record modified mid-scan
moves to the end and every later row moves up one, so a plain page walk skips a record.
Platforms that page by number but filter by a modification bound (WooCommerce's
``modified_after``, and the WordPress-style REST APIs like it) are therefore read as a
keyset: each request asks from the lane's mark less the overlap, oldest first; a page that
moves the mark starts a new, narrower query from its page 1, and only a full page of ties
at one instant (which the mark cannot pass) walks on to the next page number.  Records
handed over at the mark are skipped (``Walk`` over a ``strict`` ``Listing``).

Two more rules every such platform needs, kept here with the walk:

* a platform that ignores the bound (a version before the filter existed) lists records
  older than it; each dated record is checked, and ``refuse`` builds the error that stops the
  read -- re-reading a whole history as new would post it again;
* hosts that time out rendering large pages are asked again from the same offset with half
  the page size, down to ``floor``; only at the floor is a timeout retried as it is (the
  fetch is told so: ``last_resort``).  ``shrunk`` hears of each new size (to log it and keep
  it for the source's later reads).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from .checkpoint import Watermark
from .polling import Listing, Record, Walk


class NumberedPage(Protocol):
    """What a fetch returns: the page's records, whether more follow, the stated total."""

    @property
    def items(self) -> list[Record]: ...
    @property
    def has_more(self) -> bool: ...
    @property
    def total(self) -> int | None: ...


# fetch(since, page, per_page, last_resort): one page of records modified from ``since``
# (None: from the start), oldest first.
Fetch = Callable[[datetime | None, int, int, bool], Awaitable[NumberedPage]]


@dataclass
class Keyset:
    """One keyset read of a listing (``pages``); ``per_page`` is what it asks for now."""

    listing: Listing
    overlap: timedelta
    fetch: Fetch
    per_page: int
    refuse: Callable[[Record, datetime, datetime], Exception]  # (record, its instant, bound)
    floor: int = 10
    timeout: type[Exception] = TimeoutError
    shrunk: Callable[[int, int], None] = field(default=lambda _old, _new: None)
    remaining: int | None = None
    """The stated total less the records of earlier pages of the current query (progress)."""

    async def pages(self, lane: Watermark) -> AsyncIterator[tuple[list[Record], Watermark]]:
        """Pages of records modified after ``lane``, each with the lane after it.  A record
        without a usable instant is handed on (its mapping parks it) and moves no lane."""
        page = 1
        walk = Walk(self.listing, once=lambda ident, _version: ident)
        while True:
            since = lane.start(self.overlap)
            try:
                last_resort = self.per_page <= self.floor
                result = await self.fetch(since, page, self.per_page, last_resort)
            except self.timeout:
                smaller = max(self.floor, self.per_page // 2)
                self.shrunk(self.per_page, smaller)
                # the same offset in smaller pages; repeats are skipped by id
                page = (page - 1) * self.per_page // smaller + 1
                self.per_page = smaller
                continue

            def too_old(item: Record, moment: datetime, bound: Any = since) -> None:
                if bound is not None and moment < bound:  # the bound itself: inclusive
                    raise self.refuse(item, moment, bound)

            fresh, advanced = walk.take(lane, result.items, check=too_old)
            total = result.total
            self.remaining = None if total is None else max(0, total - (page - 1) * self.per_page)
            yield fresh, advanced
            if not result.has_more:
                return
            page = 1 if advanced.mark != lane.mark else page + 1
            lane = advanced


__all__ = ["Fetch", "Keyset", "NumberedPage"]
