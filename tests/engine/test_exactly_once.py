"""Exactly-once effect across crashes and lost responses, idempotent re-runs, totals to the cent.

WooCommerce emulator -> real connectors, engine, mapping and SQLite store -> Zoho Books emulator,
over real loopback sockets.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from sqlmodel import select

from ledgerbridge.store import Lease, RecordState, SyncRecord, WriteIntent
from ledgerbridge.store.types import utcnow

from .harness import InterceptWrite, woocommerce_to_zoho

pytestmark = pytest.mark.usefixtures("secret_key")


def sync(h, **kw):
    engine = h.engine(**kw)

    async def main():
        async with engine:
            return await engine.sync()

    [report] = anyio.run(main)
    return report, engine


def invoices_by_reference(h) -> Counter:
    return Counter(
        doc["reference_number"]
        for doc in h.documents("invoices")
        if not doc["reference_number"].startswith("SEED-")
    )


def woo_orders(h) -> dict[str, dict]:
    return {str(k): v for k, v in h.source_app.emulator.store.orders.items()}


def test_a_run_posts_every_order_once_with_totals_to_the_cent_and_a_rerun_writes_nothing(
    tmp_path: Path,
):
    with woocommerce_to_zoho(tmp_path, orders=12) as h:
        report, engine = sync(h)
        assert report.read == 12 and report.writes > 0
        assert report.states["synced"] >= 8, engine.failures()
        source = woo_orders(h)
        synced = [r for r in engine.failures([RecordState.SYNCED])]
        assert synced
        for record in synced:
            binding = engine.store.get_xref(
                "acme", "acme/shop", "order", record.external_id, "acme/books", "invoice"
            )
            invoice = h.org.invoices[binding.target_id]
            assert Decimal(str(invoice["total"])) == Decimal(source[record.external_id]["total"]), (
                record.external_id
            )
        # One document per order, by reference.
        assert all(n == 1 for n in invoices_by_reference(h).values())
        before = {
            k: len(getattr(h.org, k)) for k in ("invoices", "payments", "creditnotes", "contacts")
        }
        again, _ = sync(h)
        assert again.writes == 0
        assert {k: len(getattr(h.org, k)) for k in before} == before


def take_over_lease(store) -> None:
    """The dead worker's lease blocks until it expires; take it over explicitly."""
    with store.session() as s:
        for lease in s.exec(select(Lease)).all():
            s.delete(lease)


def killed_then_restarted(h, secret_key: str, worker: dict[str, int], between) -> None:
    """A real ``ledgerbridge sync`` the emulator SIGKILLs (``worker["pid"]``); ``between``
    inspects the store after the kill; then the lease is taken over and a second sync runs."""
    cmd = [sys.executable, "-m", "ledgerbridge", "sync", "-c", str(h.config_path)]
    env = {**os.environ, "LEDGERBRIDGE_SECRET_KEY": secret_key}
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    worker["pid"] = first.pid
    first.wait(timeout=120)
    assert first.returncode == -signal.SIGKILL
    between()
    take_over_lease(h.store())
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert all(n == 1 for n in invoices_by_reference(h).values())


def test_sigkill_between_remote_write_and_local_commit_leaves_one_document(
    tmp_path: Path, secret_key: str
):
    worker: dict[str, int] = {}

    async def kill_worker(send):
        os.kill(worker["pid"], signal.SIGKILL)  # dies before it can record the result
        await asyncio.sleep(0.2)

    def wrap(app):
        return InterceptWrite(app, "/invoices", kill_worker)

    with woocommerce_to_zoho(tmp_path, orders=6, wrap_zoho=wrap) as h:
        store = h.store()
        before: dict[str, int] = {}

        def after_the_kill() -> None:
            with store.session() as s:
                pending = s.exec(select(WriteIntent).where(WriteIntent.status == "pending")).all()
            # The unit's intents were recorded before its first call: the invoice whose
            # response never arrived, and the writes after it never sent (the kill came first).
            assert pending and pending[0].operation == "create_document"
            assert len({i.record_id for i in pending}) == 1  # the unit was this one record
            before["invoices"] = len(h.org.invoices)

        killed_then_restarted(h, secret_key, worker, after_the_kill)
        assert len(h.org.invoices) >= before["invoices"]
        with store.session() as s:
            statuses = Counter(i.status for i in s.exec(select(WriteIntent)).all())
        assert statuses["pending"] == 0 and statuses["adopted"] == 1


def test_sigkill_between_create_and_mark_sent_leaves_no_draft(tmp_path: Path, secret_key: str):
    """An unpaid order's invoice is created (a draft) and the worker dies before marking it
    sent: on restart the engine adopts it and finishes it -- no draft left out of the ledger."""
    worker: dict[str, int] = {}

    async def kill_before_it_is_marked(send):
        os.kill(worker["pid"], signal.SIGKILL)
        await asyncio.sleep(0.2)
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def wrap(app):
        return InterceptWrite(app, "/status/sent", kill_before_it_is_marked, before=True)

    with woocommerce_to_zoho(tmp_path, orders=12, wrap_zoho=wrap) as h:
        drafts: list[dict] = []

        def after_the_kill() -> None:
            drafts.extend(d for d in h.documents("invoices") if d["status"] == "draft")
            assert len(drafts) == 1

        killed_then_restarted(h, secret_key, worker, after_the_kill)
        assert [d["status"] for d in h.documents("invoices") if d["status"] == "draft"] == []
        assert h.org.invoices[drafts[0]["invoice_id"]]["status"] == "sent"
        with h.store().session() as s:
            adopted = s.exec(select(WriteIntent).where(WriteIntent.status == "adopted")).all()
        assert [i.operation for i in adopted] == ["create_document"]


def test_write_committed_response_lost_is_adopted_not_repeated(tmp_path: Path):
    """The emulator commits the invoice, the response is lost, and Zoho stays unreachable long
    enough that the connector cannot check: the outcome is unknown until the next attempt."""
    holder = {}

    async def drop_response_then_outage(send):
        holder["wrapper"].outage = True  # the connector's own look-up fails too
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"500")]}
        )
        raise ConnectionResetError("injected: write committed, response lost")

    def wrap(app):
        holder["wrapper"] = InterceptWrite(app, "/invoices", drop_response_then_outage)
        return holder["wrapper"]

    with woocommerce_to_zoho(tmp_path, orders=6, wrap_zoho=wrap) as h:
        _, engine = sync(h)
        retrying = engine.failures([RecordState.RETRYING])
        assert retrying, [(r.external_id, r.state, r.reason) for r in engine.failures()]
        lost = retrying[0]
        refs = invoices_by_reference(h)
        assert refs[lost.external_id] == 1  # committed once, unrecorded
        assert all(n == 1 for n in refs.values())

        holder["wrapper"].outage = False  # Zoho is back
        store = h.store()
        with store.session() as s:
            for row in s.exec(select(SyncRecord).where(SyncRecord.state == "retrying")):
                row.next_attempt_at = utcnow()
                s.add(row)
        _, engine = sync(h)
        after = invoices_by_reference(h)
        assert all(n == 1 for n in after.values()), after
        outcomes = [
            e.outcome for e in engine.audit(lost.external_id) if e.operation == "create_document"
        ]
        assert "adopted" in outcomes
        assert engine.failures([RecordState.RETRYING]) == []
        with store.session() as s:
            assert not s.exec(select(WriteIntent).where(WriteIntent.status == "pending")).all()
