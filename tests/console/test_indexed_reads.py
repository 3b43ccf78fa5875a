"""Every read the console's pages make finds its rows through an index (SQLite's query
plans, as the engine's read test checks them): no page scans the tables that grow with
history -- records, their history, audit events, bindings."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from sqlalchemy import event

import ledgerbridge.console

from .conftest import Client, World, make_conflict

GROWING = ("sync_records", "sync_attempts", "audit_events", "cross_references", "conflicts")


def test_every_page_reads_growing_tables_through_an_index(world: World) -> None:
    made = make_conflict(world)
    parked = world.parked_id()
    plans: dict[str, list[str]] = {}

    def before(conn: Any, cursor: Any, sql: str, params: Any, ctx: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT") and not many:
            rows = cursor.connection.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plans[sql] = [row[-1] for row in rows]

    event.listen(world.store.engine, "before_cursor_execute", before)

    async def main() -> None:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("ada")
            for path, params in (
                ("/", {}),
                ("/records", {}),
                ("/records", {"state": "synced"}),
                ("/records", {"q": "1001"}),
                ("/records", {"q": "#1001", "state": "synced"}),
                ("/records", {"before": str(parked + 3), "state": "synced"}),
                ("/records", {"number": "INV-00003"}),
                ("/records", {"from": "2026-01-01", "to": "2099-01-01"}),
                ("/records", {"from": "2026-01-01", "state": "synced", "before": str(parked + 3)}),
                ("/conflicts", {}),
                (f"/conflicts/{made.conflict_id}", {}),
                (f"/records/{made.record_id}", {}),
                (f"/records/{parked}", {}),
                ("/records/2", {}),
                ("/failures", {}),
                ("/audit.csv", {"tenant": "west"}),
            ):
                answer = await client.get(path, params=params)
                assert answer.status_code == 200, (path, answer.text[:300])
        finally:
            await client.aclose()

    anyio.run(main)
    event.remove(world.store.engine, "before_cursor_execute", before)
    for table in GROWING:
        reads = {sql: steps for sql, steps in plans.items() if f"FROM {table}" in sql}
        assert reads, f"no page read {table}"
        for sql, steps in reads.items():
            assert not any(s.startswith(f"SCAN {table}") for s in steps), (sql, steps)


@pytest.mark.postgres
def test_the_order_number_search_is_indexed_on_postgresql(tmp_path: Any) -> None:
    """PostgreSQL's plan for the search by order number, with sequential scans priced out
    (``enable_seqscan = off`` still scans when no index can answer): indexes only."""
    from ledgerbridge.store import Store
    from ledgerbridge.store.orders import find_orders

    from ..conftest import postgres_schema, postgres_url_or_skip

    plans: list[str] = []
    with postgres_schema(postgres_url_or_skip(), "x") as (schema, _url):
        store = Store(postgres_url_or_skip(), connect_args={"options": f"-csearch_path={schema}"})
        try:
            store.migrate()
            from ledgerbridge.store import SyncRecord
            from ledgerbridge.store.types import utcnow

            now = utcnow()
            with store.engine.begin() as conn:  # a pipeline of some size, its statistics known
                conn.execute(
                    SyncRecord.__table__.insert(),  # type: ignore[attr-defined]
                    [{"tenant_id": "north", "pipeline_id": "north-orders", "entity": "order",
                      "external_id": str(5_000_000 + n), "number": f"#{1000 + n}",
                      "state": "synced", "retry_safe": True, "attempt_count": 0,
                      "created_at": now, "updated_at": now} for n in range(5000)],
                )  # fmt: skip
                conn.exec_driver_sql("ANALYZE sync_records")

            def before(conn: Any, cursor: Any, sql: str, params: Any, ctx: Any, many: bool) -> None:
                if sql.lstrip().upper().startswith("SELECT") and "sync_records" in sql:
                    cursor.execute("SET enable_seqscan = off")
                    cursor.execute(f"EXPLAIN {sql}", params)
                    plans.append("\n".join(row[0] for row in cursor.fetchall()))

            event.listen(store.engine, "before_cursor_execute", before)
            for query in ("#1003", "1003"):
                find_orders(store, query, pipelines=["north-orders", "west-orders"])
            event.remove(store.engine, "before_cursor_execute", before)
        finally:
            store.close()
    assert plans
    for plan in plans:  # the number's own index (not a walk of a pipeline's records)
        assert "Seq Scan on sync_records" not in plan, plan
        assert "ix_sync_records_number" in plan, plan
