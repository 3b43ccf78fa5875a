"""Spot checks of the ``fulfilled`` trigger against the Zoho emulator's books: an order
with taxes in its prices and a discount shipped in three parts, and a run that dies
between the second shipment's invoice reaching Zoho and the store recording it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from .harness import shopify_to_zoho
from .shopify_scenarios import (
    run,
    seeded,
    set_trigger,
    shipments,
    single_currency,
    split_in_parts,
    touch,
)
from .shopify_scenarios import total as order_total
from .test_exactly_once import take_over_lease
from .test_units_of_work import Recorder

pytestmark = pytest.mark.usefixtures("secret_key")

INVOICES = "/books/v3/invoices"
PAYMENTS = "/books/v3/customerpayments"


def _units(record: dict[str, Any]) -> int:
    return sum(int(i["quantity"]) for i in record["lineItems"])


def _invoices(h: Any, name: str) -> list[dict[str, Any]]:
    return sorted(
        (d for d in h.documents() if str(d["reference_number"]).startswith(name + "-")),
        key=lambda d: d["reference_number"],
    )


def _payments_to(h: Any, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = {d["invoice_id"] for d in docs}
    return [p for p in h.org.payments.values() if {a["invoice_id"] for a in p["invoices"]} & ids]


def _books_add_up(h: Any, rec: dict[str, Any], parts: int) -> None:
    docs = _invoices(h, rec["name"])
    assert len(docs) == parts, [d["reference_number"] for d in docs]
    assert all(Decimal(str(d["total"])) >= 0 for d in docs), [d["total"] for d in docs]
    assert sum(Decimal(str(d["total"])) for d in docs) == order_total(rec)
    [pay] = _payments_to(h, docs)
    assert Decimal(str(pay["amount"])) == order_total(rec)
    assert sum(Decimal(str(a["amount_applied"])) for a in pay["invoices"]) == order_total(rec)
    assert all(Decimal(str(h.org.invoices[d["invoice_id"]]["balance"])) == 0 for d in docs)


def test_taxes_included_and_a_discount_shipped_in_three_parts_add_up(tmp_path: Path) -> None:
    with shopify_to_zoho(tmp_path, orders=40) as h:
        set_trigger(h, "fulfilled")
        found = [
            n for n in single_currency(h, lines=2)
            if seeded(h, n)["taxesIncluded"] and seeded(h, n)["discountApplications"]
            and _units(seeded(h, n)) >= 3
        ]  # fmt: skip
        assert found, "the seed has a taxes-included discounted order of 3+ units"
        rec = seeded(h, found[0])
        parts = shipments(rec, split_in_parts(rec, 3))
        for shipped in (1, 2, 3):
            touch(h, found[0], fulfillments=parts[:shipped])
            run(h)
            assert len(_invoices(h, rec["name"])) == shipped
        _books_add_up(h, rec, 3)


def test_a_crash_after_the_second_shipments_invoice_is_created_posts_it_once(
    tmp_path: Path,
) -> None:
    box: dict[str, Recorder] = {}

    def wrap(app: Any) -> Recorder:
        box["r"] = Recorder(app)
        return box["r"]

    with shopify_to_zoho(tmp_path, orders=30, wrap_zoho=wrap) as h:
        recorder = box["r"]
        set_trigger(h, "fulfilled")
        n = next(n for n in single_currency(h, lines=2) if _units(seeded(h, n)) >= 3)
        rec = seeded(h, n)
        parts = shipments(rec, split_in_parts(rec, 3))
        touch(h, n, fulfillments=parts[:1])
        run(h)  # everything else, and the first shipment
        assert len(_invoices(h, rec["name"])) == 1
        touch(h, n, fulfillments=parts)
        recorder.hold_after = ("/invoices", recorder.count("POST", INVOICES) + 1)
        engine = h.engine()

        async def crash() -> None:
            async def sync() -> None:
                async with engine:
                    await engine.sync()

            async with anyio.create_task_group() as tg:
                tg.start_soon(sync)
                await anyio.to_thread.run_sync(recorder.held.wait, 30)
                tg.cancel_scope.cancel()  # the worker dies before the store records it

        anyio.run(crash)
        recorder.release.set()
        recorder.hold_after = None
        # the second reached Zoho (the third too, when the dying run had sent it before the
        # cancellation reached it: what matters is below, after the takeover)
        assert len(_invoices(h, rec["name"])) in (2, 3)
        take_over_lease(h.store())
        run(h)
        run(h)
        _books_add_up(h, rec, 3)
        assert [d["reference_number"] for d in _invoices(h, rec["name"])] == [
            f"{rec['name']}-{i}" for i in (1, 2, 3)
        ]


def test_an_order_in_two_currencies_shipped_in_two_parts_adds_up_in_the_booked_one(
    tmp_path: Path,
) -> None:
    with shopify_to_zoho(tmp_path, orders=40) as h:
        set_trigger(h, "fulfilled")
        found = [
            n for n in range(40)
            if (o := seeded(h, n)) and o["currencyCode"] != o["presentmentCurrencyCode"]
            and not o["refunds"] and not o["cancelledAt"] and _units(o) >= 2
            and not any(i["isGiftCard"] for i in o["lineItems"]) and not o["test"]
        ]  # fmt: skip
        assert found, "the seed has an order in two currencies"
        rec = seeded(h, found[0])
        parts = shipments(rec, split_in_parts(rec, 2))
        touch(h, found[0], fulfillments=parts[:1])
        run(h)
        first = _invoices(h, rec["name"])
        assert len(first) == 1
        touch(h, found[0], fulfillments=parts)
        run(h)
        docs = _invoices(h, rec["name"])
        assert docs[0]["total"] == first[0]["total"]  # the posted share did not move
        _books_add_up(h, rec, 2)


def test_money_returned_for_units_that_never_shipped_is_booked_once_the_order_closes(
    tmp_path: Path,
) -> None:
    """Line 0 ships; line 1 is refunded without a restock (``NO_RESTOCK``, not ``CANCEL``)
    before it ships, and the order closes.  Line 1 was never invoiced, so nothing is
    credited for it -- but the money that went back must not stay booked as received."""
    from .shopify_scenarios import refund_of

    with shopify_to_zoho(tmp_path, orders=30) as h:
        set_trigger(h, "fulfilled")
        n = next(n for n in single_currency(h, lines=2) if not seeded(h, n)["taxesIncluded"])
        rec = seeded(h, n)
        lines = rec["lineItems"]
        only_first = [int(x["quantity"]) if j == 0 else 0 for j, x in enumerate(lines)]
        parts = shipments(rec, [only_first])
        sale = rec["transactions"][-1]["id"]
        back = refund_of(rec, 2, [(1, int(lines[1]["quantity"]), "NO_RESTOCK")], sale)
        touch(h, n, fulfillments=parts, refunds=[back], closedAt=rec["createdAt"],
              displayFinancialStatus="PARTIALLY_REFUNDED")  # fmt: skip
        run(h)
        [invoice] = _invoices(h, rec["name"])
        returned = Decimal(back["totalRefundedSet"]["shopMoney"]["amount"])
        kept = order_total(rec) - returned
        received = sum(Decimal(str(p["amount"])) for p in _payments_to(h, [invoice]))
        refunded = sum(
            Decimal(str(r.get("amount", 0)))
            for c in h.org.creditnotes.values() if c["reference_number"] == rec["name"]
            for r in c.get("refunds", [])
        )  # fmt: skip
        assert received - refunded == kept, (received, refunded, kept)


def test_a_refund_of_more_units_than_are_unshipped_credits_only_the_shipped_ones(
    tmp_path: Path,
) -> None:
    """One unit of a line ships; the whole line is refunded without a restock and the order
    closes.  The unshipped units were never invoiced: their money comes off the payment, and
    only the shipped unit is credited -- a credit note no larger than its invoice."""
    from .shopify_scenarios import refund_of

    with shopify_to_zoho(tmp_path, orders=30) as h:
        set_trigger(h, "fulfilled")
        n = next(
            n for n in single_currency(h)
            if not seeded(h, n)["taxesIncluded"] and int(seeded(h, n)["lineItems"][0]["quantity"]) >= 2
        )  # fmt: skip
        rec = seeded(h, n)
        lines = rec["lineItems"]
        first_unit = [1 if j == 0 else int(x["quantity"]) for j, x in enumerate(lines)]
        parts = shipments(rec, [first_unit])
        sale = rec["transactions"][-1]["id"]
        back = refund_of(rec, 2, [(0, int(lines[0]["quantity"]), "NO_RESTOCK")], sale)
        touch(h, n, fulfillments=parts, refunds=[back], closedAt=rec["createdAt"],
              displayFinancialStatus="PARTIALLY_REFUNDED")  # fmt: skip
        run(h)
        [invoice] = _invoices(h, rec["name"])
        notes = [c for c in h.org.creditnotes.values() if c["reference_number"] == rec["name"]]
        assert notes, "the shipped unit is credited"
        credited = sum(Decimal(str(c["total"])) for c in notes)
        assert credited <= Decimal(str(invoice["total"])), (credited, invoice["total"])
        returned = Decimal(back["totalRefundedSet"]["shopMoney"]["amount"])
        kept = order_total(rec) - returned
        received = sum(Decimal(str(p["amount"])) for p in _payments_to(h, [invoice]))
        refunded = sum(Decimal(str(r)) for c in notes for r in c["_refunds"])
        assert received - refunded == kept, (received, refunded, kept)
        assert Decimal(str(invoice["total"])) - credited == kept  # the books: what was kept


def test_a_return_of_units_from_two_shipments_credits_each_invoice_its_share(
    tmp_path: Path,
) -> None:
    """A line's units ship in two parts and all come back (restocked): each invoice gets a
    credit note for the units it shipped, none larger than its invoice, adding up to the
    refund to the cent."""
    from .shopify_scenarios import refund_of

    with shopify_to_zoho(tmp_path, orders=30) as h:
        set_trigger(h, "fulfilled")
        n = next(
            n for n in single_currency(h)
            if not seeded(h, n)["taxesIncluded"] and int(seeded(h, n)["lineItems"][0]["quantity"]) >= 2
        )  # fmt: skip
        rec = seeded(h, n)
        first = [1 if j == 0 else int(x["quantity"]) for j, x in enumerate(rec["lineItems"])]
        rest = [int(x["quantity"]) - 1 if j == 0 else 0 for j, x in enumerate(rec["lineItems"])]
        parts = shipments(rec, [first, rest])
        sale = rec["transactions"][-1]["id"]
        units = int(rec["lineItems"][0]["quantity"])
        back = refund_of(rec, 2, [(0, units, "RETURN")], sale)
        touch(h, n, fulfillments=parts, refunds=[back], closedAt=rec["createdAt"],
              displayFinancialStatus="PARTIALLY_REFUNDED")  # fmt: skip
        run(h)
        docs = _invoices(h, rec["name"])
        assert len(docs) == 2
        notes = [c for c in h.org.creditnotes.values() if c["reference_number"] == rec["name"]]
        against = {c.get("invoice_id") for c in notes}
        assert against == {d["invoice_id"] for d in docs}, (against, len(notes))
        for c in notes:
            invoice = h.org.invoices[c["invoice_id"]]
            assert Decimal(str(c["total"])) <= Decimal(str(invoice["total"]))
        returned = Decimal(back["totalRefundedSet"]["shopMoney"]["amount"])
        assert sum(Decimal(str(c["total"])) for c in notes) == returned
        assert sum(Decimal(str(r)) for c in notes for r in c["_refunds"]) == returned
