"""Records per state and day, kept as records change: the overview reads a handful of
counter rows instead of counting a pipeline's records.

One row per (pipeline, state, day, tenant): how many of the pipeline's records are in
``state`` and last changed (``updated_at``) on ``day`` (UTC) -- so the sum over days is
the count per state, and the days of a window are the 7-day trend ("reached the state that
day and still in it"), exactly what counting ``sync_records`` would answer.

The journal is the only writer of ``sync_records``: it calls ``opened`` after inserting
new records and ``moving`` before it moves records to a new state, in the same
transaction, so a counter changes if and only if its records do.  Exactness under
concurrent workers comes from reading a record's previous state and day while holding its
lock: ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite a (no-op) write first, which takes
the database's single write lock before the read (the driver otherwise reads outside the
transaction).  Counter rows are updated in key order, so two transactions never wait on
each other's counters in a cycle.  Migration 0008 creates the table and fills it from the
records already stored; ``rebuild`` does the same for a store loaded behind the engine's
back (the console bench's seed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, select, text
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from .models import RecordState, SyncRecord
from .store import Store

Key = tuple[str, str, date, str]  # pipeline, state, day, tenant


class RecordStateCount(SQLModel, table=True):
    """How many records of a pipeline are in ``state`` since ``day`` (UTC)."""

    __tablename__ = "record_state_counts"

    pipeline_id: str = Field(primary_key=True, max_length=200)
    state: str = Field(primary_key=True, max_length=20)
    day: date = Field(primary_key=True)
    tenant_id: str = Field(primary_key=True, max_length=100)
    records: int = 0


_COUNTS = RecordStateCount.__table__  # type: ignore[attr-defined]
_RECORDS = SyncRecord.__table__  # type: ignore[attr-defined]
_KEY = ["pipeline_id", "state", "day", "tenant_id"]


def opened(conn: Connection, scope: Any, created: int, now: datetime) -> None:
    """``created`` records of ``scope`` (its ``tenant_id`` and ``pipeline_id``) were just
    inserted ``pending`` at ``now``."""
    if created:
        key = (scope.pipeline_id, RecordState.PENDING.value, now.date(), scope.tenant_id)
        _apply(conn, Counter({key: created}))


def moving(conn: Connection, moves: Sequence[tuple[int, str]], now: datetime) -> None:
    """Records (id, new state) are about to be moved, ``updated_at`` set to ``now``: count
    each out of its current (state, day) and into (new state, ``now``'s day).  Call in the
    transaction that moves them, before the move."""
    ids = sorted({rid for rid, _ in moves if rid})
    if not ids:
        return
    lock = conn.dialect.name == "postgresql"
    if not lock:
        # SQLite: take the write lock before reading (a statement that writes nothing still
        # opens the write transaction), so no other writer moves these records in between.
        conn.execute(_COUNTS.update().where(text("1 = 0")).values(records=_COUNTS.c.records))
    current: dict[int, tuple[str, str, date, str]] = {}
    columns = [_RECORDS.c.id, _RECORDS.c.pipeline_id, _RECORDS.c.state, _RECORDS.c.updated_at,
               _RECORDS.c.tenant_id]  # fmt: skip
    for start in range(0, len(ids), 500):
        stmt = select(*columns).where(_RECORDS.c.id.in_(ids[start : start + 500]))
        stmt = stmt.order_by(_RECORDS.c.id)
        for rid, pipeline_id, state, updated_at, tenant_id in conn.execute(
            stmt.with_for_update() if lock else stmt
        ):
            current[rid] = (pipeline_id, state, updated_at.date(), tenant_id)
    deltas: Counter[Key] = Counter()
    today = now.date()
    for rid, state in moves:
        was = current.get(rid)
        if was is None:
            continue  # not stored (nothing to move)
        now_key = (was[0], state, today, was[3])
        if now_key != was:
            deltas[was] -= 1
            deltas[now_key] += 1
            current[rid] = now_key
    _apply(conn, deltas)


def _apply(conn: Connection, deltas: Counter[Key]) -> None:
    """Add ``deltas`` to the counters, in key order; drop the counters that reach zero."""
    changes = sorted((key, n) for key, n in deltas.items() if n)
    if not changes:
        return
    conn.execute(
        _upsert(conn).values({c: bindparam(c) for c in (*_KEY, "records")}),
        [dict(zip((*_KEY, "records"), (*key, n), strict=True)) for key, n in changes],
    )
    emptied = [key for key, n in changes if n < 0]
    if emptied:
        conn.execute(
            _COUNTS.delete().where(
                (_COUNTS.c.pipeline_id == bindparam("p")) & (_COUNTS.c.state == bindparam("s"))
                & (_COUNTS.c.day == bindparam("d")) & (_COUNTS.c.tenant_id == bindparam("t"))
                & (_COUNTS.c.records == 0)
            ),
            [{"p": p, "s": s, "d": d, "t": t} for p, s, d, t in emptied],
        )  # fmt: skip


def _upsert(conn: Connection) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt: Any = dialect.insert(_COUNTS)
    return stmt.on_conflict_do_update(
        index_elements=_KEY, set_={"records": _COUNTS.c.records + stmt.excluded.records}
    )


def day_of(dialect: str, column: str = "updated_at") -> str:
    """The UTC day of a stored timestamp, in SQL (SQLite keeps UTC text; PostgreSQL a
    timestamptz)."""
    if dialect == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'UTC') AS DATE)"
    return f"date({column})"


def rebuild(store: Store) -> None:
    """Recount every counter from the records (migration 0008's backfill): for a store
    whose records were written other than through the engine."""
    with store.engine.begin() as conn:
        conn.execute(_COUNTS.delete())
        conn.exec_driver_sql(backfill_sql(conn.dialect.name))


def backfill_sql(dialect: str) -> str:
    day = day_of(dialect)  # a constant of this module: nothing of a caller's in the SQL
    return (
        "INSERT INTO record_state_counts (pipeline_id, state, day, tenant_id, records) "  # noqa: S608
        f"SELECT pipeline_id, state, {day}, tenant_id, COUNT(*) FROM sync_records "
        f"GROUP BY pipeline_id, state, {day}, tenant_id"
    )


def counts_and_trend(
    store: Store, pipeline_id: str, states: Sequence[str], today: date, days: int
) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Per state, the pipeline's records in it, and how many of them reached it on each of
    the last ``days`` days (UTC, oldest first): one read of the counters' primary key, the
    days outside the window summed into one row per state."""
    first = today - timedelta(days=days - 1)
    in_window = (_COUNTS.c.day >= first) & (_COUNTS.c.day <= today)
    day = case((in_window, _COUNTS.c.day), else_=None).label("d")
    stmt = (
        select(_COUNTS.c.state, day, func.sum(_COUNTS.c.records))
        .where(_COUNTS.c.pipeline_id == pipeline_id)
        .group_by(_COUNTS.c.state, day)
    )
    counts: dict[str, int] = {}
    trend: dict[str, list[int]] = {}
    with store.engine.connect() as conn:
        for state, when, n in conn.execute(stmt):
            if state not in states or not n:
                continue
            counts[state] = counts.get(state, 0) + int(n)
            per_day = trend.setdefault(state, [0] * days)
            if when is not None:
                per_day[(_as_date(when) - first).days] += int(n)
    ordered = [s for s in states if s in counts]
    return {s: counts[s] for s in ordered}, {s: trend[s] for s in ordered}


def _as_date(value: date | str) -> date:
    """A day from the ``CASE`` (SQLite hands back the stored text, not a ``Date``)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


__all__ = [
    "RecordStateCount",
    "backfill_sql",
    "counts_and_trend",
    "day_of",
    "moving",
    "opened",
    "rebuild",
]
