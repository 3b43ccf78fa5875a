"""The overview's figures beyond the counts per state: the 7-day trend per state and the
writes recorded against a target organisation this minute and today.

The counts and the trend read the per state and day counters the journal keeps
(``record_counts``, migration 0008), the writes a range of the ``(tenant_id, at)`` index
of the audit events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from .models import AuditEvent
from .record_counts import counts_and_trend
from .store import Store

TREND_DAYS = 7


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def states_and_trend(
    store: Store, pipeline_id: str, states: Sequence[str], today: date, days: int = TREND_DAYS
) -> tuple[dict[str, int], dict[str, list[int]]]:
    """How many of the pipeline's records are in each state, and per state how many reached
    it on each of the last ``days`` days (UTC, oldest first) and are still in it -- a
    record's ``updated_at`` is when it last changed state.

    Read from the per state and day counters the journal keeps with every change
    (``record_counts``): a few rows per pipeline, whatever the number of records.
    """
    return counts_and_trend(store, pipeline_id, states, today, days)


def writes_recorded(
    store: Store, tenant_id: str, pipelines: Sequence[str], now: datetime
) -> tuple[int, int]:
    """Writes to the target the store recorded for ``pipelines`` in the last minute and
    since midnight UTC (operator actions are not calls and are left out).  Reads (look-ups,
    searches) are not recorded, so these are lower bounds of the calls made."""
    midnight = day_start(now.date())
    with store.session() as s:

        def count(since: datetime) -> int:
            stmt = select(func.count()).where(
                AuditEvent.tenant_id == tenant_id,
                col(AuditEvent.at) >= since,
                col(AuditEvent.pipeline_id).in_(list(pipelines)),
                ~col(AuditEvent.operation).startswith("operator_"),
            )
            return int(s.exec(stmt).one())

        return count(now - timedelta(minutes=1)), count(midnight)


__all__ = ["TREND_DAYS", "day_start", "states_and_trend", "writes_recorded"]
