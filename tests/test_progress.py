"""``ProgressReport``: totals from ``on_expect``, done from ``on_record``, an ETA from the
pace so far; log lines when not live, a rich bar on stderr when live."""

from __future__ import annotations

import logging

import pytest

from ledgerbridge.engine import RecordOutcome
from ledgerbridge.progress import ProgressReport
from ledgerbridge.store import RecordState


def outcome(state: RecordState, writes: int = 1) -> RecordOutcome:
    return RecordOutcome(
        "p1", "order", "1", "v1", state, writes=tuple(("create", "written") for _ in range(writes))
    )


def test_log_lines_carry_done_total_and_eta(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ledgerbridge.progress")
    with ProgressReport("syncing", live=False, every=0) as progress:
        progress.expect("p1", 4)
        progress.record(outcome(RecordState.SYNCED, writes=2))
        progress.record(outcome(RecordState.NEEDS_MAPPING, writes=0))
        progress.expect("p1", 2)  # a second page
        for _ in range(4):
            progress.record(outcome(RecordState.SYNCED))
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "p1: 0/4 done, ETA unknown"
    assert messages[1].startswith("p1: 1/4 done, ETA ")
    assert "p1: 2/4 done, ETA" in messages[2]
    assert "p1: 2/6 done, ETA" in messages[3]
    assert messages[-1].startswith("p1: 6/6 done in ") and "(written 6, parked 1)" in messages[-1]
    last = caplog.records[-1]
    assert (last.done, last.total, last.parked) == (6, 6, 1)  # type: ignore[attr-defined]


def test_lines_are_spaced_by_every(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ledgerbridge.progress")
    with ProgressReport("replaying", live=False, every=3600) as progress:
        progress.expect("p1", 100)
        for _ in range(100):
            progress.record(outcome(RecordState.SYNCED))
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages  # the first figures, then the closing line
    assert messages[-1].startswith("p1: 100/100 done in ")


def test_live_bar_draws_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressReport("syncing", live=True) as progress:
        progress.expect("p1", 2)
        progress.record(outcome(RecordState.SYNCED))
        progress.waiting(3, "per-minute limit")
        progress.record(outcome(RecordState.SYNCED))
    out, err = capsys.readouterr()
    assert out == ""
    assert "2/2" in err and "done p1" in err


def test_an_estimate_is_corrected_when_the_read_is_over(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ledgerbridge.progress")
    with ProgressReport("syncing", live=False, every=3600) as progress:
        progress.expect("p1", 10)  # the platform's count
        for _ in range(4):
            progress.record(outcome(RecordState.SYNCED))
        progress.expect("p1", -6)  # the read ended after 4: the count was an estimate
        assert progress.counts["p1"].total == 4
        progress.expect("p1", -9)  # never below what is done
        assert progress.counts["p1"].total == 4
    assert caplog.records[-1].getMessage().startswith("p1: 4/4 done in ")
