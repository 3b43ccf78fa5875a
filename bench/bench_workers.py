"""Distributed workers on real services: N merchants' orders through ``ledgerbridge worker``
subprocesses, the books checked in the Zoho emulator (0 duplicates, 0 missing).

    make bench-workers                        # 20 merchants x 100 orders, 4 workers
    .venv/bin/python bench/bench_workers.py --tenants 8 --orders 25 --workers 2

Needs PostgreSQL (LEDGERBRIDGE_TEST_POSTGRES_URL), Redis (127.0.0.1:6379) and RabbitMQ
(127.0.0.1:5672), as ``.ci/run`` starts them.  Each organisation is paced at Zoho's
100 calls/minute by the shared limits, so the wall time is bounded below by the
busiest organisation's calls / 100 per minute.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.workers.services import AMQP_URL, REDIS_URL, postgres_schema
from tests.workers.world import world


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.25, help="emulated Zoho seconds/call")
    args = parser.parse_args()
    url = os.environ.get(
        "LEDGERBRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    with tempfile.TemporaryDirectory() as tmp, postgres_schema(url) as database, world(
        Path(tmp), database=database, broker=AMQP_URL, redis=REDIS_URL,
        tenants=args.tenants, orders=args.orders, hold=args.latency, rpm=90,
    ) as w:  # fmt: skip
        began = time.monotonic()
        for i in range(args.workers):
            w.worker(f"w{i}", concurrency=args.concurrency)
        w.beat()
        states = w.wait_settled(timeout=3600)
        seconds = time.monotonic() - began
        documents = w.assert_books_exact()
        calls = sum(w.zoho_calls(org) for org in w.orgs.values())
        orders = sum(states.values())
        print(
            f"{args.tenants} merchants x {args.orders} orders, {args.workers} workers x "
            f"{args.concurrency} slots, Zoho latency {args.latency}s: {orders} records in "
            f"{seconds:.1f}s; {documents} documents, 0 duplicates, 0 missing; "
            f"{calls} Zoho calls ({calls / max(1, states['synced']):.2f} per synced order, "
            f"first run); {calls / seconds * 60:.0f} calls/min aggregate"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
