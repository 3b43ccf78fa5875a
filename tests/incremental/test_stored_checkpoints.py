"""A deployment's checkpoints, stored in the layouts the connectors wrote before the shared
checkpoint, still resume: the WooCommerce and API2Cart sources read them and hand over
exactly what the same position in the shared layout hands over -- never the whole history
again, never a record remembered as handed over."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import anyio

from ledgerbridge.canonical import EntityType
from ledgerbridge.incremental import Checkpoint, Watermark, instant_text
from ledgerbridge.sandbox import FaultConfig
from ledgerbridge_woocommerce.emulator import EmulatorConfig, create_app, seed
from tests.api2cart.conftest import GENERIC, Harness, harness  # noqa: F401 -- the fixture
from tests.woocommerce.conftest import make_source


async def _ids(source, entity, checkpoint):
    try:
        return [
            c.external_id
            async for page in source.changes(entity, checkpoint, page_size=5)
            for c in page.changes
        ]
    finally:
        await source.aclose()


def test_a_stored_woocommerce_keyset_resumes():
    app = create_app(seed(orders=24), EmulatorConfig(), FaultConfig())
    orders = app.emulator.store.orders
    stamps = sorted({o["date_modified_gmt"] for o in orders.values() if o["status"] == "completed"})
    mark = stamps[len(stamps) // 2]
    at_mark = sorted(str(i) for i, o in orders.items() if o["date_modified_gmt"] == mark)
    legacy = json.dumps(
        {"any": {"after": mark, "ids": at_mark[:1]}, "trash": {"after": None, "ids": []}},
        sort_keys=True,
        separators=(",", ":"),
    )
    moment = datetime.fromisoformat(mark).replace(tzinfo=UTC)
    shared = Checkpoint({"any": Watermark(moment, {at_mark[0]: instant_text(moment)})}).dumps()
    got = anyio.run(_ids, make_source(app), EntityType.ORDER, legacy)
    assert got == anyio.run(_ids, make_source(app), EntityType.ORDER, shared)
    assert at_mark[0] not in got and set(at_mark[1:]) <= set(got)
    live = {str(i) for i, o in orders.items() if o["status"] not in ("trash", "checkout-draft")}
    assert 0 < len(set(got) & live) < len(live)  # resumed, not read from the start


def test_a_stored_woocommerce_customer_pass_resumes_mid_way():
    app = create_app(seed(orders=24), EmulatorConfig(), FaultConfig())
    legacy = '{"mode":"full","page":2,"then":{"after":null,"ids":[]}}'
    got = anyio.run(_ids, make_source(app), EntityType.CUSTOMER, legacy)
    everyone = anyio.run(_ids, make_source(app), EntityType.CUSTOMER, None)
    assert got and set(got) < set(everyone)  # page 1 is not read again


def test_a_stored_api2cart_checkpoint_resumes_with_its_overlap_pairs(harness: Harness):  # noqa: F811
    store = harness.state.stores[GENERIC]
    stamps = sorted(o["modified_at"]["value"] for o in store.orders.values())
    mark = stamps[len(stamps) // 2]
    inside = sorted(
        str(o.get("id") or o.get("order_id"))
        for o in store.orders.values()
        if o["modified_at"]["value"] == mark
    )
    legacy = json.dumps(
        {
            "v": 1,
            "modified": datetime.fromisoformat(mark).isoformat(),
            "deleted": None,
            "seen": {"modified": {inside[0]: mark}},
        },
        sort_keys=True,
    )

    async def versions(checkpoint):
        source = harness.source(modified_overlap="PT0S")
        try:
            return [
                (c.external_id, c.version)
                async for page in source.changes(EntityType.ORDER, checkpoint, page_size=4)
                for c in page.changes
                if not c.deleted
            ]
        finally:
            await source.aclose()

    got = anyio.run(versions, legacy)
    assert got and all(version >= mark for _, version in got)
    assert len(got) == sum(1 for s in stamps if s > mark) + len(inside) - 1
    resumed = Checkpoint.loads(legacy, lanes=("modified", "deleted"))
    assert anyio.run(versions, resumed.dumps()) == got
