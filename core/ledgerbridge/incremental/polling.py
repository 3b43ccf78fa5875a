"""The polling half of a source: which records of a listed page are new, and each as a Change.

A connector supplies how to list a page (its client and a kit paginator), how to map one
record, and where a record sits on the watermark (its id, version and modification instant):
``Listing``.  ``take`` decides which records of a page are handed over -- not already handed
over by this walk, nor by the last one inside the overlap window -- and moves the lane;
``change`` maps one record under the core guard (``contracts.guard.mapped``): whatever a
mapper raises becomes a parked ``Change`` naming the record, the field path and the
exception, never a crashed page.  ``poll`` strings them together for the common case: one
lane, listed from its mark minus the overlap, one record mapped at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..canonical import CanonicalRecord, EntityType
from ..contracts.guard import mapped, record_id, record_version
from ..contracts.source import Change, ChangePage, WebhookEvent
from .checkpoint import Checkpoint, Watermark, instant_text, parse_instant

Record = dict[str, Any]
Read = Callable[[Record], Any] | str
"""A function of the raw record, or the name of its key (read with ``record.get``)."""


def _read(spec: Read, record: Record) -> Any:
    return record.get(spec) if isinstance(spec, str) else spec(record)


@dataclass(frozen=True)
class Listing:
    """Where a platform's records sit on a watermark, and how one becomes a Change.

    ``identify``/``version`` read the raw id and version -- a key's name or a function
    (``record_id``/``record_version`` make them storable); ``moment`` the modification instant
    the lane advances on (default: the version, read as an ISO date-time) -- a record whose
    instant cannot be read is handed over without moving the lane, and its mapping parks it.
    ``strict``: the listing is ordered by that same instant, so anything older than the mark
    was read before (a keyset) -- otherwise the window is re-read and only remembered pairs
    are skipped.
    """

    entity: EntityType
    platform: str
    identify: Read
    version: Read
    moment: Read | None = None
    overlap: timedelta = timedelta(0)
    strict: bool = False
    deleted: Callable[[Record], bool] = field(default=lambda _r: False)

    def key(self, record: Record) -> tuple[str, str | None]:
        ident, version = _read(self.identify, record), _read(self.version, record)
        return record_id(ident), record_version(version)

    def instant(self, record: Record) -> datetime | None:
        try:
            value = _read(self.version if self.moment is None else self.moment, record)
            value = parse_instant(value) if isinstance(value, str) else value
        except Exception:
            return None
        return value if isinstance(value, datetime) else None

    def event(self, record: Record, topic: str, delivery_id: str | None = None) -> WebhookEvent:
        """The event a webhook whose body is (or names) a listed record describes: its id and
        version read as the listing reads them; without the platform's delivery id, the
        inbox de-duplicates on ``<id>:<version>``."""
        ident, version = self.key(record)
        return WebhookEvent(
            delivery_id or f"{ident}:{version}",
            topic,
            self.entity,
            ident,
            version,
            deleted=self.deleted(record),
        )

    def change(self, record: Record, build: Callable[[], CanonicalRecord]) -> Change:
        """``record`` mapped by ``build`` under the core guard."""
        ident, version = self.key(record)
        return mapped(
            self.entity,
            ident,
            version,
            build,
            platform=self.platform,
            deleted=self.deleted(record),
        )


@dataclass
class Walk:
    """One walk over a listing: what it handed over, so a record listed twice (pages that
    shift while read) is handed over once."""

    listing: Listing
    once: Callable[[str, str | None], Hashable] = field(default=lambda i, v: (i, v))
    taken: set[Hashable] = field(default_factory=set)

    def take(
        self,
        lane: Watermark,
        items: list[Record],
        *,
        check: Callable[[Record, datetime], None] | None = None,
        seen_in: Watermark | None = None,
    ) -> tuple[list[Record], Watermark]:
        """The records of a page to hand over, and ``lane`` after them.  ``check`` sees every
        dated record first (a platform that ignored the filter is refused there); ``seen_in``
        is the lane whose remembered pairs are skipped (default ``lane``: pass the lane the
        walk started from when the window is re-read, so no pair is forgotten mid-walk)."""
        seen_in = lane if seen_in is None else seen_in
        fresh: list[Record] = []
        handed: list[tuple[str, datetime, str]] = []
        for item in items:
            ident, version = self.listing.key(item)
            moment = self.listing.instant(item)
            if moment is not None and check is not None:
                check(item, moment)
            key = self.once(ident, version)
            if key in self.taken:
                continue
            if moment is not None and self._seen(seen_in, ident, version, moment):
                continue
            self.taken.add(key)
            fresh.append(item)
            if moment is not None:
                handed.append((ident, moment, _stamp(version, moment)))
        return fresh, self._after(lane, handed, fresh)

    def _seen(self, lane: Watermark, ident: str, version: str | None, moment: datetime) -> bool:
        if self.listing.strict:
            at = instant_text(moment)  # alone: what a checkpoint stored before versions were
            return lane.mark is not None and (
                moment < lane.mark
                or lane.already_seen(ident, _stamp(version, moment))
                or lane.already_seen(ident, at)
            )
        return lane.already_seen(ident, version)

    def _after(
        self, lane: Watermark, handed: list[tuple[str, datetime, str]], fresh: list[Record]
    ) -> Watermark:
        if self.listing.strict:
            for _, moment, _ in handed:
                lane = lane.advanced(moment)
            return lane.remember(((i, stamp) for i, _, stamp in handed), timedelta(0))
        for _, moment, _ in handed:
            lane = lane.advanced(moment)
        return lane.remember((self.listing.key(r) for r in fresh), self.listing.overlap)


def _stamp(version: str | None, moment: datetime) -> str:
    """What a keyset lane remembers of a record handed over at the mark: its instant, and its
    own version where that says more -- a platform stamping modifications to the whole second
    (WooCommerce) keeps the instant when a record changes again within the second it was
    read in, and only the version shows the change."""
    at = instant_text(moment)
    return at if version in (None, at) else f"{at} {version}"


async def poll(
    listing: Listing,
    checkpoint: Checkpoint | str | None,
    lane_name: str,
    pages: Callable[[datetime | None], AsyncIterable[list[Record]]],
    build: Callable[[Record], CanonicalRecord] | None = None,
    *,
    build_page: Callable[[list[Record]], Awaitable[list[Change]]] | None = None,
    matched: Callable[[], int | None] | None = None,
) -> AsyncIterator[ChangePage]:
    """Pages of changes, each with the checkpoint after it.  ``checkpoint`` is the stored text
    (read by ``Checkpoint.loads`` for this lane and the listing's platform) or a ``Checkpoint``;
    ``pages(since)`` lists the records modified from ``since`` (the lane's mark minus the
    overlap; None: from the start); ``build(record)`` maps one, under the core guard.  A page
    that hands nothing over is not yielded.

    ``build_page`` replaces ``build`` for a source that needs one lookup per page (an
    order's shipments, a product's children) before it maps: it gets the page's fresh
    records and returns their Changes (each through ``Listing.change`` or ``mapped``).
    ``matched()``, when the listing says how many records the query matches on all pages
    together (read after each page arrives), gives each page's ``remaining`` for progress.
    A source that narrows its query as the mark moves (a keyset) drives ``Walk`` itself."""
    if not isinstance(checkpoint, Checkpoint):
        checkpoint = Checkpoint.loads(checkpoint, lanes=[lane_name], platform=listing.platform)
    walk = Walk(listing)
    start = checkpoint.lane(lane_name)
    lane = start
    walked = 0  # records of the query before this page
    async for items in pages(start.start(listing.overlap)):
        total = None if matched is None else matched()
        remaining = None if total is None else max(0, total - walked)
        walked += len(items)
        fresh, lane = walk.take(lane, items, seen_in=start)
        checkpoint = checkpoint.with_lane(lane_name, lane)
        if not fresh:
            continue
        if build_page is not None:
            changes = await build_page(fresh)
        else:
            assert build is not None, "poll needs build or build_page"
            changes = [listing.change(r, lambda r=r: build(r)) for r in fresh]  # type: ignore[misc]
        yield ChangePage(changes, checkpoint.dumps(), remaining=remaining)
