"""The polling helper: which records of a page are handed over, the lane after them, and the
one guard that parks a record whose mapping raised, naming the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anyio

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import Change
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
    async def pages(since: datetime | None) -> AsyncIterator[list[dict]]:
        assert since is None
        yield [rec(1, 0), rec(2, 1)]
        yield [rec(2, 1)]  # nothing new: no page

    def build(record):
        raise KeyError("x")

    async def run():
        return [p async for p in poll(LISTING, Checkpoint(), "main", pages, build)]

    got = anyio.run(run)
    assert len(got) == 1 and [c.external_id for c in got[0].changes] == ["1", "2"]
    lane = Checkpoint.loads(got[0].checkpoint).lane("main")
    assert lane.mark == T0 + timedelta(minutes=1) and set(lane.seen) == {"1", "2"}


def test_poll_lists_from_the_mark_minus_the_overlap_and_hands_over_only_what_is_new():
    lane = Watermark().handed_over([("2", T0 + timedelta(minutes=1))], LISTING.overlap)
    asked: list[datetime | None] = []

    async def pages(since: datetime | None) -> AsyncIterator[list[dict]]:
        asked.append(since)
        yield [rec(2, 1), rec(7, 1), rec(2, 3)]  # 2 as stored, 7 late in the window, 2 changed

    async def run():
        stored = Checkpoint().with_lane("main", lane).dumps()
        return [p async for p in poll(LISTING, Checkpoint.loads(stored), "main", pages, unmapped)]

    [page] = anyio.run(run)
    assert asked == [T0]  # the mark (T0+1) minus the one-minute overlap
    assert [(c.external_id, c.version) for c in page.changes] == [
        ("7", rec(7, 1)["updated"]),
        ("2", rec(2, 3)["updated"]),
    ]
    assert [c.error.details["exception"] for c in page.changes if c.error] == ["KeyError"] * 2


def unmapped(record):
    raise KeyError(record["id"])


def test_a_listing_declared_by_key_names_reads_the_version_as_the_instant():
    by_keys = Listing(EntityType.ORDER, "shop", identify="id", version="updated")
    record = rec(8, 2)
    assert by_keys.key(record) == ("8", record["updated"])
    assert by_keys.instant(record) == T0 + timedelta(minutes=2)
    assert by_keys.instant({"id": 8, "updated": "soon"}) is None
    assert by_keys.instant({"id": 8, "updated": 1700000000}) is None  # not a date-time


def test_a_webhook_body_is_read_by_the_same_declaration():
    by_keys = Listing(EntityType.ORDER, "shop", identify="id", version="updated")
    event = by_keys.event(rec(8, 2), "order.updated")
    assert (event.external_id, event.version, event.entity) == (
        "8",
        rec(8, 2)["updated"],
        EntityType.ORDER,
    )
    assert event.delivery_id == f"8:{rec(8, 2)['updated']}"  # the inbox de-duplicates on it
    assert by_keys.event(rec(8, 2), "order.updated", "d-1").delivery_id == "d-1"


def test_poll_hands_a_page_to_build_page_and_counts_what_remains():
    """A source with one lookup per page (shipments, children) maps a page at once; a
    listing that states how many records match gives each page's ``remaining``."""
    handed: list[list[str]] = []

    async def pages(since: datetime | None) -> AsyncIterator[list[dict]]:
        yield [rec(1, 0), rec(2, 1)]
        yield [rec(2, 1)]  # nothing new: not built, not yielded
        yield [rec(3, 2)]

    async def build_page(records: list[dict]) -> list[Change]:
        handed.append([str(r["id"]) for r in records])
        return [LISTING.change(r, lambda r=r: unmapped(r)) for r in records]

    async def run():
        return [
            p
            async for p in poll(
                LISTING, None, "main", pages, build_page=build_page, matched=lambda: 4
            )
        ]

    got = anyio.run(run)
    assert handed == [["1", "2"], ["3"]]
    assert [p.remaining for p in got] == [4, 1]  # 4 matched; 3 were on earlier pages
    assert Checkpoint.loads(got[-1].checkpoint).lane("main").mark == T0 + timedelta(minutes=2)
