"""The overview's figures beyond the counts per state: the 7-day trend per state and the
writes recorded against a target organisation this minute and today.

Both read indexes only: the counts and the trend one pass over the pipeline's
``(pipeline_id, state, updated_at)`` index (the cost of the counts alone), the writes a
range of the ``(tenant_id, at)`` index of the audit events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import col, select

from .models import AuditEvent, SyncRecord
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

    Per state, range counts on the ``(pipeline_id, state, updated_at)`` index (before the
    window, each day, after it): together one pass over the pipeline's entries, as the
    counts alone would cost, with no per-row expression or sort.
    """
    first = today - timedelta(days=days - 1)
    params: dict[str, Any] = {"pipeline": pipeline_id}
    params.update({f"edge{n}": day_start(first + timedelta(days=n)) for n in range(days + 1)})
    with store.session() as s:
        row = s.exec(_trend_statement(tuple(states), days), params=params).one()
    counts: dict[str, int] = {}
    trend: dict[str, list[int]] = {}
    width = days + 2
    for i, state in enumerate(states):
        values = [int(v) for v in row[i * width : (i + 1) * width]]
        if sum(values):
            counts[state], trend[state] = sum(values), values[1 : days + 1]
    return counts, trend


@lru_cache(maxsize=16)
def _trend_statement(states: tuple[str, ...], days: int) -> Any:
    """One statement of range counts: per state, before the window, each day, after it (a
    clock behind the store's).  One round trip, built once with bound parameters -- a query
    per range, or building the expressions per request, costs more than the index reads."""

    def count(state: str, start: int | None, end: int | None) -> Any:
        stmt = select(func.count()).where(
            SyncRecord.pipeline_id == bindparam("pipeline"), SyncRecord.state == state
        )
        if start is not None:
            stmt = stmt.where(col(SyncRecord.updated_at) >= bindparam(f"edge{start}"))
        if end is not None:
            stmt = stmt.where(col(SyncRecord.updated_at) < bindparam(f"edge{end}"))
        return stmt.scalar_subquery()

    bounds = [(None, 0), *[(n, n + 1) for n in range(days)], (days, None)]
    return select(*[count(state, start, end) for state in states for start, end in bounds])


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
