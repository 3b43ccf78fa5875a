"""Units of work: a window of a page's records shares its store transactions, a crash inside
one costs look-ups and never duplicates, and a run that trusts its intents skips the target's
search before a create.

WooCommerce emulator -> real connectors, engine, mapping and SQLite store -> Zoho Books
emulator, over real loopback sockets.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import event
from sqlmodel import select

from ledgerbridge.store import WriteIntent

from .harness import Harness, woocommerce_to_zoho
from .test_exactly_once import invoices_by_reference, sync, take_over_lease

pytestmark = pytest.mark.usefixtures("secret_key")


class Recorder:
    """ASGI wrapper noting every request to the Zoho emulator: (method, path, query)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.emulator = getattr(app, "emulator", None)
        self.calls: list[tuple[str, str, str]] = []
        self.hold_after: tuple[str, int] | None = None  # (path suffix, nth POST) to hold
        self.held = threading.Event()
        self.release = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            call = (scope["method"], scope["path"], scope.get("query_string", b"").decode())
            self.calls.append(call)
            # numbered as it arrives: two writes in flight at once both finish before either
            # could count the other afterwards
            posts = sum(1 for m, p, _ in self.calls if m == "POST" and p == call[1])
            await self.app(scope, receive, send)
            if (
                self.hold_after is not None
                and call[0] == "POST"
                and call[1].endswith(self.hold_after[0])
                and posts == self.hold_after[1]
            ):
                self.held.set()  # the write committed; its caller is about to be cancelled
                await anyio.to_thread.run_sync(self.release.wait, 10)
            return
        await self.app(scope, receive, send)

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.calls if m == method and p == path)


def _recorded(tmp_path: Path, orders: int) -> tuple[Any, Recorder]:
    box: dict[str, Recorder] = {}

    def wrap(app: Any) -> Recorder:
        box["r"] = Recorder(app)
        return box["r"]

    return woocommerce_to_zoho(tmp_path, orders=orders, wrap_zoho=wrap), box


def _add_orders(h: Harness, total: int) -> list[str]:
    """New orders appear at the shop (the seed is deterministic: the first ones are the same)."""
    from ledgerbridge_woocommerce.emulator.data import seed

    orders = h.source_app.emulator.store.orders
    more = {k: v for k, v in seed(orders=total).orders.items() if k not in orders}
    orders.update(more)
    return [str(k) for k in more]


async def run_in_units(engine: Any, unit_size: int, setup: Any = None) -> Any:
    """One run of the pipeline, its first unit ``unit_size`` records (``setup(runner)`` first)."""
    async with engine:
        await engine.prepare()
        runner = engine.runner("pipe")
        runner.unit_size = unit_size
        if setup is not None:
            setup(runner)
        return await runner.run()


def _commits_for(tmp_path: Path, orders: int) -> int:
    """Store transactions of a first run over ``orders`` orders, the page as one unit."""
    tmp_path.mkdir()
    context, _ = _recorded(tmp_path, orders=orders)
    with context as h:
        engine = h.engine()
        commits: list[int] = []

        def count_commits(runner: Any) -> None:
            event.listen(runner.store.engine, "commit", lambda conn: commits.append(1))

        # The whole page is one unit.
        report = anyio.run(run_in_units, engine, 100, count_commits)
        assert report.read >= orders - 2 and report.writes >= report.read  # a trashed one or so
        assert all(n == 1 for n in invoices_by_reference(h).values())
        return len(commits)


def test_a_unit_of_work_shares_its_store_transactions(tmp_path: Path) -> None:
    """Twice the orders in one unit: not one store transaction more."""
    few = _commits_for(tmp_path / "few", 6)
    many = _commits_for(tmp_path / "many", 12)
    # Lease, token refresh, checkpoint, records, intents, results: fixed per run and unit.
    assert many == few, (few, many)


