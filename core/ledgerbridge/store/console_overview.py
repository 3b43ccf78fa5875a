"""The overview's figures beyond the counts per state: the 7-day trend per state and the
writes recorded against a target organisation this minute and today.

Both read index ranges only: the trend the ``(pipeline_id, state, updated_at)`` index
(what it costs grows with the records changed in the window, not with the store), the
writes the ``(tenant_id, at)`` index of the audit events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from .models import AuditEvent, SyncRecord
from .store import Store

TREND_DAYS = 7


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def state_trend(
    store: Store, pipeline_id: str, states: Sequence[str], today: date, days: int = TREND_DAYS
) -> dict[str, list[int]]:
    """Per state, how many of the pipeline's records reached it on each of the last
    ``days`` days (UTC, oldest first) and are still in it: a record's ``updated_at`` is
    when it last changed state.  One range count per state and day on the index."""
    first = today - timedelta(days=days - 1)
    out: dict[str, list[int]] = {}
    with store.session() as s:
        for state in states:
            counts = []
            for n in range(days):
                start = day_start(first + timedelta(days=n))
                stmt = select(func.count()).where(
                    SyncRecord.pipeline_id == pipeline_id,
                    SyncRecord.state == state,
                    col(SyncRecord.updated_at) >= start,
                    col(SyncRecord.updated_at) < start + timedelta(days=1),
                )
                counts.append(int(s.exec(stmt).one()))
            out[state] = counts
    return out


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


__all__ = ["TREND_DAYS", "day_start", "state_trend", "writes_recorded"]
