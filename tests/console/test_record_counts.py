"""The per state and day counters stay equal to counting the records: through syncs,
replays, a fixed mapping, a conflict and its resolution, a change on another day, and
workers moving the same records at once -- on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from sqlalchemy import func, select

from demo.run import fix_mapping
from demo.world import running
from ledgerbridge.config import load_config
from ledgerbridge.engine import Engine
from ledgerbridge.engine.journal import Journal, Scope
from ledgerbridge.errors import SyncError
from ledgerbridge.store import RecordState, RecordStateCount, Store, SyncRecord, record_counts
from ledgerbridge.store import console_queries as q
from ledgerbridge.store.console_overview import states_and_trend
from ledgerbridge.store.types import utcnow

from ..conftest import postgres_schema, postgres_url_or_skip
from .conftest import World, make_conflict


def assert_exact(store: Store) -> Counter[tuple[str, str]]:
    """Counters == the records counted, per (pipeline, state, day, tenant); and per
    (pipeline, state) == ``COUNT(*)`` -- on PostgreSQL in one snapshot, so workers still
    running cannot move records between the reads.  Returns the per-state counts."""
    snapshot = {"isolation_level": "REPEATABLE READ"} if store.url.startswith("postgres") else {}
    with store.engine.connect().execution_options(**snapshot) as conn, conn.begin():
        rows = conn.execute(
            select(
                SyncRecord.pipeline_id,
                SyncRecord.state,
                SyncRecord.updated_at,
                SyncRecord.tenant_id,
            )
        ).all()
        counted = conn.execute(
            select(SyncRecord.pipeline_id, SyncRecord.state, func.count()).group_by(
                SyncRecord.pipeline_id, SyncRecord.state
            )
        ).all()
        kept = conn.execute(
            select(
                RecordStateCount.pipeline_id,
                RecordStateCount.state,
                RecordStateCount.day,
                RecordStateCount.tenant_id,
                RecordStateCount.records,
            )
        ).all()
    by_day = Counter((p, s, at.date(), t) for p, s, at, t in rows)
    assert {(p, s, d, t): n for p, s, d, t, n in kept} == dict(by_day)
    assert all(n > 0 for *_, n in kept), "a counter at zero is deleted"
    per_state: Counter[tuple[str, str]] = Counter()
    for p, s, _d, _t, n in kept:
        per_state[(p, s)] += n
    assert per_state == Counter({(p, s): n for p, s, n in counted})
    return per_state


def test_counters_follow_syncs_replays_conflicts_and_days(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERBRIDGE_CONSOLE_KEY", "test-console-signing-key")
    with running(tmp_path / "demo", orders=6) as demo:
        loaded = load_config(demo.config_path)

        async def sync() -> None:
            async with Engine(loaded, store) as engine:
                await engine.sync("west-orders")

        async def replay(record_id: int) -> None:
            async with Engine(load_config(demo.config_path), store) as engine:
                await engine.replay([record_id])

        anyio.run(sync)
        counts = assert_exact(store)
        assert counts[("west-orders", "needs_mapping")] == 1
        anyio.run(sync)  # nothing new: nothing moves
        assert assert_exact(store) == counts
        [parked] = q.records_page(store, ["west-orders"], state="needs_mapping")
        assert parked.id is not None
        anyio.run(replay, parked.id)  # parked again: same state, same day
        assert assert_exact(store) == counts

        # The mapping fixed and the record replayed on the next day (UTC): it leaves
        # yesterday's needs_mapping counter for today's synced one.
        tomorrow = utcnow() + timedelta(days=1)
        monkeypatch.setattr("ledgerbridge.engine.journal.utcnow", lambda: tomorrow)
        assert fix_mapping(demo)
        anyio.run(replay, parked.id)
        counts = assert_exact(store)
        assert counts[("west-orders", "needs_mapping")] == 0
        synced, trend = states_and_trend(store, "west-orders", ["synced"], tomorrow.date())
        assert trend["synced"][-1] == 1 and synced["synced"] == counts[("west-orders", "synced")]

        made = make_conflict(World(demo, store))
        assert assert_exact(store)[("west-orders", "conflict")] == 1

        async def resolve() -> None:
            async with Engine(load_config(demo.config_path), store) as engine:
                await engine.resolve_conflict(made.conflict_id, "target")

        anyio.run(resolve)
        counts = assert_exact(store)
        assert counts[("west-orders", "conflict")] == 0


def test_counters_stay_exact_when_workers_move_the_same_records(store: Store) -> None:
    """Four workers move the same 40 records at random, concurrently: every move reads the
    record's state under its lock, so the counters equal the count afterwards."""
    scope = Scope("t", "t-orders", "t/shop", "t/books")
    journal = Journal(store, scope)
    ids = [row.id for row in journal.open_records("order", [str(n) for n in range(40)]).values()]
    assert_exact(store)
    states = [RecordState.SYNCED, RecordState.FAILED, RecordState.RETRYING,
              RecordState.NEEDS_MAPPING]  # fmt: skip
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        own = Journal(store, scope)
        try:
            for _ in range(15):
                rid = rng.choice(ids)
                state = rng.choice(states)
                error = SyncError("boom") if state is not RecordState.SYNCED else None
                own.transition(rid, state, started_at=utcnow(), error=error)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    counts = assert_exact(store)
    assert sum(counts.values()) == 40
    # the bench's seed writes records behind the engine's back; ``rebuild`` recounts them
    record_counts.rebuild(store)
    assert assert_exact(store) == counts


@pytest.mark.parametrize(
    "dialect", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_migration_counts_the_records_already_stored(dialect: str, tmp_path: Path) -> None:
    def check(url: str, **kw: object) -> None:
        store = Store(url, **kw)  # type: ignore[arg-type]
        try:
            store.migrate("0007")
            start = utcnow() - timedelta(days=3)
            with store.engine.begin() as conn:
                conn.execute(
                    SyncRecord.__table__.insert(),  # type: ignore[attr-defined]
                    [{"tenant_id": "t", "pipeline_id": "t-orders", "entity": "order",
                      "external_id": str(n), "state": ("synced", "failed")[n % 2],
                      "retry_safe": True, "attempt_count": 0,
                      "created_at": start, "updated_at": start + timedelta(hours=9 * n)}
                     for n in range(12)],
                )  # fmt: skip
            store.migrate()
            counts = assert_exact(store)
            assert counts == Counter({("t-orders", "synced"): 6, ("t-orders", "failed"): 6})
        finally:
            store.close()

    if dialect == "sqlite":
        check(f"sqlite:///{tmp_path / 'old.db'}")
        return
    with postgres_schema(postgres_url_or_skip(), "m") as (schema, _url):
        check(postgres_url_or_skip(), connect_args={"options": f"-csearch_path={schema}"})