def test_a_run_cancelled_inside_a_unit_resumes_with_one_document_per_order(
    tmp_path: Path,
) -> None:
    """The third invoice of a unit reaches Zoho and the run dies before the unit's results
    are stored: every intent of the unit is still pending. The next run looks each one up,
    adopts what exists and writes only what does not."""
    context, box = _recorded(tmp_path, orders=8)
    with context as h:
        recorder = box["r"]
        recorder.hold_after = ("/invoices", 3)
        engine = h.engine()

        async def crash() -> None:
            async with anyio.create_task_group() as tg:
                tg.start_soon(run_in_units, engine, 8)
                await anyio.to_thread.run_sync(recorder.held.wait, 30)
                tg.cancel_scope.cancel()  # the worker dies mid-unit

        anyio.run(crash)
        recorder.release.set()
        store = h.store()
        with store.session() as s:
            pending = s.exec(select(WriteIntent).where(WriteIntent.status == "pending")).all()
        take_over_lease(store)
        assert len({i.record_id for i in pending}) > 3  # the unit spanned several records
        written_before = Counter(invoices_by_reference(h))
        assert sum(written_before.values()) == 3
        paid_before = recorder.count("POST", "/books/v3/customerpayments")

        _report, engine = sync(h)
        after = invoices_by_reference(h)
        assert all(n == 1 for n in after.values()), after
        assert set(written_before) <= set(after)
        with store.session() as s:
            intents = s.exec(select(WriteIntent)).all()
        statuses = Counter(i.status for i in intents)
        assert statuses["pending"] == 0
        # Exactly what reached Zoho before the crash is adopted: three invoices and the
        # payments recorded between them; everything else was written once, afterwards.
        adopted = Counter(i.operation for i in intents if i.status == "adopted")
        assert adopted == Counter({"create_document": 3, "record_payment": paid_before})
        assert len(h.documents("payments")) == recorder.count("POST", "/books/v3/customerpayments")
        again, _ = sync(h)
        assert again.writes == 0


def _empty_organisation(h: Harness) -> None:
    """A new organisation: the emulator's seeded documents and payments taken away."""
    for kind in ("invoices", "salesreceipts", "creditnotes", "payments"):
        getattr(h.org, kind).clear()


def test_a_first_run_on_an_organisation_in_use_searches_before_each_create(
    tmp_path: Path,
) -> None:
    context, box = _recorded(tmp_path, orders=6)
    with context as h:
        assert h.documents("invoices")  # the merchant's own, written before ledgerbridge ran
        recorder = box["r"]
        _first, _ = sync(h)
        created = recorder.count("POST", "/books/v3/invoices")
        assert created > 0
        # No checkpoint yet, and the organisation holds documents: the store cannot vouch
        # for it, so Zoho is searched before each create (and probed once).
        assert recorder.count("GET", "/books/v3/invoices") >= created + 1

        recorder.calls.clear()
        new = _add_orders(h, total=9)
        second, _ = sync(h)
        assert second.writes > 0
        assert recorder.count("POST", "/books/v3/invoices") == len(new)
        assert recorder.count("GET", "/books/v3/invoices") == 0  # the intents vouch
        assert all(n == 1 for n in invoices_by_reference(h).values())


def test_a_first_run_on_an_empty_organisation_probes_once_and_never_searches(
    tmp_path: Path,
) -> None:
    """The organisation lists no document and no payment: nothing we could have written
    exists, so from the first write the run's intents vouch (one probe per list)."""
    context, box = _recorded(tmp_path, orders=6)
    with context as h:
        _empty_organisation(h)
        recorder = box["r"]
        report, _ = sync(h)
        created = recorder.count("POST", "/books/v3/invoices")
        assert created > 0 and report.states.get("synced", 0) > 0
        probes = [(m, p) for m, p, q in recorder.calls if m == "GET" and "per_page=1" in q]
        assert sorted(probes) == sorted(
            ("GET", f"/books/v3/{kind}")
            for kind in ("invoices", "salesreceipts", "creditnotes", "customerpayments")
        )
        searches = [
            (m, p) for m, p, q in recorder.calls
            if m == "GET" and p.endswith(("/invoices", "/customerpayments"))
            and "per_page=1" not in q
        ]  # fmt: skip
        assert searches == []
        assert all(n == 1 for n in invoices_by_reference(h).values())
        assert len(h.documents("payments")) == recorder.count("POST", "/books/v3/customerpayments")
        again, _ = sync(h)
        assert again.writes == 0


def test_search_before_create_always_keeps_the_search(tmp_path: Path) -> None:
    context, box = _recorded(tmp_path, orders=4)
    with context as h:
        text = h.config_path.read_text()
        line = next(x for x in text.splitlines() if x.strip() == "posting_policy: invoice")
        indent = line[: len(line) - len(line.lstrip())]
        h.config_path.write_text(
            text.replace(line, f"{line}\n{indent}search_before_create: always")
        )
        recorder = box["r"]
        sync(h)
        recorder.calls.clear()
        new = _add_orders(h, total=7)
        sync(h)
        assert recorder.count("POST", "/books/v3/invoices") == len(new)
        assert recorder.count("GET", "/books/v3/invoices") >= len(new)


