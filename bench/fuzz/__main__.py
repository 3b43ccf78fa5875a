"""``python -m bench.fuzz`` (``make fuzz``): the long fuzz run, one table at the end.

* mappers      -- >= 10,000 mutated vendor examples per platform through the sources'
                  guarded mapping (``mappers``);
* webhooks     -- concurrent first deliveries to a fresh store, then >= 10,000 hostile
                  deliveries to a real ``ledgerbridge serve`` on loopback (``webhooks``);
* YAML         -- >= 1,000 mutated configuration and mapping files, plus the known
                  hostile ones in a bounded child process (``yamls``);
* expressions  -- generated mapping expressions and sandbox escapes (``expressions``);
* secrets      -- after the fuzz run and after a demo run (``secrets``).

Columns: cases; crashes (an exception out of the code under test, a dead process, a
timeout); 5xx (other than 503 while not ready); accepted-bad (a bad input taken as
good: a forged delivery answered 2xx or stored, a record that does not reconcile, a
ConfigError without a position, a sandbox escape); stored-bad (a malformed id in the
inbox); leaks (secrets in plain text); p50/p95 latency per case.  Exits 1 when any of
them is not zero.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import expressions, mappers, secrets, webhooks, yamls
from .report import Row, table
from .serve import serve

REPO = Path(__file__).resolve().parents[2]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- mappers


def fuzz_mappers(platform: str, count: int, rng: random.Random) -> Row:
    row = Row(f"mappers: {platform}")
    try:
        targets = mappers.targets(platform)
    except FileNotFoundError as exc:
        row.notes[f"skipped: {exc}"] += 1
        return row
    for _ in range(count):
        target = rng.choice(targets)
        doc, _described = mappers.mutated(target, rng, rng.randint(1, 3))
        started = time.perf_counter()
        problem = mappers.violation(target, doc)
        row.latencies.append(time.perf_counter() - started)
        row.cases += 1
        if problem is None:
            change = target.run(doc)
            if change.error is not None and change.error.details.get("exception"):
                row.notes[f"guarded {change.error.details['exception']}"] += 1
            elif change.error is not None:
                row.notes["parked"] += 1
            continue
        if problem.startswith("crash"):
            row.crashes += 1
        else:
            row.accepted_bad += 1
        row.notes[problem[:60]] += 1
    return row


# ---------------------------------------------------------------------------- webhooks


def fuzz_webhooks(count: int, concurrency: int, rng: random.Random, work: Path) -> tuple[Row, Row]:
    """(first deliveries row, hostile deliveries row) against ``ledgerbridge serve``."""
    first = Row("webhooks: concurrent first deliveries")
    row = Row("webhooks: hostile deliveries")
    (work / "first").mkdir()
    (work / "stream").mkdir()
    # 1. twenty simultaneous first deliveries to a receiver on a fresh store
    with serve(webhooks.write_config(work / "first"), work / "first" / "serve.log") as served:
        deliveries = [
            webhooks.PLATFORMS[p](webhooks.order_body(p, f"first-{i}"))
            for i, p in enumerate(rng.choices(list(webhooks.PLATFORMS), k=20))
        ]
        results = asyncio.run(_send_all(served.url, deliveries, concurrency=20))
        for status, elapsed, _body in results:
            first.cases += 1
            first.latencies.append(elapsed)
            first.notes[f"HTTP {status}"] += 1
            if status == 0:
                first.crashes += 1
            elif status >= 500 and status != 503:
                first.errors_5xx += 1
            elif status not in (200, 503):
                first.notes["good delivery refused"] += 1
        if served.returncode is not None:
            first.crashes += 1
            first.notes[f"serve exited {served.returncode}"] += 1
        log(f"  first deliveries: {dict(first.notes)}")
    # 2. the hostile stream, on its own store, set up by one delivery first: what the
    # stream measures is not hidden behind a store the first deliveries broke
    config = webhooks.write_config(work / "stream")
    database = f"sqlite:///{work / 'stream' / 'fuzz.db'}"
    expected_bad: set[str] = set()
    messages: list[str] = []
    restarts = 0
    sent = 0
    batch = 500
    while sent < count:
        with serve(config, work / "stream" / f"serve-{restarts}.log") as served:
            warm = webhooks.woocommerce(webhooks.order_body("woocommerce", "warm-up"))
            asyncio.run(_send_all(served.url, [warm], concurrency=1))
            while sent < count and served.returncode is None:
                chunk = [
                    webhooks.random_delivery(rng, sent + i) for i in range(min(batch, count - sent))
                ]
                for delivery in chunk:
                    if delivery.kind in ("unsigned", "missigned", "unknown", "oversize"):
                        expected_bad.add(_id_of(delivery))
                results = asyncio.run(_send_all(served.url, chunk, concurrency=concurrency))
                for delivery, (status, elapsed, body) in zip(chunk, results, strict=True):
                    row.cases += 1
                    row.latencies.append(elapsed)
                    if status == 0:
                        row.crashes += 1
                        row.notes[f"no answer: {delivery.kind} ({body})"] += 1
                        continue
                    if status >= 400:
                        messages.append(body)
                    for problem in webhooks.judge(delivery, status, []):
                        if problem.startswith("5xx"):
                            row.errors_5xx += 1
                        elif problem.startswith("accepted-bad"):
                            row.accepted_bad += 1
                        row.notes[f"{delivery.kind}: {problem[:40]}"] += 1
                sent += len(chunk)
                log(f"  webhooks: {sent}/{count}")
            if served.returncode is not None:
                row.crashes += 1
                row.notes[f"serve exited {served.returncode}"] += 1
                restarts += 1
                if restarts > 5:
                    break
    # 3. what the inbox holds
    from ledgerbridge.store import Store

    store = Store(database)
    try:
        stored = [e.external_id for e in store.pending_inbox(limit=10_000_000)]
    except Exception as exc:  # the store itself is broken (half-migrated by a race)
        stored = []
        row.crashes += 1
        row.notes[f"inbox unreadable: {type(exc).__name__}"] += 1
    finally:
        store.close()
    row.notes[f"stored {len(stored)}"] += 1
    for ident in stored:
        if not webhooks.valid_stored_id(ident):
            row.stored_bad += 1
        elif ident in expected_bad:
            row.accepted_bad += 1
            row.notes["forged or misrouted delivery stored"] += 1
    logs = sorted(work.rglob("serve*.log"))
    leaks = secrets.check(config=config, logs=logs, messages=messages)
    row.leaks = len(leaks)
    for leak in leaks[:5]:
        row.notes[f"leak {leak}"[:60]] += 1
    return first, row


def _id_of(delivery: webhooks.Delivery) -> str:
    try:
        data = json.loads(delivery.body)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(data, dict):
        return ""
    return str(data.get("id", data.get("order_id", "")))


async def _send_all(
    url: str, deliveries: list[webhooks.Delivery], *, concurrency: int
) -> list[tuple[int, float, str]]:
    import httpx

    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def one(delivery: webhooks.Delivery) -> tuple[int, float, str]:
            async with gate:
                started = time.perf_counter()
                for attempt in (1, 2):
                    try:
                        answer = await client.post(
                            delivery.path, content=delivery.body, headers=delivery.headers
                        )
                    except (httpx.ReadError, httpx.RemoteProtocolError) as exc:
                        # A kept-alive connection the server closed as it was reused (or
                        # closed after an early 413): once more on a new connection.
                        if attempt == 2:
                            return 0, time.perf_counter() - started, type(exc).__name__
                        continue
                    except (httpx.TransportError, httpx.InvalidURL) as exc:
                        return 0, time.perf_counter() - started, type(exc).__name__
                    return answer.status_code, time.perf_counter() - started, answer.text[:500]
                raise AssertionError("unreachable")

        return await asyncio.gather(*(one(d) for d in deliveries))


# ---------------------------------------------------------------------------- YAML


def fuzz_yaml(count: int, rng: random.Random, work: Path) -> tuple[Row, Row]:
    row = Row("YAML: mutated config + mapping files")
    known = Row("YAML: known hostile files (stopped at 2 s)")
    yamls.prepare(work)
    seeds = yamls.seeds()
    path = work / "under-test.yaml"
    for _ in range(count):
        seed = rng.choice(seeds)
        path.write_text(yamls.mutate(rng, seed.text, rng.randint(1, 4)), encoding="utf-8")
        started = time.perf_counter()
        problem = yamls.violation(seed.kind, path, limit=1.0)
        row.latencies.append(time.perf_counter() - started)
        row.cases += 1
        _count_yaml(row, problem)
    for name, data in sorted(yamls.KNOWN.items()):
        for kind in ("config", "mapping"):
            path = work / f"{name}.yaml"
            path.write_bytes(data)
            started = time.perf_counter()
            if name in yamls.MEMORY_HUNGRY:
                problem = yamls.isolated(kind, path, limit=1.0)
            else:
                problem = yamls.bounded(kind, path, limit=1.0)
            known.latencies.append(time.perf_counter() - started)
            known.cases += 1
            _count_yaml(known, problem, label=f"{name} ({kind})")
    return row, known


def _count_yaml(row: Row, problem: str | None, label: str = "") -> None:
    if problem is None:
        return
    if problem.startswith(("crash", "slow")):
        row.crashes += 1
    else:
        row.accepted_bad += 1
    row.notes[f"{label + ': ' if label else ''}{problem[:50]}"] += 1


# ---------------------------------------------------------------------------- expressions


def fuzz_expressions(count: int, rng: random.Random) -> Row:
    row = Row("expressions: generated + escapes")
    names = expressions.sample_names()
    for _ in range(count):
        text = expressions.as_template(
            rng.choice, expressions.generate(rng.choice, rng.randint(1, 5))
        )
        started = time.perf_counter()
        problem = expressions.violation(text, names)
        row.latencies.append(time.perf_counter() - started)
        row.cases += 1
        if problem is None:
            continue
        if problem.startswith(("crash", "slow")):
            row.crashes += 1
        else:
            row.accepted_bad += 1
        row.notes[problem[:60]] += 1
    return row


# ---------------------------------------------------------------------------- secrets


def check_demo(work: Path, orders: int) -> Row:
    """Run the demo into ``work/demo`` (its output captured), then the secrets check."""
    row = Row("secrets: after the demo")
    directory = work / "demo"
    output = work / "demo.log"
    with output.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-m", "demo", "--dir", str(directory), "--orders", str(orders)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            check=False,
        )
    row.cases = 1
    if done.returncode != 0:
        row.crashes += 1
        row.notes[f"demo exited {done.returncode} (see {output})"] += 1
        return row
    os.environ["LEDGERBRIDGE_SECRET_KEY_FILE"] = str(directory / "secret.key")
    os.environ.pop("LEDGERBRIDGE_SECRET_KEY", None)
    leaks = secrets.check(
        config=directory / "ledgerbridge.yaml",
        logs=[output],
        cassettes=REPO / "cassettes",
    )
    row.leaks = len(leaks)
    for leak in leaks[:5]:
        row.notes[str(leak)[:60]] += 1
    return row


# ---------------------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fuzz",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--payloads", type=int, default=10_000, help="mutated payloads per platform"
    )
    parser.add_argument("--requests", type=int, default=10_000, help="webhook requests")
    parser.add_argument("--concurrency", type=int, default=8, help="webhook requests in flight")
    parser.add_argument("--yaml", type=int, default=1_000, help="mutated YAML files")
    parser.add_argument("--expressions", type=int, default=10_000, help="generated expressions")
    parser.add_argument(
        "--demo-orders", type=int, default=8, help="orders per shop in the demo run (0: skip)"
    )
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument(
        "--refdata", type=Path, help="the vendor examples (default ../shared/refdata)"
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    parser.add_argument(
        "--only", nargs="*", choices=["mappers", "webhooks", "yaml", "expressions", "demo"]
    )
    args = parser.parse_args(argv)
    if args.refdata:
        os.environ["LEDGERBRIDGE_REFDATA"] = str(args.refdata)
    if not os.environ.get("LEDGERBRIDGE_SECRET_KEY") and not os.environ.get(
        "LEDGERBRIDGE_SECRET_KEY_FILE"
    ):
        from ledgerbridge.store import generate_key

        os.environ["LEDGERBRIDGE_SECRET_KEY"] = generate_key()
    only = set(args.only or ["mappers", "webhooks", "yaml", "expressions", "demo"])
    rng = random.Random(args.seed)
    rows: list[Row] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ledgerbridge-fuzz-") as tmp:
        work = Path(tmp)
        if "mappers" in only:
            for platform in ("shopify", "woocommerce", "api2cart"):
                log(f"mappers: {platform}")
                rows.append(fuzz_mappers(platform, args.payloads, rng))
        if "webhooks" in only:
            log("webhooks")
            hooks = work / "webhooks"
            hooks.mkdir()
            rows += fuzz_webhooks(args.requests, args.concurrency, rng, hooks)
        if "yaml" in only:
            log("YAML")
            files = work / "yaml"
            files.mkdir()
            rows += fuzz_yaml(args.yaml, rng, files)
        if "expressions" in only:
            log("expressions")
            rows.append(fuzz_expressions(args.expressions, rng))
        if "demo" in only and args.demo_orders > 0:
            log("demo + secrets check")
            rows.append(check_demo(work, args.demo_orders))
    print(table(rows))
    for row in rows:
        if row.notes:
            shown = "; ".join(f"{k} x{v}" for k, v in row.notes.most_common(8))
            print(f"  {row.area}: {shown}")
    elapsed = time.monotonic() - started
    print(f"seed {args.seed}, {elapsed:.0f} s; python -m bench.fuzz --seed {args.seed} repeats it")
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
    return 1 if any(r.failed() for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
