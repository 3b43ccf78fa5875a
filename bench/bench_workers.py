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
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.workers.services import AMQP_URL, REDIS_URL, postgres_schema
from tests.workers.world import World, world


def webhook_latency(w: World, seconds: float, per_minute: float, quiet: float = 0.0) -> None:
    """Each merchant edits an open order ``per_minute`` times a minute; the shop sends a signed
    webhook to ``ledgerbridge serve``; the time until the Zoho document carries the edit.

    ``quiet``: seconds to wait first. The first run leaves each organisation's one-minute
    window full (it ran at the pacing limit), so edits sent at once wait for that window to
    slide -- the organisation's own queueing, up to a minute; after a quiet minute the
    figure is the path's own latency. Both halves of the window are printed apart."""
    import threading

    import anyio
    import httpx

    from ledgerbridge.sandbox.server import _free_port
    from ledgerbridge_woocommerce.emulator.webhooks import Webhook

    port = _free_port("127.0.0.1")
    w.start("serve", "--port", str(port), name="serve")
    receiver = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{receiver}/health").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    targets = {}
    for tenant in w.tenants:
        org = w.zoho.emulator.state.organizations[w.orgs[tenant]]
        found = next(
            ((int(i["custom_field_hash"]["cf_source_order_id"]), i)
             for i in org.invoices.values() if i["status"] not in ("paid", "void")),
            None,
        )  # fmt: skip
        if found is None:
            continue
        targets[tenant] = found
        w.shops[tenant].emulator.sender.webhooks[1] = Webhook(
            1, "ledgerbridge", "order.updated", f"{receiver}/webhooks/{tenant}/shop", "hook"
        )
    calls: Counter[str] = Counter()  # Zoho calls during the edits, by method and resource

    def count(ex: Any) -> None:
        parts = ex.path.strip("/").split("/")
        resource = "/".join("{id}" if p[:1].isdigit() else p for p in parts)
        calls[f"{ex.method} /{resource}"] += 1

    w.zoho.emulator.observers.append(count)
    time.sleep(quiet)
    sent: dict[str, list[float]] = {t: [] for t in targets}
    seen: dict[str, list[float]] = {t: [] for t in targets}
    stop = time.monotonic() + seconds
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            now = time.monotonic()
            for tenant, (_, invoice) in targets.items():
                note = str(invoice.get("notes") or "")
                if note.startswith("edit "):
                    upto = int(note.split()[1])
                    while len(seen[tenant]) <= upto and len(seen[tenant]) < len(sent[tenant]):
                        seen[tenant].append(now)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    def edits(tenant: str) -> None:
        oid, _ = targets[tenant]
        emulator = w.shops[tenant].emulator
        i = 0
        while time.monotonic() < stop:
            sent[tenant].append(time.monotonic())
            anyio.run(partial(emulator.touch_order, oid, customer_note=f"edit {i}"))
            i += 1
            time.sleep(60.0 / per_minute)

    threads = [threading.Thread(target=edits, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(len(seen[t]) < len(sent[t]) for t in targets):
        time.sleep(0.1)
    done.set()
    w.zoho.emulator.observers.remove(count)
    pairs = [(a, b - a) for t in targets for a, b in zip(sent[t], seen[t], strict=False)]
    latencies = sorted(lag for _, lag in pairs)
    lost = sum(len(sent[t]) - len(seen[t]) for t in targets)
    if not latencies:
        print("webhook -> document: no edits measured")
        return
    p50 = latencies[len(latencies) // 2]
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"webhook -> Zoho document: {len(latencies)} edits at {per_minute:.0f}/min per merchant "
        f"({len(targets)} merchants): p50 {p50:.2f}s, p95 {p95:.2f}s, max {latencies[-1]:.2f}s; "
        f"{lost} not reflected"
    )
    began = min(a for a, _ in pairs)
    for name, half in (("first", lambda a: a < began + seconds / 2), ("second", None)):
        lags = sorted(lag for a, lag in pairs if (half(a) if half else a >= began + seconds / 2))
        if lags:
            p95_half = lags[max(0, int(len(lags) * 0.95) - 1)]
            print(f"  edits sent in the {name} half: p50 {lags[len(lags) // 2]:.2f}s, "
                  f"p95 {p95_half:.2f}s ({len(lags)} edits)")  # fmt: skip
    edits = sum(len(sent[t]) for t in targets)
    print(f"Zoho calls during the edits: {sum(calls.values()) / max(1, edits):.2f} per edit")
    for kind, n in calls.most_common():
        print(f"  {kind}: {n} ({n / max(1, edits):.2f} per edit)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.25, help="emulated Zoho seconds/call")
    parser.add_argument(
        "--webhook-seconds", type=float, default=60.0, help="then webhooks for this long (0: no)"
    )
    parser.add_argument("--per-minute", type=float, default=50.0, help="webhooks/min per merchant")
    parser.add_argument(
        "--quiet-seconds", type=float, default=0.0,
        help="wait this long after the first run before the edits (65: its minute windows clear)",
    )  # fmt: skip
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
        if args.webhook_seconds:
            webhook_latency(w, args.webhook_seconds, args.per_minute, args.quiet_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
