"""Posting triggers and edits after posting, WooCommerce emulator -> Zoho Books emulator.

WooCommerce tells less than Shopify (docs/engine.md, "Posting triggers"): one payment
(``date_paid_gmt``) and one shipment (status ``completed``, the whole order) per order, so
its tests are the paid trigger, the fulfilled trigger on completion, and edits after
posting.  Books read from the Zoho emulator."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from ledgerbridge.store import RecordState

from .harness import woocommerce_to_zoho
from .shopify_scenarios import run, set_trigger

pytestmark = pytest.mark.usefixtures("secret_key")


def orders(h):
    return h.source_app.emulator.store.orders


def touch(h, oid, **changes):
    """Change an order now; its ``date_modified`` (whole seconds) is the change marker, so an
    edit within the second of the last one waits for the next second."""
    import time
    from datetime import UTC, datetime

    last = orders(h)[oid]["date_modified_gmt"]
    while datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S") <= last:
        time.sleep(0.05)
    anyio.run(lambda: h.source_app.emulator.touch_order(oid, **changes))


def find(h, status, taxed=True):
    return next(
        oid for oid, o in orders(h).items()
        if o["status"] == status and not o["refunds"] and not o["coupon_lines"]
        and not o["fee_lines"] and not o["prices_include_tax"]
        and (bool(o["tax_lines"]) == taxed)
    )  # fmt: skip


def invoices_of(h, number):
    return [d for d in h.documents() if str(d["reference_number"]).startswith(str(number))]


def state_of(engine, oid):
    return next(r for r in engine.failures(list(RecordState)) if r.external_id == str(oid))


def with_line_added(order, price: Decimal, qty: int):
    """The order after the admin adds a taxed line (WooCommerce recalculates the line's
    ``total``/``total_tax`` and the order's ``total``, ``total_tax``, ``cart_tax`` and
    tax line -- docs/platforms/woocommerce.md §4 order fields)."""
    edited = copy.deepcopy(order)
    first = edited["line_items"][0]
    rate = Decimal(str(edited["tax_lines"][0]["rate_percent"])) / 100
    net = price * qty
    tax = (net * rate).quantize(Decimal("0.01"))
    line = {**copy.deepcopy(first), "id": first["id"] + 500, "name": "Added in an edit",
            "quantity": qty, "subtotal": str(net), "total": str(net), "subtotal_tax": str(tax),
            "total_tax": str(tax), "price": str(price), "sku": "EDIT-1",
            "taxes": [{**first["taxes"][0], "total": str(tax), "subtotal": str(tax)}]}  # fmt: skip
    edited["line_items"].append(line)
    for key in ("total", "total_tax", "cart_tax"):
        delta = net + tax if key == "total" else tax
        edited[key] = str(Decimal(edited[key]) + delta)
    edited["tax_lines"][0]["tax_total"] = str(Decimal(edited["tax_lines"][0]["tax_total"]) + tax)
    return edited


EDITED = ("line_items", "total", "total_tax", "cart_tax", "tax_lines")


def test_paid_trigger_waits_for_date_paid_then_posts(tmp_path: Path):
    with woocommerce_to_zoho(tmp_path, orders=12) as h:
        set_trigger(h, "paid")
        oid = find(h, "on-hold")
        number = orders(h)[oid]["number"]
        _, engine = run(h)
        waiting = state_of(engine, oid)
        assert waiting.state == "waiting" and "payment" in waiting.reason
        assert not invoices_of(h, number)
        paid = orders(h)[find(h, "processing")]["date_paid_gmt"]
        touch(h, oid, status="processing", date_paid_gmt=paid, date_paid=paid)
        _, engine = run(h)
        [invoice] = invoices_of(h, number)
        assert Decimal(str(invoice["total"])) == Decimal(orders(h)[oid]["total"])
        assert Decimal(str(invoice["balance"])) == 0


def test_fulfilled_trigger_posts_a_woocommerce_order_when_completed(tmp_path: Path):
    with woocommerce_to_zoho(tmp_path, orders=12) as h:
        set_trigger(h, "fulfilled")
        oid = find(h, "processing")
        number = orders(h)[oid]["number"]
        _, engine = run(h)
        assert "fulfilment" in state_of(engine, oid).reason
        assert not invoices_of(h, number)
        done = next(o["date_completed_gmt"] for o in orders(h).values() if o["date_completed_gmt"])
        touch(h, oid, status="completed", date_completed_gmt=done, date_completed=done)
        run(h)
        [invoice] = invoices_of(h, number)  # the whole order: WooCommerce ships it at once
        assert Decimal(str(invoice["total"])) == Decimal(orders(h)[oid]["total"])
        assert Decimal(str(invoice["balance"])) == 0


def test_edit_of_a_paid_woocommerce_order_posts_beside_the_invoice(tmp_path: Path):
    with woocommerce_to_zoho(tmp_path, orders=12) as h:
        oid = find(h, "processing")
        original = copy.deepcopy(orders(h)[oid])
        number = original["number"]
        run(h)
        [invoice] = invoices_of(h, number)
        more = with_line_added(original, Decimal("4.50"), 2)
        touch(h, oid, **{k: more[k] for k in EDITED})
        _, engine = run(h)
        assert state_of(engine, oid).state == "synced", state_of(engine, oid).reason
        docs = sorted(invoices_of(h, number), key=lambda d: d["reference_number"])
        assert len(docs) == 2 and docs[0]["invoice_id"] == invoice["invoice_id"]
        assert Decimal(str(docs[1]["total"])) == Decimal(more["total"]) - Decimal(original["total"])
        touch(h, oid, **{k: original[k] for k in EDITED})  # the line removed again
        _, engine = run(h)
        assert state_of(engine, oid).state == "synced", state_of(engine, oid).reason
        [note] = [c for c in h.org.creditnotes.values() if c["reference_number"] == str(number)]
        assert Decimal(str(note["total"])) == Decimal(more["total"]) - Decimal(original["total"])
        booked = sum(Decimal(str(d["total"])) for d in docs) - Decimal(str(note["total"]))
        assert booked == Decimal(original["total"])
