"""``Engine.work``: the unit a worker dispatches -- one page under the pipeline's lease, saying
whether work remains -- books the same documents as one whole ``sync``, and refuses to run
beside another holder.  (SQLite and the emulators on loopback: no broker needed.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from ledgerbridge.engine.runner import PipelineBusy, RunReport

from ..engine.harness import woocommerce_to_zoho
from ..engine.test_exactly_once import invoices_by_reference, sync

pytestmark = pytest.mark.usefixtures("secret_key")


def _small_pages(config: Path) -> None:
    text = config.read_text().replace("allow_http: true,", "allow_http: true, per_page: 4,")
    config.write_text(text)


def test_shares_of_one_page_book_what_one_sync_books(tmp_path: Path) -> None:
    for part in ("whole", "shares"):
        (tmp_path / part).mkdir()
    with woocommerce_to_zoho(tmp_path / "whole", orders=12) as whole:
        _small_pages(whole.config_path)
        sync(whole)
        expected = invoices_by_reference(whole)
    assert expected and max(expected.values()) == 1

    with woocommerce_to_zoho(tmp_path / "shares", orders=12) as h:
        _small_pages(h.config_path)
        engine = h.engine()

        async def shares() -> list[RunReport]:
            done = []
            async with engine:
                while not done or done[-1].more:
                    assert len(done) < 20, "a share that never ends"
                    done.append(
                        await engine.work(
                            "pipe", holder="task-1", max_pages=1, lease_ttl=timedelta(seconds=5)
                        )
                    )
            return done

        reports = anyio.run(shares)
        assert len(reports) >= 3, [r.read for r in reports]  # 11 orders in pages of 4
        assert all(r.more for r in reports[:-1]) and not reports[-1].more
        assert all(r.read <= 4 for r in reports)  # each share read one page
        assert invoices_by_reference(h) == expected  # the same books, nothing twice


def test_a_share_refuses_to_run_beside_another_holder(tmp_path: Path) -> None:
    with woocommerce_to_zoho(tmp_path, orders=4) as h:
        store = h.store()
        store.migrate()
        assert store.acquire_lease("pipeline:pipe", "someone-else", timedelta(minutes=1))
        engine = h.engine()

        async def share() -> RunReport:
            async with engine:
                return await engine.work("pipe", holder="task-2")

        with pytest.raises(PipelineBusy):
            anyio.run(share)
        assert not invoices_by_reference(h)


def test_the_store_counts_the_work_waiting_per_connection_and_pipeline(tmp_path: Path) -> None:
    """What the sweep and ``status`` read: events per connection, retries due per pipeline."""
    from ledgerbridge.store import InboxEvent, RecordState, Store, SyncRecord, work_queries
    from ledgerbridge.store.types import utcnow

    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    for n, connection in enumerate(["t/shop", "t/shop", "t/other"]):
        store.add_inbox_event(
            InboxEvent(tenant_id="t", connection_id=connection, delivery_id=str(n),
                       topic="order.updated", entity="order", external_id=str(n))
        )  # fmt: skip
    done = store.pending_inbox("t/other")[0]
    with store.session() as s:
        row = s.get(InboxEvent, done.id)
        assert row is not None
        row.status = "processed"
        s.add(row)
        now = utcnow()
        for n, (pipeline, when) in enumerate(
            [("p", now - timedelta(seconds=5)), ("p", now + timedelta(hours=1)), ("q", now)]
        ):
            s.add(SyncRecord(tenant_id="t", pipeline_id=pipeline, entity="order",
                             external_id=str(n), state=RecordState.RETRYING.value,
                             next_attempt_at=when))  # fmt: skip
    assert work_queries.pending_events(store) == {"t/shop": 2}
    assert work_queries.retries_due(store, "p") == 1
    assert work_queries.retrying(store, "p") == 2
    assert work_queries.retries_due(store, "nobody") == 0
    store.close()


def test_a_lease_taken_over_is_not_renewed_and_says_so(tmp_path: Path) -> None:
    """The share's heartbeat renews through the lease object; False stops the share."""
    from ledgerbridge.engine.lease import PipelineLease
    from ledgerbridge.store import Store

    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()

    async def main() -> tuple[bool, bool]:
        async with PipelineLease(store, "pipe", "task-1", timedelta(seconds=30)) as lease:
            kept = await lease.renew()
            store.release_lease("pipeline:pipe", "task-1")  # lapsed...
            assert store.acquire_lease("pipeline:pipe", "task-2", timedelta(seconds=30))
            return kept, await lease.renew()  # ...and another holder took it

    assert anyio.run(main) == (True, False)
    assert store.lease_holder("pipeline:pipe")[0] == "task-2"  # type: ignore[index]
    store.close()
