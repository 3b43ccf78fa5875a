"""End to end: a run over pages holding one poisoned order parks just that order, with
its reason, and posts every other order to the Zoho Books emulator as before.

API2Cart emulator -> source -> engine -> store -> Zoho Books emulator over loopback
sockets (the fixture of tests/api2cart/test_end_to_end.py).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledgerbridge.store import RecordState
from tests.api2cart.test_end_to_end import STORE_KEY, Wired, _run, wired  # noqa: F401
from tests.engine.harness import woocommerce_to_zoho
from tests.engine.test_exactly_once import sync
from tests.fuzz.test_mapper_regressions import A2C_POISONS as POISONS  # the same three

pytestmark = pytest.mark.usefixtures("secret_key")


@pytest.mark.parametrize("poison", list(POISONS))
def test_one_poisoned_order_is_parked_and_the_others_reach_the_books(
    wired: Wired,  # noqa: F811
    poison: str,
) -> None:
    orders = wired.state.stores[STORE_KEY].orders
    paid = [
        i
        for i, o in orders.items()
        if o["total"]["total_paid"] == o["total"]["total"]
        and o["status"]["id"] != "awaiting-pickup"
    ]
    assert len(paid) >= 3
    poisoned, *others = paid
    mutate, reason = POISONS[poison]
    mutate(orders[poisoned])

    report, engine = _run(wired.config, wired.db)

    records = {r.external_id: r for r in engine.failures(list(RecordState)) if r.entity == "order"}
    parked = records[poisoned]
    assert parked.state == RecordState.FAILED
    assert reason in parked.reason and f"API2Cart order {poisoned}" in parked.reason
    # The merchant's books: nothing for the poisoned order ...
    org = wired.org
    assert not [d for d in org.invoices.values() if d.get("reference_number") == poisoned]
    # ... and every other paid order posted, to the cent, and paid.
    for order_id in others:
        assert records[order_id].state == RecordState.SYNCED, records[order_id].reason
        [invoice] = [d for d in org.invoices.values() if d.get("reference_number") == order_id]
        assert Decimal(str(invoice["total"])) == orders[order_id]["total"]["total"], order_id
        assert invoice["status"] == "paid" and Decimal(str(invoice["balance"])) == 0
    assert report.writes > 0


WOO_POISONS = {
    "line_items[0] = 7": (
        lambda o: o["line_items"].__setitem__(0, 7),
        "line_items[0] is not an object",
    ),
    'tax_lines[0].tax_total = "sNaN"': (
        lambda o: o["tax_lines"][0].__setitem__("tax_total", "sNaN"),
        "tax_lines[0].tax_total is 'sNaN', not a finite number",
    ),
    'line_items[1].total = "1e999999999"': (
        lambda o: o["line_items"][1].__setitem__("total", "1e999999999"),
        "line_items[1].total is '1e999999999', out of range",
    ),
}


@pytest.mark.parametrize("poison", list(WOO_POISONS))
def test_woocommerce_run_parks_the_poisoned_order_and_posts_the_rest(
    tmp_path: Path, poison: str
) -> None:
    """WooCommerce emulator -> engine -> Zoho Books emulator: before the guard, these
    payloads ended the whole run with AttributeError / InvalidOperation / Overflow."""
    with woocommerce_to_zoho(tmp_path, orders=12) as h:
        orders = h.source_app.emulator.store.orders
        clean_ids = [
            oid
            for oid in sorted(orders)
            if len(orders[oid]["line_items"]) >= 2 and orders[oid]["tax_lines"]
        ]
        poisoned = clean_ids[0]
        mutate, reason = WOO_POISONS[poison]
        mutate(orders[poisoned])

        report, engine = sync(h)
        assert report.read == 12

        records = {r.external_id: r for r in engine.failures(list(RecordState))}
        parked = records[str(poisoned)]
        assert parked.state == RecordState.FAILED
        assert f"order {poisoned}.{reason}" in parked.reason
        assert not [
            d for d in h.org.invoices.values() if d.get("reference_number") == str(poisoned)
        ]
        synced = [r for r in records.values() if r.state == RecordState.SYNCED]
        assert len(synced) >= 7, [(r.external_id, r.state, r.reason) for r in records.values()]
        for record in synced:
            binding = engine.store.get_xref(
                "acme", "acme/shop", "order", record.external_id, "acme/books", "invoice"
            )
            invoice = h.org.invoices[binding.target_id]
            expected = Decimal(str(orders[int(record.external_id)]["total"]))
            assert Decimal(str(invoice["total"])) == expected, record.external_id
