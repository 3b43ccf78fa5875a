"""The polling helper: which records of a page are handed over, the lane after them, and the
one guard that parks a record whose mapping raised, naming the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anyio

from ledgerbridge.canonical import EntityType
from ledgerbridge.errors import ValidationFailed
from ledgerbridge.incremental import Checkpoint, Listing, Walk, Watermark, instant_text, poll

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def stamp(record):
    return datetime.fromisoformat(record["updated"]).replace(tzinfo=UTC)


LISTING = Listing(
    EntityType.ORDER,
    "shop",
    identify=lambda r: r.get("id"),
    version=lambda r: r.get("updated"),
    moment=stamp,
    overlap=timedelta(minutes=1),
)


def rec(ident, minutes):
    return {"id": ident, "updated": instant_text(T0 + timedelta(minutes=minutes))}


def test_the_overlap_window_is_reread_without_handing_pairs_over_twice():
    start = Watermark().handed_over([("1", T0)], timedelta(minutes=1))
    walk = Walk(LISTING)
    page = [rec(1, 0), rec(2, 0), rec(1, 0), rec(3, 5)]
    fresh, lane = walk.take(start, page, seen_in=start)
    assert [r["id"] for r in fresh] == [2, 3]
    assert lane.mark == T0 + timedelta(minutes=5) and set(lane.seen) == {"3"}
    # the same record changed again is handed over again
    fresh, _ = walk.take(lane, [rec(3, 6)], seen_in=start)
    assert [r["id"] for r in fresh] == [3]


def test_a_keyset_skips_anything_older_than_the_mark_and_ties_already_taken():
    keyset = Listing(**{**LISTING.__dict__, "strict": True})
    start = Watermark(T0, {"1": instant_text(T0)})
    fresh, lane = Walk(keyset).take(start, [rec(9, -1), rec(1, 0), rec(2, 0)])
    assert [r["id"] for r in fresh] == [2]
    assert lane.mark == T0 and set(lane.seen) == {"1", "2"}


def test_an_undated_record_is_handed_over_without_moving_the_lane():
    fresh, lane = Walk(LISTING).take(Watermark(), [{"id": 4, "updated": "garbage"}])
    assert [r["id"] for r in fresh] == [4] and lane.mark is None


def test_the_guard_parks_any_exception_with_its_field_path():
    def build():
        at = "line_items[0].price"
        return Decimal("x" + at)  # an unforeseen decimal signal

    change = LISTING.change(rec(5, 0), build)
    assert change.record is None and isinstance(change.error, ValidationFailed)
    assert change.error.details["field"] == "line_items[0].price"
    assert "shop order 5 could not be mapped at line_items[0].price" in str(change.error)


def test_poll_yields_pages_with_the_checkpoint_after_each():
    async def pages(lane: Watermark) -> AsyncIterator[list[dict]]:
        assert lane.mark is None
        yield [rec(1, 0), rec(2, 1)]
        yield [rec(2, 1)]  # nothing new: no page

    async def build(items):
        return [LISTING.change(r, lambda: (_ for _ in ()).throw(KeyError("x"))) for r in items]

    async def run():
        return [p async for p in poll(LISTING, Checkpoint(), "main", pages, build)]

    got = anyio.run(run)
    assert len(got) == 1 and [c.external_id for c in got[0].changes] == ["1", "2"]
    lane = Checkpoint.loads(got[0].checkpoint).lane("main")
    assert lane.mark == T0 + timedelta(minutes=1) and set(lane.seen) == {"1", "2"}
