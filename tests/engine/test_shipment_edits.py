"""Edits after posting under the ``fulfilled`` trigger (``engine/shipment_edits.py``), API2Cart
emulator -> Zoho Books emulator: a line taken below what its shipments' invoices hold gets an
adjusting credit note against the invoice(s) that hold the units; a unit price changed between
two shipments re-prices the units already invoiced.  Either way the invoices less the credit
notes add up to the edited order to the cent, and a re-run writes nothing.  Books read from
the Zoho emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.store import RecordState
from ledgerbridge_api2cart.emulator.shipments import shipment
from tests.engine.test_api2cart_shipments import _sync, _touch, wired

pytestmark = pytest.mark.usefixtures("secret_key")

CENT = Decimal("0.01")
RATE = Decimal("0.10")  # the emulator's one tax rate (``wired``)


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def _candidate(store) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A paid order in processing with no refunds and a taxed, undiscounted line of 2+ units,
    and at least one other line (so the order survives the line's removal)."""
    for oid, o in store.orders.items():
        if o["status"]["id"] != "processing" or o["refunds"] or len(o["order_products"]) < 2:
            continue
        for p in o["order_products"]:
            if p["quantity"] >= 2 and _d(p["tax_value"]) > 0 and not _d(p["discount_amount"]):
                return oid, o, p
    raise AssertionError("no candidate order in the seed")


def _cart_edit(order: dict[str, Any], line: dict[str, Any], *, quantity=None, price=None) -> None:
    """The cart's edit of one line (quantity 0 removes it); the line's tax (10 %) and the
    order's totals follow (api2cart.md's OrderItem fields: price, quantity, total_price,
    tax_value[_after_discount]; OrderTotals: subtotal_ex_tax, total_tax, total)."""
    old_net = _d(line["price"]) * _d(line["quantity"])
    old_tax = _d(line["tax_value"])
    if quantity is not None:
        line["quantity"] = Decimal(quantity)
    if price is not None:
        line["price"] = _d(price)
    net = _d(line["price"]) * _d(line["quantity"])
    tax = (net * RATE).quantize(CENT)
    line["total_price"] = net
    line["tax_value"] = line["tax_value_after_discount"] = tax
    if line["quantity"] == 0:
        order["order_products"].remove(line)
    totals = order["total"]
    totals["subtotal_ex_tax"] = _d(totals["subtotal_ex_tax"]) + net - old_net
    totals["total_tax"] = _d(totals["total_tax"]) + tax - old_tax
    totals["additional_fields"]["subtotal_tax"] = (
        _d(totals["additional_fields"]["subtotal_tax"]) + tax - old_tax
    )
    totals["total"] = _d(totals["total"]) + net - old_net + tax - old_tax
    totals["total_paid"] = totals["total"]


def _ship(store, order, oid: str, sid: str, items, when: datetime) -> None:
    store.shipments.setdefault(oid, []).append(
        shipment(order, sid, items, when.strftime("%Y-%m-%dT%H:%M:%S+0000"))
    )
    _touch(order, when)


