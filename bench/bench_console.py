"""Console page times with many records in the store (docs/console.md, "Performance").

Seeds the demo world's store with ``--records`` sync records of the west pipeline (order
numbers ``#1000`` up, as Shopify shows them; the state counters recounted after), first
seen and last changed one second apart (so the overview's 7-day trend counts 604,800 of a
million), 1 in 100 parked as needs_mapping; each record with one history row and one audit
event (its document number ``INV-<n>``), a minute apart, so a day's audit export holds
1,440 rows; every tenth with a binding; 100 open conflicts.  Then it requests each page
in-process through the ASGI transport -- the server's whole time: queries and rendering --
and prints p50/p95 per page.  ``make bench`` runs it at 100,000 records (``run()``).

    .venv/bin/python bench/bench_console.py --records 200000
    .venv/bin/python bench/bench_console.py --records 1000000 --database postgresql://...
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import anyio
import httpx
from cryptography.fernet import Fernet
from sqlalchemy import insert, text
from starlette.applications import Starlette
from starlette.routing import Mount

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import Figure

from demo.world import running
from ledgerbridge.console import app
from ledgerbridge.console.auth import hash_password
from ledgerbridge.store import (
    AuditEvent,
    ConflictRecord,
    CrossReference,
    Store,
    SyncAttempt,
    SyncRecord,
    record_counts,
)
from ledgerbridge.store import console_queries as q
from ledgerbridge.store.types import utcnow

CHUNK = 20_000


def seed(store: Store, records: int) -> None:
    now = utcnow()
    models = (SyncRecord, SyncAttempt, AuditEvent, CrossReference, ConflictRecord)
    tables = {m: m.__table__ for m in models}  # type: ignore[attr-defined]
    with store.engine.begin() as conn:
        start = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM sync_records")).scalar_one()
    for base in range(0, records, CHUNK):
        recs, hist, events, refs = [], [], [], []
        for n in range(base, min(base + CHUNK, records)):
            rid = start + n + 1
            parked = n % 100 == 7
            ext = str(500_000 + n)
            recs.append({
                "id": rid, "tenant_id": "west", "pipeline_id": "west-orders", "entity": "order",
                "external_id": ext, "number": f"#{1000 + n}", "source_version": "v1",
                "synced_version": None if parked else "v1",
                "state": "needs_mapping" if parked else "synced",
                "reason": "no payment mode for gateway 'x'" if parked else None,
                "error_class": "NeedsMapping" if parked else None, "error_code": None,
                "missing_key": "payment_method:x" if parked else None, "retry_safe": True,
                "attempt_count": 1 if parked else 0, "next_attempt_at": None,
                "created_at": now - timedelta(seconds=records - n),
                "updated_at": now - timedelta(seconds=records - n),
            })  # fmt: skip
            hist.append({
                "record_id": rid, "from_state": "pending", "to_state": recs[-1]["state"],
                "started_at": now, "finished_at": now, "error": {}, "request_summary": {},
            })  # fmt: skip
            events.append({
                "tenant_id": "west", "pipeline_id": "west-orders", "record_id": rid,
                "source_id": ext, "source_version": "v1",
                "idempotency_key": f"west:west-orders:order:{ext}:invoice",
                "operation": "create_document", "target_id": str(9_000_000 + n),
                "outcome": "ok", "duration_ms": 3, "attempt": 1,
                "at": now - timedelta(minutes=records - n),
                "details": {"reason": "create", "number": f"INV-{n:07d}"},
            })  # fmt: skip
            if n % 10 == 0:
                refs.append({
                    "tenant_id": "west", "source_connection_id": "west/shop", "entity": "order",
                    "external_id": ext, "target_connection_id": "west/books",
                    "target_kind": "invoice", "target_id": str(9_000_000 + n),
                    "fingerprint": None, "snapshot": {}, "updated_at": now,
                })  # fmt: skip
        with store.engine.begin() as conn:
            conn.execute(insert(tables[SyncRecord]), recs)
            conn.execute(insert(tables[SyncAttempt]), hist)
            conn.execute(insert(tables[AuditEvent]), events)
            if refs:
                conn.execute(insert(tables[CrossReference]), refs)
    conflicts = [{
        "tenant_id": "west", "pipeline_id": "west-orders", "record_id": start + n + 1,
        "entity": "order", "external_id": str(500_000 + n), "target_id": str(9_000_000 + n),
        "fields": ["notes"], "status": "open", "resolution": None, "created_at": now,
        "resolved_at": None,
        "source_snapshot": {"kind": "invoice", "date": "2026-03-01", "notes": "shop",
                            "lines": [{"description": "x", "quantity": "1", "rate": "9.50"}]},
        "target_snapshot": {"date": "2026-03-01", "notes": "accountant", "total": "9.50",
                            "line_items": [{"description": "x", "quantity": 1, "rate": 9.5}]},
    } for n in range(0, min(records, 100 * 97), 97)]  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(insert(tables[ConflictRecord]), conflicts)
    # The records went in behind the engine's back: count them as migration 0008 would.
    record_counts.rebuild(store)
    if store.url.startswith("sqlite"):
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:  # what autovacuum does to a loaded table: statistics and the visibility map
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("sync_records", "sync_attempts", "audit_events", "cross_references",
                          "conflicts", "record_state_counts"):  # fmt: skip
                conn.execute(text(f"VACUUM ANALYZE {table}"))


def measure(config: Path, store: Store, rounds: int) -> dict[str, list[float]]:
    host = Starlette(routes=[Mount("/console", app(config, store))])
    some = q.records_page(store, ["west-orders"], limit=1)[0].id or 1
    parked = q.records_page(store, ["west-orders"], state="needs_mapping", limit=1)[0].id or 1
    today = utcnow().date().isoformat()
    week_ago = (utcnow().date() - timedelta(days=7)).isoformat()
    conflict = q.open_conflicts(store, ["west-orders"], limit=1)[0].id
    number = f"INV-{(some - 1) // 2:07d}"
    pages = {
        "overview": ("/", {}),
        "records": ("/records", {}),
        "records?state=needs_mapping": ("/records", {"state": "needs_mapping"}),
        "records?q=<order id>": ("/records", {"q": "500123"}),
        "records?q=<#order number>": ("/records", {"q": "#1123"}),
        "records?q=<order number, no #>": ("/records", {"q": "1123"}),
        "records?before=<middle>": ("/records", {"before": str(some // 2)}),
        "records?number=<INV-n>": ("/records", {"number": number}),
        "records?from=&to= (1 day)": ("/records", {"from": week_ago, "to": week_ago}),
        "records?state=&from= (7 days)": (
            "/records",
            {"state": "needs_mapping", "from": week_ago},
        ),
        "record (synced)": (f"/records/{some}", {}),
        "record (parked)": (f"/records/{parked}", {}),
        "failures": ("/failures", {}),
        "conflicts": ("/conflicts", {}),
        "conflict": (f"/conflicts/{conflict}", {}),
        "audit.csv (1 day)": ("/audit.csv", {"tenant": "west", "from": today, "to": today}),
    }
    times: dict[str, list[float]] = {name: [] for name in pages}

    async def main() -> None:
        transport = httpx.ASGITransport(app=host)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            form = await client.get("/console/login")
            token = form.text.split('name="csrf" value="')[1].split('"')[0]
            await client.post(
                "/console/login",
                data={"csrf": token, "username": "bench", "password": "bench password"},
            )
            for name, (path, params) in pages.items():
                rounds_here = 2 if name.startswith("audit") else rounds
                for _ in range(rounds_here):
                    started = time.perf_counter()
                    answer = await client.get(f"/console{path}", params=params)
                    times[name].append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200, (name, answer.status_code)

    anyio.run(main)
    return times


def bench(
    records: int, rounds: int, database: str | None, *, seeded: bool = False
) -> dict[str, tuple[float, float]]:
    """Seed ``records`` (unless ``seeded``: a ``database`` this bench seeded before) and time
    every page: page -> (p50, p95) in ms."""
    import os

    os.environ.setdefault("LEDGERBRIDGE_SECRET_KEY", Fernet.generate_key().decode())
    os.environ.setdefault("LEDGERBRIDGE_CONSOLE_KEY", "bench")
    with tempfile.TemporaryDirectory() as tmp, running(Path(tmp) / "demo", orders=2) as world:
        store = Store(database or world.database_url)
        store.migrate()
        q.put_user(store, "bench", password_hash=hash_password("bench password"),
                   role="admin", tenants=["*"])  # fmt: skip
        started = time.perf_counter()
        if not seeded:
            seed(store, records)
            print(f"seeded {records:,} records in {time.perf_counter() - started:.0f}s "
                  f"({store.engine.dialect.name})")  # fmt: skip
        times = measure(world.config_path, store, rounds)
    out = {}
    for name, samples in times.items():
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        out[name] = (statistics.median(ordered), p95)
    return out


def run() -> list[Figure]:
    """``make bench``: every page at 100,000 records in SQLite, p95 server time."""
    return [
        Figure("console", f"{name} p95 (100k records)", p95, "ms", "< 200")
        for name, (_, p95) in bench(100_000, 10, None).items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database", default=None, help="default: SQLite in a temp dir")
    parser.add_argument(
        "--seeded", action="store_true",
        help="--database was seeded by this bench before: time its pages without seeding again",
    )  # fmt: skip
    args = parser.parse_args()
    if args.seeded and not args.database:
        parser.error("--seeded needs the --database it seeded")
    figures = bench(args.records, args.rounds, args.database, seeded=args.seeded)
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8}")
    for name, (p50, p95) in figures.items():
        print(f"{name:32} {p50:8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