def test_a_lost_store_does_not_duplicate_documents(tmp_path: Path) -> None:
    """The store is deleted and recreated: without a checkpoint the run searches again,
    so every document already in Zoho is adopted, not written twice."""
    context, _ = _recorded(tmp_path, orders=6)
    with context as h:
        sync(h)
        before = invoices_by_reference(h)
        counts = {k: len(h.documents(k)) for k in ("invoices", "payments", "contacts")}
        Path(h.db_url.removeprefix("sqlite:///")).unlink()
        report, _engine = sync(h)
        assert report.states["synced"] == len(before)
        assert invoices_by_reference(h) == before
        assert {k: len(h.documents(k)) for k in counts} == counts


def test_a_stop_inside_a_unit_closes_the_unsent_intents_and_keeps_the_checkpoint(
    tmp_path: Path,
) -> None:
    """``ledgerbridge run`` stops between records: the rest of the unit was never sent, so
    its intents close as ``not_sent`` (no look-up needed later) and the page is read again."""
    context, box = _recorded(tmp_path, orders=8)
    with context as h:
        engine = h.engine()
        outcomes: list[Any] = []

        def stop_after_three_invoices(runner: Any) -> None:
            runner.on_record = outcomes.append
            runner.stopping_when(lambda: box["r"].count("POST", "/books/v3/invoices") >= 3)

        report = anyio.run(run_in_units, engine, 8, stop_after_three_invoices)
        assert report.checkpoints == {}  # the page was cut short: read again next time
        store = h.store()
        with store.session() as s:
            intents = s.exec(select(WriteIntent)).all()
        statuses = Counter(i.status for i in intents)
        assert statuses["pending"] == 0 and statuses["not_sent"] > 0
        assert sum(1 for o in outcomes if o.state is not None) == 3

        calls_before = len(box["r"].calls)
        report, _ = sync(h)
        assert all(n == 1 for n in invoices_by_reference(h).values())
        with store.session() as s:
            statuses = Counter(i.status for i in s.exec(select(WriteIntent)).all())
        assert statuses["not_sent"] == 0 and statuses["pending"] == 0
        # Nothing to adopt: a not_sent intent is known not to have reached Zoho.
        assert statuses["adopted"] == 0
        assert len(box["r"].calls) > calls_before


def test_every_read_of_a_unit_searches_an_index(tmp_path: Path) -> None:
    """The reads a unit makes (its records, what was posted before, its intents, master
    data bindings) find rows through an index: none scans a table, so a unit costs the
    same on a store holding years of history as on a new one."""
    context, _ = _recorded(tmp_path, orders=6)
    with context as h:
        sync(h)  # the tables hold rows; the second run reads them back
        _add_orders(h, total=9)
        plans: dict[str, list[str]] = {}

        def explain(runner: Any) -> None:
            def before(conn: Any, cursor: Any, sql: str, params: Any, ctx: Any, many: bool) -> None:
                if sql.lstrip().upper().startswith("SELECT") and not many:
                    rows = cursor.connection.execute(f"EXPLAIN QUERY PLAN {sql}", params)
                    plans[sql] = [row[-1] for row in rows]

            event.listen(runner.store.engine, "before_cursor_execute", before)

        report = anyio.run(run_in_units, h.engine(), 100, explain)
        assert report.writes > 0
        # The columns a read may look rows up by, per table (records due for a retry are
        # found by state): an index on a prefix before them (tenant and connection alone,
        # say) would still read every row of a connection.
        # (by primary key too: the state counters re-read the unit's own records by id)
        by_key = {"sync_records": ("external_id=?", "state=?)", "INTEGER PRIMARY KEY"),
                  "cross_references": ("external_id=?",), "write_intents": ("scope=?",)}  # fmt: skip
        for table, keys in by_key.items():
            reads = {sql: steps for sql, steps in plans.items() if f"FROM {table}" in sql}
            assert reads, f"the unit did not read {table}"
            for sql, steps in reads.items():
                assert not any(s.startswith("SCAN") for s in steps), (sql, steps)
                searches = [s for s in steps if s.startswith("SEARCH")]
                assert all(any(k in s for k in keys) for s in searches), (sql, steps)
