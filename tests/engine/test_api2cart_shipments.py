"""The fulfilled trigger with API2Cart shipments (``order.shipment.list``), API2Cart emulator
-> Zoho Books emulator: an order shipped in three parts makes three invoices adding up to
the order, its one payment applied across them.  Books read from the Zoho emulator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.engine import Engine
from ledgerbridge.store import RecordState
from ledgerbridge_api2cart.emulator.shipments import shipment
from tests.engine.harness import api2cart_to_zoho, sync_once

pytestmark = pytest.mark.usefixtures("secret_key")


def _sync(config: Path, db: str) -> Engine:
    return sync_once(config, db)[1]


def _touch(order, moment: datetime) -> None:
    order["modified_at"] = {"value": moment.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                            "format": "Y-m-d\\TH:i:sO"}  # fmt: skip


@contextmanager
def wired(
    tmp_path: Path, trigger: str, wrap_zoho: Any = None
) -> Iterator[tuple[Any, Any, Path, str]]:
    """The API2Cart harness reading shipments, the pipeline on ``trigger``: (the store's
    data, the Zoho organisation, the config, the database); ``wrap_zoho`` e.g. a
    TrapInjector around the Zoho emulator."""
    with api2cart_to_zoho(
        tmp_path, token=None, shop_settings=", read_shipments: true", trigger=trigger,
        wrap_zoho=wrap_zoho,
    ) as h:  # fmt: skip
        yield h.extra["store"], h.org, h.config_path, h.db_url


def test_an_api2cart_order_shipped_in_three_parts(tmp_path: Path):
    with wired(tmp_path, "fulfilled") as (store, org, config, db):
        oid = next(
            i for i, o in store.orders.items()
            if o["status"]["id"] == "processing" and sum(p["quantity"] for p in o["order_products"]) >= 3
        )  # fmt: skip
        order = store.orders[oid]
        engine = _sync(config, db)
        [waiting] = [r for r in engine.failures([RecordState.WAITING]) if r.external_id == oid]
        assert "fulfilment" in waiting.reason

        units = [p["order_product_id"] for p in order["order_products"]
                 for _ in range(int(p["quantity"]))]  # fmt: skip
        parts = [units[0::3], units[1::3], units[2::3]]
        now = datetime.now(UTC).replace(microsecond=0)
        for k, part in enumerate(parts, 1):
            items = [(opid, part.count(opid)) for opid in dict.fromkeys(part)]
            when = now - timedelta(minutes=10 - k)
            store.shipments.setdefault(oid, []).append(
                shipment(order, f"S{k}", items, when.strftime("%Y-%m-%dT%H:%M:%S+0000"))
            )
            _touch(order, when)
            _sync(config, db)
            mine = [
                d for d in org.invoices.values() if str(d["reference_number"]).startswith(f"{oid}-")
            ]
            assert len(mine) == k, [
                (r.external_id, r.state, r.reason) for r in engine.failures(list(RecordState))
            ]
        assert sum(Decimal(str(d["total"])) for d in mine) == order["total"]["total"]
        ids = {d["invoice_id"] for d in mine}
        pays = [p for p in org.payments.values() if {a["invoice_id"] for a in p["invoices"]} & ids]
        assert len(pays) == 1 and len(pays[0]["invoices"]) == 3
        assert all(Decimal(str(d["balance"])) == 0 for d in mine)


def test_paid_trigger_an_unpaid_api2cart_order_waits_then_posts_when_paid(tmp_path: Path):
    with wired(tmp_path, "paid") as (store, org, config, db):
        oid = next(i for i, o in store.orders.items() if o["status"]["id"] == "pending")
        paid = next(o for o in store.orders.values() if o["status"]["id"] == "processing")
        order = store.orders[oid]
        engine = _sync(config, db)
        [waiting] = [r for r in engine.failures([RecordState.WAITING]) if r.external_id == oid]
        assert "payment" in waiting.reason
        assert not [d for d in org.invoices.values() if d["reference_number"] == oid]
        order["status"] = dict(paid["status"])
        order["total"]["total_paid"] = order["total"]["total"]  # the cart records the payment
        _touch(order, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1))
        engine = _sync(config, db)
        states = [
            (r.state, r.reason) for r in engine.failures(list(RecordState)) if r.external_id == oid
        ]
        found = [d for d in org.invoices.values() if d["reference_number"] == oid]
        assert len(found) == 1, states
        [invoice] = found
        assert abs(Decimal(str(invoice["total"])) - order["total"]["total"]) <= Decimal("0.01")
        assert Decimal(str(invoice["balance"])) == 0


def test_an_edit_of_a_paid_api2cart_order_posts_a_credit_note_beside_its_invoice(tmp_path: Path):
    with wired(tmp_path, "placed") as (store, org, config, db):
        oid = next(
            i for i, o in store.orders.items()
            if o["total"]["total_paid"] == o["total"]["total"] > 0 and not o["refunds"]
            and not o.get("discounts") and any(p["quantity"] >= 2 for p in o["order_products"])
        )  # fmt: skip
        order = store.orders[oid]
        _sync(config, db)
        [invoice] = [d for d in org.invoices.values() if d["reference_number"] == oid]
        before = Decimal(str(invoice["total"]))
        # The cart's edit: one unit fewer of a line; its totals follow (api2cart.md's
        # OrderItem fields: price, quantity, total_price, tax_value[_after_discount]).
        line = next(p for p in order["order_products"] if p["quantity"] >= 2)
        tax = Decimal(str(line["tax_value"]))
        kept = (tax * (line["quantity"] - 1) / line["quantity"]).quantize(Decimal("0.01"))
        price = Decimal(str(line["price"]))
        line["quantity"] -= 1
        line["total_price"] = price * line["quantity"]
        line["tax_value"] = line["tax_value_after_discount"] = kept
        totals = order["total"]
        totals["subtotal_ex_tax"] -= price
        totals["total_tax"] -= tax - kept
        totals["additional_fields"]["subtotal_tax"] -= tax - kept
        totals["total"] -= price + tax - kept
        _touch(order, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1))
        engine = _sync(config, db)
        state = [
            (r.state, r.reason) for r in engine.failures(list(RecordState)) if r.external_id == oid
        ]
        notes = [c for c in org.creditnotes.values() if c["reference_number"] == oid]
        assert len(notes) == 1, state
        assert notes[0]["invoice_id"] == invoice["invoice_id"]
        assert Decimal(str(org.invoices[invoice["invoice_id"]]["total"])) == before  # untouched
        assert before - Decimal(str(notes[0]["total"])) == totals["total"]


def test_a_discount_added_after_the_first_shipment_is_invoiced_still_adds_up(tmp_path: Path):
    """One unit of a line ships and is invoiced; then the cart discounts the line; the
    rest ships.  The posted invoice keeps its figures, so the second takes what remains of
    the new ones: the invoices add up to the edited order to the cent."""
    with wired(tmp_path, "fulfilled") as (store, org, config, db):
        oid = next(
            i for i, o in store.orders.items()
            if o["status"]["id"] == "processing" and not o["refunds"]
            and any(p["quantity"] >= 2 and Decimal(str(p["tax_value"])) > 0 for p in o["order_products"])
        )  # fmt: skip
        order = store.orders[oid]
        line = next(
            p for p in order["order_products"]
            if p["quantity"] >= 2 and Decimal(str(p["tax_value"])) > 0
        )  # fmt: skip
        now = datetime.now(UTC).replace(microsecond=0)
        first = now - timedelta(minutes=9)
        store.shipments.setdefault(oid, []).append(
            shipment(order, "S1", [(line["order_product_id"], 1)],
                     first.strftime("%Y-%m-%dT%H:%M:%S+0000"))
        )  # fmt: skip
        _touch(order, first)
        _sync(config, db)
        assert (
            len(
                [
                    d
                    for d in org.invoices.values()
                    if str(d["reference_number"]).startswith(f"{oid}-")
                ]
            )
            == 1
        )
        # The cart's edit: a 5.00 discount on the line; its tax (10 %) and the totals follow.
        off = Decimal("5.00")
        old_tax = Decimal(str(line["tax_value"]))
        net = Decimal(str(line["price"])) * line["quantity"] - off
        new_tax = (net * Decimal("0.10")).quantize(Decimal("0.01"))
        line["discount_amount"] = off
        line["tax_value"] = line["tax_value_after_discount"] = new_tax
        totals = order["total"]
        totals["total_discount"] = Decimal(str(totals.get("total_discount") or 0)) + off
        totals["total_tax"] += new_tax - old_tax
        totals["additional_fields"]["subtotal_tax"] += new_tax - old_tax
        totals["total"] += new_tax - old_tax - off
        totals["total_paid"] = totals["total"]
        rest = [(p["order_product_id"], int(p["quantity"]) - (1 if p is line else 0))
                for p in order["order_products"]]  # fmt: skip
        second = now - timedelta(minutes=5)
        store.shipments[oid].append(
            shipment(order, "S2", [r for r in rest if r[1] > 0],
                     second.strftime("%Y-%m-%dT%H:%M:%S+0000"))
        )  # fmt: skip
        _touch(order, second)
        engine = _sync(config, db)
        mine = [
            d for d in org.invoices.values() if str(d["reference_number"]).startswith(f"{oid}-")
        ]
        assert len(mine) == 2, [
            (r.external_id, r.state, r.reason) for r in engine.failures(list(RecordState))
        ]
        assert sum(Decimal(str(d["total"])) for d in mine) == totals["total"]
