"""The shared watermark checkpoint: lanes, overlap, bounded seen pairs, and the layouts the
built-in connectors stored before it (an existing deployment's checkpoints still resume)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ledgerbridge.errors import ValidationFailed
from ledgerbridge.incremental import (
    MAX_SEEN,
    Checkpoint,
    CheckpointUnreadable,
    Watermark,
    instant_text,
)

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def test_a_lane_moves_forward_only_and_forgets_pairs_outside_the_window():
    lane = Watermark().handed_over(
        [("1", T0), ("2", T0 + timedelta(minutes=5))], timedelta(minutes=2)
    )
    assert lane.mark == T0 + timedelta(minutes=5)
    assert dict(lane.seen) == {"2": "2026-01-05T10:05:00"}  # "1" is older than the window
    assert lane.advanced(T0) == lane
    assert lane.start(timedelta(minutes=2)) == T0 + timedelta(minutes=3)
    assert lane.already_seen("2", "2026-01-05T10:05:00")
    assert not lane.already_seen("2", "2026-01-05T10:06:00")  # changed again: not skipped
    assert not lane.already_seen("2", None)


def test_seen_is_bounded_keeping_the_newest():
    pairs = [(str(i), T0 + timedelta(seconds=i // 10)) for i in range(3000)]
    lane = Watermark().handed_over(pairs, timedelta(hours=1))
    assert len(lane.seen) == MAX_SEEN and "2999" in lane.seen and "0" not in lane.seen


def test_round_trip_keeps_lanes_and_extra_state():
    cp = Checkpoint().advanced("any", T0).with_extra(mode="full", page=3)
    cp = cp.with_lane("trash", Watermark(T0, {"7": instant_text(T0)}))
    again = Checkpoint.loads(cp.dumps(), lanes=("any", "trash"))
    assert again == cp
    assert json.loads(cp.dumps())["any"]["after"] == "2026-01-05T10:00:00"
    assert Checkpoint.loads(None) == Checkpoint() == Checkpoint.loads("  ")
    assert Checkpoint().advanced("x", None) == Checkpoint()  # empty lanes are not kept


def test_a_bare_iso_date_time_starts_every_named_lane_there():
    cp = Checkpoint.loads("2026-01-05T12:00:00+02:00", lanes=("modified", "deleted"))
    assert cp.lane("modified").mark == cp.lane("deleted").mark == T0
    assert Checkpoint.loads("2026-01-05T10:00:00").lane("main").mark == T0  # naive is UTC


def test_garbage_is_a_clear_error_of_both_kinds():
    for text in ("page 3 of 9", "{broken", "[1, 2]", '{"any": {"after": "yesterday"}}'):
        with pytest.raises(CheckpointUnreadable, match="shop: order checkpoint .* not readable"):
            Checkpoint.loads(text, platform="shop", what="order")
    assert issubclass(CheckpointUnreadable, ValidationFailed)
    assert issubclass(CheckpointUnreadable, ValueError)


def test_shopify_layout_still_resumes():
    stored = '{"seen": {"2": "2026-01-05T10:00:00Z"}, "since": "2026-01-05T10:00:00Z"}'
    lane = Checkpoint.loads(stored, lanes=("orders",)).lane("orders")
    # its versions were instants written with "Z": read as the instants handed_over remembers
    assert lane.mark == T0 and dict(lane.seen) == {"2": "2026-01-05T10:00:00"}
    assert lane.seen_at("2", T0) and not lane.seen_at("2", T0.replace(minute=1))


def test_api2cart_layout_still_resumes():
    stored = json.dumps(
        {
            "v": 1,
            "modified": "2026-01-05T12:00:00+02:00",
            "deleted": None,
            "seen": {"modified": {"5": "2026-01-05T11:59:00+0200"}},
        }
    )
    cp = Checkpoint.loads(stored, lanes=("modified", "deleted"))
    assert cp.lane("modified").mark == T0 and cp.lane("deleted").mark is None
    assert cp.lane("modified").already_seen("5", "2026-01-05T11:59:00+0200")
    assert cp.extra == {}


def test_woocommerce_layouts_still_resume():
    stored = json.dumps(
        {
            "any": {"after": "2026-01-05T10:00:00", "ids": ["3", "4"]},
            "trash": {"after": None, "ids": []},
        }
    )
    cp = Checkpoint.loads(stored, lanes=("any", "trash"))
    assert cp.lane("any").mark == T0 and set(cp.lane("any").seen) == {"3", "4"}
    assert cp.lane("any").already_seen("3", instant_text(T0))
    assert "trash" not in cp.lanes
    customers = Checkpoint.loads(
        '{"mode": "full", "page": 4, "then": {"after": "2026-01-05T10:00:00", "ids": ["9"]}}'
    )
    assert customers.extra == {"mode": "full", "page": 4}
    assert customers.lane("then").mark == T0
    # what a resumed read writes is the shared layout, read back the same
    assert Checkpoint.loads(customers.dumps()) == customers