def _books(org, oid: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    invoices = sorted(
        (d for d in org.invoices.values() if str(d["reference_number"]).startswith(f"{oid}-")),
        key=lambda d: d["reference_number"],
    )
    ids = {d["invoice_id"] for d in invoices}
    notes = [c for c in org.creditnotes.values() if c.get("invoice_id") in ids]
    return invoices, notes


def _net_booked(org, oid: str) -> Decimal:
    invoices, notes = _books(org, oid)
    return sum((_d(d["total"]) for d in invoices), Decimal(0)) - sum(
        (_d(c["total"]) for c in notes), Decimal(0)
    )


def _states(engine, oid: str) -> list[tuple[str, str | None]]:
    return [(r.state, r.reason) for r in engine.failures(list(RecordState)) if r.external_id == oid]


def test_units_taken_below_what_shipments_invoiced_get_adjusting_credit_notes(tmp_path: Path):
    """2 units of a line ship in two parcels (one each, the second with the rest of the
    order), both invoiced and paid.  The cart edits the line to 1 unit: a credit note against
    the second invoice (units come off the latest first).  Then the cart removes the line: a
    credit note against the first, compared with what the first edit left."""
    with wired(tmp_path, "fulfilled") as (store, org, config, db):
        oid, order, line = _candidate(store)
        lid = line["order_product_id"]
        now = datetime.now(UTC).replace(microsecond=0)
        _ship(store, order, oid, "S1", [(lid, 1)], now - timedelta(minutes=20))
        _sync(config, db)
        rest = [(p["order_product_id"], int(p["quantity"]) - (1 if p is line else 0))
                for p in order["order_products"]]  # fmt: skip
        _ship(store, order, oid, "S2", rest, now - timedelta(minutes=15))
        engine = _sync(config, db)
        invoices, notes = _books(org, oid)
        assert len(invoices) == 2 and not notes, _states(engine, oid)
        assert all(_d(d["balance"]) == 0 for d in invoices)  # the one payment, across both
        first, second = invoices

        _cart_edit(order, line, quantity=1)
        _touch(order, now - timedelta(minutes=10))
        engine = _sync(config, db)
        invoices, notes = _books(org, oid)
        assert len(invoices) == 2 and len(notes) == 1, _states(engine, oid)
        assert notes[0]["invoice_id"] == second["invoice_id"]
        assert _net_booked(org, oid) == _d(order["total"]["total"])  # to the cent
        # The invoices are paid: the credit is the customer's (money owed back), not applied.
        assert _d(notes[0]["balance"]) == _d(notes[0]["total"])

        _cart_edit(order, line, quantity=0)  # the line removed
        _touch(order, now - timedelta(minutes=5))
        engine = _sync(config, db)
        invoices, notes = _books(org, oid)
        assert len(invoices) == 2 and len(notes) == 2, _states(engine, oid)
        later = next(c for c in notes if c["creditnote_id"] != notes[0]["creditnote_id"])
        assert {c["invoice_id"] for c in notes} == {first["invoice_id"], second["invoice_id"]}
        assert later["invoice_id"] == first["invoice_id"]
        assert _net_booked(org, oid) == _d(order["total"]["total"])
        before = (len(org.invoices), len(org.creditnotes), len(org.payments))
        _sync(config, db)  # nothing more
        assert (len(org.invoices), len(org.creditnotes), len(org.payments)) == before


@pytest.mark.parametrize("change", [Decimal("-20.00"), Decimal("15.50")], ids=["fell", "rose"])
def test_a_unit_price_changed_between_shipments_reprices_the_invoiced_units(
    tmp_path: Path, change: Decimal
):
    """One unit ships and is invoiced at the old price; the cart changes the line's price;
    the rest ships.  The invoiced unit is re-priced beside its invoice (a credit note applied
    to it when the price fell, a supplementary invoice when it rose), the second shipment
    bills the new price, and the one payment settles everything."""
    with wired(tmp_path, "fulfilled") as (store, org, config, db):
        oid, order, line = _candidate(store)
        lid = line["order_product_id"]
        now = datetime.now(UTC).replace(microsecond=0)
        _ship(store, order, oid, "S1", [(lid, 1)], now - timedelta(minutes=20))
        _sync(config, db)
        [first], _ = _books(org, oid)
        old = _d(line["price"])

        _cart_edit(order, line, price=old + change)
        _touch(order, now - timedelta(minutes=15))
        engine = _sync(config, db)
        invoices, notes = _books(org, oid)
        if change < 0:
            assert len(invoices) == 1 and len(notes) == 1, _states(engine, oid)
            [note] = notes
            assert note["invoice_id"] == first["invoice_id"]
            assert _d(note["sub_total"]) == -change  # one unit x the difference
            # The shipment is unpaid (the capture waits for the rest): the credit is applied.
            assert _d(org.invoices[first["invoice_id"]]["balance"]) == _d(first["total"]) - _d(
                note["total"]
            )
        else:
            assert len(invoices) == 2 and not notes, _states(engine, oid)
            extra = next(d for d in invoices if d["invoice_id"] != first["invoice_id"])
            assert extra["reference_number"] == f"{oid}-1-E1"
            assert _d(extra["sub_total"]) == change

        rest = [(p["order_product_id"], int(p["quantity"]) - (1 if p is line else 0))
                for p in order["order_products"]]  # fmt: skip
        _ship(store, order, oid, "S2", rest, now - timedelta(minutes=10))
        engine = _sync(config, db)
        invoices, notes = _books(org, oid)
        assert len(invoices) == (2 if change < 0 else 3), _states(engine, oid)
        assert _net_booked(org, oid) == _d(order["total"]["total"])  # to the cent
        shipped_later = max(
            (d for d in invoices if d["reference_number"] == f"{oid}-2"),
            key=lambda d: d["reference_number"],
        )
        [priced] = [li for li in shipped_later["line_items"] if li.get("rate") == old + change]
        assert _d(priced["quantity"]) == _d(line["quantity"]) - 1  # the new price, not a blend
        assert all(_d(org.invoices[d["invoice_id"]]["balance"]) == 0 for d in invoices)
        assert all(_d(org.creditnotes[c["creditnote_id"]]["balance"]) == 0 for c in notes)
        before = (len(org.invoices), len(org.creditnotes), len(org.payments))
        _sync(config, db)  # nothing more
        assert (len(org.invoices), len(org.creditnotes), len(org.payments)) == before


def test_shopify_edit_of_the_unshipped_units_after_a_shipment_needs_no_adjustment(tmp_path):
    """Shopify edits only unshipped units (orderEditSetQuantity cannot go below what was
    fulfilled), and never the price of a line already on the order: its edits change what
    later shipments invoice, so nothing posted needs adjusting.  Here the rest of a partly
    shipped line is removed by an edit: the line is now fully shipped, its invoice is the
    edited order to the cent, and no credit note is written."""
    from ledgerbridge_shopify.emulator.edits import remove_units

    from .harness import shopify_to_zoho
    from .shopify_scenarios import run, seeded, set_trigger, shipments, single_currency, touch
    from .shopify_scenarios import total as shopify_total
    from .test_edits_after_posting import EDITED

    with shopify_to_zoho(tmp_path, orders=30) as h:
        set_trigger(h, "fulfilled")
        n = next(
            n for n in single_currency(h, lines=1)
            if int(seeded(h, n)["lineItems"][0]["quantity"]) >= 2 and seeded(h, n)["transactions"]
        )  # fmt: skip
        rec = seeded(h, n)
        name, units = rec["name"], int(rec["lineItems"][0]["quantity"])
        ship = [1 if j == 0 else int(x["quantity"]) for j, x in enumerate(rec["lineItems"])]
        parts = shipments(rec, [ship])
        touch(h, n, fulfillments=parts)
        run(h)
        [invoice] = [d for d in h.documents() if str(d["reference_number"]).startswith(name)]
        edited = remove_units(rec, 0, units - 1)  # the unshipped units
        touch(h, n, fulfillments=parts, **{k: edited[k] for k in EDITED})
        _, engine = run(h)
        states = [(r.state, r.reason) for r in engine.failures(list(RecordState))
                  if r.external_id == rec["legacyResourceId"]]  # fmt: skip
        invoices = [d for d in h.documents() if str(d["reference_number"]).startswith(name)]
        assert [d["invoice_id"] for d in invoices] == [invoice["invoice_id"]], states
        assert not [c for c in h.org.creditnotes.values()
                    if c.get("invoice_id") == invoice["invoice_id"]]  # fmt: skip
        assert _d(invoice["total"]) == shopify_total(edited)  # the edited order, to the cent
        # Nothing more ships: the capture is recorded, the invoice paid, the rest unapplied.
        pays = [p for p in h.org.payments.values()
                if invoice["invoice_id"] in {a["invoice_id"] for a in p["invoices"]}]  # fmt: skip
        assert len(pays) == 1, states
        assert _d(h.org.invoices[invoice["invoice_id"]]["balance"]) == 0


@pytest.mark.parametrize(
    ("lost", "change"),
    [("creditnotes", "-20.00"), (r"creditnotes/\d+/invoices", "-20.00"), ("invoices", "15.50")],
    ids=["credit-note", "application", "supplementary-invoice"],
)
def test_an_adjusting_write_whose_answer_was_lost_is_not_written_twice(
    tmp_path: Path, lost: str, change: str
):
    """The price changes after the first shipment: Zoho commits the adjusting credit note
    (or its application to the open invoice, or the supplementary invoice) and the answer
    never arrives.  Read back and adopted: one document, applied once."""
    from ledgerbridge.sandbox import TrapInjector, WriteTrap

    holder: dict[str, TrapInjector] = {}

    def wrap(app):
        holder["traps"] = TrapInjector(app)
        return holder["traps"]

    with wired(tmp_path, "fulfilled", wrap_zoho=wrap) as (store, org, config, db):
        oid, order, line = _candidate(store)
        lid = line["order_product_id"]
        now = datetime.now(UTC).replace(microsecond=0)
        _ship(store, order, oid, "S1", [(lid, 1)], now - timedelta(minutes=20))
        _sync(config, db)
        [first], _ = _books(org, oid)
        trap = WriteTrap("POST", rf"/books/v3/{lost}", lose=True)
        holder["traps"].traps.append(trap)
        _cart_edit(order, line, price=_d(line["price"]) + Decimal(change))
        _touch(order, now - timedelta(minutes=15))
        engine = _sync(config, db)
        assert trap.fired, "no write matched the trap"
        invoices, notes = _books(org, oid)
        if Decimal(change) > 0:
            assert len(invoices) == 2 and not notes, _states(engine, oid)
            assert sorted(d["reference_number"] for d in invoices) == [f"{oid}-1", f"{oid}-1-E1"]
        else:
            assert len(invoices) == 1 and len(notes) == 1, _states(engine, oid)
            [note] = notes
            assert _d(note["balance"]) == 0  # applied to the open invoice, once
            assert _d(org.invoices[first["invoice_id"]]["balance"]) == _d(first["total"]) - _d(
                note["total"]
            )
        assert [s for s, _ in _states(engine, oid)] == [RecordState.SYNCED]
        before = (len(org.invoices), len(org.creditnotes))
        _sync(config, db)  # nothing more
        assert (len(org.invoices), len(org.creditnotes)) == before


def test_woocommerce_line_removed_after_completion_is_credited_against_its_invoice(tmp_path):
    """WooCommerce's one shipment is the completed order.  A line the admin removes after
    completion was invoiced with it: credited against that invoice, nothing rewritten."""
    import copy

    from .harness import woocommerce_to_zoho
    from .shopify_scenarios import run, set_trigger
    from .test_woocommerce_triggers import (
        EDITED,
        find,
        invoices_of,
        orders,
        state_of,
        touch,
        with_line_added,
    )

    with woocommerce_to_zoho(tmp_path, orders=12) as h:
        set_trigger(h, "fulfilled")
        oid = find(h, "processing")
        original = copy.deepcopy(orders(h)[oid])
        number = original["number"]
        more = with_line_added(original, Decimal("4.50"), 2)
        done = next(o["date_completed_gmt"] for o in orders(h).values() if o["date_completed_gmt"])
        touch(h, oid, status="completed", date_completed_gmt=done, date_completed=done,
              **{k: more[k] for k in EDITED})  # fmt: skip
        run(h)
        [invoice] = invoices_of(h, number)
        assert _d(invoice["total"]) == _d(more["total"])
        touch(h, oid, **{k: original[k] for k in EDITED})  # the added line removed
        _, engine = run(h)
        assert state_of(engine, oid).state == "synced", state_of(engine, oid).reason
        assert [d["invoice_id"] for d in invoices_of(h, number)] == [invoice["invoice_id"]]
        [note] = [c for c in h.org.creditnotes.values()
                  if c.get("invoice_id") == invoice["invoice_id"]]  # fmt: skip
        assert _d(invoice["total"]) - _d(note["total"]) == _d(original["total"])
        before = len(h.org.creditnotes)
        run(h)  # nothing more
        assert len(h.org.creditnotes) == before
