"""Bulk backfill: a real JSONL file, streamed and re-assembled record by record."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import pytest

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.errors import ValidationFailed
from ledgerbridge.sandbox import serve
from ledgerbridge_shopify.bulk import Reassembler
from ledgerbridge_shopify.checkpoint import Checkpoint
from ledgerbridge_shopify.emulator import create_app

from .helpers import ScaledClock, make_source
from .test_source import collect


def test_backfill_streams_every_order_over_real_http() -> None:
    clock = ScaledClock(2000)
    app = create_app(orders=150, clock=clock.now, interleave=3)

    async def scenario(url: str) -> None:
        source = make_source(base_url=url, clock=clock, bulk_poll_seconds=0.5)
        pages = []
        async for page in source.backfill(EntityType.ORDER):
            pages.append(page)
        changes = [c for p in pages for c in p.changes]
        assert len(changes) == 150 and len({c.external_id for c in changes}) == 150
        assert all(p.checkpoint is None for p in pages[:-1])
        final = Checkpoint.loads(pages[-1].checkpoint)
        op = app.bulk.current()
        assert op is not None and op.status == "COMPLETED" and op.root_object_count == 150
        assert final.since == datetime.fromisoformat(op.created_at.replace("Z", "+00:00"))
        assert all(c.error is None for c in changes), [c.error for c in changes if c.error][:3]
        # the bulk path maps exactly like the incremental one (same order, same numbers)
        for n in (0, 7, 13, 14, 97 % 150):
            ident = str(5_000_000_000 + n)
            bulk_order = next(c.record for c in changes if c.external_id == ident)
            direct = await source.fetch(EntityType.ORDER, ident)
            assert isinstance(bulk_order, Order) and isinstance(direct, Order)
            assert bulk_order.model_dump() == direct.model_dump()
        assert len(next(c.record for c in changes if c.external_id == "5000000000").lines) == 30  # type: ignore[union-attr]
        # the file really is JSONL with children after their parents
        lines = app.bulk.path(op.number).read_text().splitlines()
        rows = [json.loads(line) for line in lines]
        assert sum(1 for r in rows if "__parentId" not in r) == 150
        assert any(
            "__parentId" in r and r["id"].startswith("gid://shopify/LineItem/") for r in rows
        )
        await source.aclose()

    with serve(app) as server:
        asyncio.run(scenario(server.url))


def test_backfill_since_and_customers_products() -> None:
    clock = ScaledClock(5000)
    app = create_app(orders=20, customers=9, products=5, clock=clock.now)
    source = make_source(app=app, clock=clock, bulk_poll_seconds=0.2)

    async def scenario() -> None:
        later = datetime.fromisoformat(app.shop.seeder.order_updated(10).isoformat())
        orders, _ = await collect(source.backfill(EntityType.ORDER, later))
        assert sorted(c.external_id for c in orders) == [
            str(5_000_000_000 + n) for n in range(10, 20)
        ]
        customers, _ = await collect(source.backfill(EntityType.CUSTOMER))
        assert len(customers) == 9 and all(c.record is not None for c in customers)
        products, _ = await collect(source.backfill(EntityType.PRODUCT))
        assert [len(p.record.variants) for p in products] == [1, 2, 3, 1, 2]  # type: ignore[union-attr]
        await source.aclose()

    asyncio.run(scenario())


def test_reassembler_keeps_a_window_and_reports_late_children() -> None:
    assembler = Reassembler(window=2)
    rows = [
        {"id": "gid://shopify/Order/1"},
        {"id": "gid://shopify/LineItem/11", "__parentId": "gid://shopify/Order/1"},
        {"id": "gid://shopify/Order/2"},
        {"id": "gid://shopify/Order/3"},  # order 1 leaves the window here
        {"id": "gid://shopify/LineItem/21", "__parentId": "gid://shopify/Order/2"},
        {"id": "gid://shopify/LineItem/12", "__parentId": "gid://shopify/Order/1"},  # too late
    ]
    out = []
    for row in rows:
        out += assembler.add(dict(row))
    out += assembler.finish()
    assert [o["id"] for o in out] == [
        "gid://shopify/Order/1",
        "gid://shopify/Order/2",
        "gid://shopify/Order/3",
    ]
    assert [n["id"] for n in out[0]["lineItems"]["nodes"]] == ["gid://shopify/LineItem/11"]
    assert [n["id"] for n in out[1]["lineItems"]["nodes"]] == ["gid://shopify/LineItem/21"]
    assert assembler.late == {"gid://shopify/Order/1"}
    with pytest.raises(ValidationFailed, match="Refund"):
        Reassembler().add(
            {"id": "gid://shopify/Refund/1", "__parentId": "gid://shopify/Order/9"}
        ) or Reassembler(
            _open={"gid://shopify/Order/9": {}},
            _owner={"gid://shopify/Order/9": ("gid://shopify/Order/9", {})},
        ).add({"id": "gid://shopify/Refund/1", "__parentId": "gid://shopify/Order/9"})


def test_late_rows_make_the_source_reread_the_record() -> None:
    clock = ScaledClock(5000)
    app = create_app(orders=12, clock=clock.now, interleave=4)
    source = make_source(app=app, clock=clock, bulk_poll_seconds=0.2)
    source.bulk_window = 2  # smaller than the emulator's delay: children arrive too late

    async def scenario() -> None:
        changes, _ = await collect(source.backfill(EntityType.ORDER))
        by_id: dict[str, list] = {}
        for c in changes:
            by_id.setdefault(c.external_id, []).append(c)
        assert len(by_id) == 12
        rereads = [c for cs in by_id.values() if len(cs) == 2 for c in cs[1:]]
        assert rereads, "late rows must trigger a re-read"
        assert all(c.error is None and isinstance(c.record, Order) for c in rereads)
        assert all(c.record.discrepancies() == [] for c in rereads)  # type: ignore[union-attr]
        await source.aclose()

    asyncio.run(scenario())


def test_bulk_access_denied_names_the_scope() -> None:
    from ledgerbridge.errors import PermissionDenied
    from ledgerbridge_shopify.emulator import ALL_SCOPES

    clock = ScaledClock(5000)
    app = create_app(orders=3, clock=clock.now, tokens={"no-orders": ALL_SCOPES - {"read_orders"}})
    source = make_source(app=app, clock=clock, token="no-orders", bulk_poll_seconds=0.2)
    with pytest.raises(PermissionDenied, match="access denied"):
        asyncio.run(collect(source.backfill(EntityType.ORDER)))
    op = app.bulk.current()
    assert op is not None and (op.status, op.error_code) == ("FAILED", "ACCESS_DENIED")
    asyncio.run(source.aclose())
