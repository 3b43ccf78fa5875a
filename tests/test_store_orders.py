"""Finding an order by what people call it (``store/orders.py``), on SQLite and PostgreSQL:
the number as stored first, then with or without its '#', or the source id; several
matches are returned for the caller to list; tenant and pipeline narrow."""

from __future__ import annotations

from ledgerbridge.store import AuditEvent, Store, SyncRecord
from ledgerbridge.store.orders import find_orders, order_events, order_label, records_by_id


def add(store: Store, tenant: str, pipeline: str, external_id: str, number: str | None) -> int:
    with store.session() as s:
        row = SyncRecord(
            tenant_id=tenant, pipeline_id=pipeline, entity="order", external_id=external_id,
            number=number,
        )  # fmt: skip
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def ids(found: list[SyncRecord]) -> list[int | None]:
    return [r.id for r in found]


def test_orders_are_found_by_number_or_id(store: Store) -> None:
    shop = add(store, "north", "north-orders", "5000000003", "#1003")
    cart = add(store, "cart", "cart-orders", "1003", "1003")
    woo = add(store, "west", "west-orders", "1017", "1017")

    assert ids(find_orders(store, "#1003")) == [shop]  # spelled as stored
    assert ids(find_orders(store, "1003")) == [cart]  # spelled as stored by the cart
    assert ids(find_orders(store, " 5000000003 ")) == [shop]
    assert ids(find_orders(store, "#1017")) == [woo]  # no '#1017' stored: with or without '#'
    assert ids(find_orders(store, "1003", tenant="north")) == [shop]  # loose within the tenant
    assert ids(find_orders(store, "#1003", pipelines=["cart-orders"])) == [cart]
    assert find_orders(store, "#4040") == [] and find_orders(store, "#") == []

    add(store, "west", "west-orders", "1003", "1003")
    assert len(find_orders(store, "1003")) == 2  # ambiguous: the caller lists both
    assert ids(find_orders(store, str(woo), record_ids=True)) == [woo]
    assert ids(find_orders(store, f"#{woo}", record_ids=True)) == []  # '#': never a record id

    by_id = records_by_id(store, [shop, woo])
    assert order_label(by_id[shop]) == "#1003 (id 5000000003)"
    assert order_label(by_id[woo]) == "1017"


def test_an_orders_writes_are_those_of_its_record_and_pipeline(store: Store) -> None:
    rid = add(store, "north", "north-orders", "5000000003", "#1003")
    with store.session() as s:
        for pipeline, record_id in (("north-orders", rid), ("north-orders", None), ("x", None)):
            s.add(
                AuditEvent(
                    tenant_id="north", pipeline_id=pipeline, record_id=record_id,
                    source_id="5000000003", idempotency_key=f"k-{pipeline}-{record_id}",
                    operation="create_document", outcome="ok",
                )
            )  # fmt: skip
    [record] = find_orders(store, "#1003")
    events = order_events(store, record)
    assert [(e.pipeline_id, e.record_id) for e in events] == [
        ("north-orders", rid),
        ("north-orders", None),
    ]
