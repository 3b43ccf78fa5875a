"""The issue's "done when", against the emulator over real HTTP (loopback sockets)."""

from __future__ import annotations

import time
from decimal import Decimal

import anyio
import pytest

from ledgerbridge.canonical import Order
from ledgerbridge.contracts.context import MemoryCredentials
from ledgerbridge.errors import PermissionDenied
from ledgerbridge.plan import DocumentKind, LookupKind
from ledgerbridge_zohobooks.emulator.seed import FOREIGN_ORG, MAIN_ORG

from ..canonical_factory import m
from .helpers import FastClock, make_target, write_order


def order_with_everything(external_id: str = "5001") -> Order:
    """A discount, shipping, two tax rates, a payment and a partial refund with money back.

    2 x 50.00 - 10.00 (VAT 10% -> 9.00) + 1 x 40.00 (5% -> 2.00) + shipping 10.00 (10% -> 1.00)
    = 152.00; refund of the 40.00 line with its 2.00 tax = 42.00.
    """
    data = {
        "source": {"platform": "shop", "store": "s1", "external_id": external_id, "version": "1"},
        "number": f"#{external_id}",
        "currency": "USD",
        "created_at": "2026-01-05T10:00:00+00:00",
        "email": "buyer@example.com",
        "lines": [
            {"line_id": "L1", "title": "Boots", "sku": "BOOT-1", "quantity": 2,
             "unit_price": m("50.00"), "discount": m("10.00"),
             "taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m("9.00")}]},
            {"line_id": "L2", "title": "Book", "sku": "BOOK-1", "quantity": 1,
             "unit_price": m("40.00"),
             "taxes": [{"title": "Reduced 5%", "rate": "0.05", "amount": m("2.00")}]},
        ],
        "discounts": [{"amount": m("10.00"), "code": "TEN", "allocated": True}],
        "shipping_lines": [{"title": "Courier", "price": m("10.00"),
                            "taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m("1.00")}]}],
        "totals": {"total": m("152.00")},
        "payments": [{"external_id": "T1", "kind": "sale", "status": "success",
                      "amount": m("152.00"), "gateway": "stripe"}],
        "refunds": [{
            "source": {"platform": "shop", "store": "s1", "external_id": f"R{external_id}"},
            "lines": [{"line_id": "L2", "quantity": 1, "subtotal": m("40.00"), "title": "Book",
                       "taxes": [{"title": "Reduced 5%", "rate": "0.05", "amount": m("2.00")}]}],
            "transactions": [{"external_id": "T2", "kind": "refund", "status": "success",
                              "amount": m("42.00")}],
        }],
    }  # fmt: skip
    return Order.model_validate(data)


def test_order_becomes_invoice_payment_and_credit_note_to_the_cent(zoho):
    order = order_with_everything()
    assert order.rounding_adjustment is None

    async def main():
        target = make_target(zoho.url, zoho.state)
        try:
            return await write_order(target, order)
        finally:
            await target.aclose()

    written = anyio.run(main)
    org = zoho.state.organizations[MAIN_ORG]
    invoice = org.invoices[written.document.target_id]
    assert invoice["total"] == order.totals.total.amount == Decimal("152.00")
    assert invoice["tax_total"] == Decimal("12.00")
    assert invoice["reference_number"] == "#5001"
    assert invoice["custom_field_hash"]["cf_ledgerbridge_key"] == order.source.key
    assert invoice["status"] == "paid" and invoice["balance"] == 0
    assert len(org.payments) == 1
    payment = org.payments[written.payment]
    assert payment["amount"] == Decimal("152.00") and payment["unused_amount"] == 0
    (note_ref,) = written.credit_notes
    note = org.creditnotes[note_ref.target_id]
    assert note["total"] == order.refunds[0].credit_total.amount == Decimal("42.00")
    assert note["invoice_id"] == invoice["invoice_id"]
    assert note["balance"] == 0 and note["status"] == "closed"  # refunded: money went back
    assert len(written.refunds) == 1
    # Lines are linked to items created by SKU, with their tax ids; the taxed shipping
    # charge is a description-only taxed line (no schema declares shipping_charge_tax_id).
    products = [line for line in invoice["line_items"] if line["name"] != "Shipping"]
    assert {line["item_id"] for line in products} == set(written.items)
    [shipping] = [line for line in invoice["line_items"] if line["name"] == "Shipping"]
    assert shipping["item_id"] == "" and shipping["tax_id"]


def test_the_same_order_as_a_sales_receipt(zoho):
    order = order_with_everything("5002")

    async def main():
        target = make_target(zoho.url, zoho.state)
        try:
            return await write_order(target, order, kind=DocumentKind.SALES_RECEIPT)
        finally:
            await target.aclose()

    written = anyio.run(main)
    org = zoho.state.organizations[MAIN_ORG]
    receipt = org.salesreceipts[written.document.target_id]
    assert receipt["total"] == order.totals.total.amount
    assert (
        receipt["receipt_number"] == "#5002" and receipt["payment_mode"] == "credit_card"
    )  # the receipt spelling
    assert written.payment is None and not org.payments  # a receipt is sale and payment at once
    note = org.creditnotes[written.credit_notes[0].target_id]
    assert note["total"] == Decimal("42.00") and note["balance"] == 0


def test_refresh_storm_makes_exactly_one_token_request(zoho):
    """50 concurrent calls find an expired token: one refresh, shared by all."""
    credentials = MemoryCredentials(
        {"access_token": "1000.old.access", "access_token_expires_at": str(time.time() - 5)}
    )

    async def main():
        target = make_target(zoho.url, zoho.state, credentials=credentials)
        try:
            results = []

            async def one():
                results.append(await target.lookups(LookupKind.TAXES))

            async with anyio.create_task_group() as tg:
                for _ in range(50):
                    tg.start_soon(one)
            return results
        finally:
            await target.aclose()

    results = anyio.run(main)
    assert len(results) == 50 and all(len(r) == 4 for r in results)
    assert zoho.state.refresh_requests == 1
    assert credentials.values["access_token"] != "1000.old.access"  # saved for other workers
    assert zoho.emulator.api_calls == 50  # nobody sent the dead token


def test_tokens_zoho_expired_early_are_refreshed_once_and_calls_retried(zoho):
    """Zoho rejects a token we still thought valid (401 code 57): one refresh, then retry."""

    async def main():
        target = make_target(zoho.url, zoho.state)
        try:
            await target.lookups(LookupKind.CURRENCIES)
            zoho.state.expire_access_tokens()
            before = zoho.state.refresh_requests
            async with anyio.create_task_group() as tg:
                for _ in range(20):
                    tg.start_soon(target.lookups, LookupKind.TAXES)
            return before
        finally:
            await target.aclose()

    before = anyio.run(main)
    assert zoho.state.refresh_requests - before == 1
    rejected = [ex for ex in zoho.exchanges if ex.status == 401]
    assert rejected and all(ex.response["code"] == 57 for ex in rejected)


def test_a_429_code_44_burst_slows_the_connector_without_failing(zoho):
    clock = FastClock()

    async def main():
        target = make_target(zoho.url, zoho.state, clock=clock)
        try:
            zoho.emulator.limits.burst_44 = 3
            taxes = await target.lookups(LookupKind.TAXES)
            return taxes, list(target.client.waits)
        finally:
            await target.aclose()

    taxes, waits = anyio.run(main)
    assert len(taxes) == 4
    assert [name for name, _ in waits] == ["RateLimited"] * 3
    assert all(seconds >= 60 for _, seconds in waits)  # Zoho blocks for at least a minute
    assert sum(clock.sleeps) >= 180
    assert zoho.emulator.limits.burst_44 == 0


def test_an_organisation_the_token_cannot_reach_refuses_to_start(zoho):
    async def main():
        target = make_target(zoho.url, zoho.state, organization_id=FOREIGN_ORG)
        try:
            await target.identity()
        finally:
            await target.aclose()

    with pytest.raises(PermissionDenied) as caught:
        anyio.run(main)
    message = str(caught.value)
    assert FOREIGN_ORG in message and MAIN_ORG in message and "20234695" in message
    assert caught.value.needs_operator
    assert zoho.state.organizations[FOREIGN_ORG].invoices == {}


def test_identity_reports_the_org_and_what_the_token_reaches(zoho):
    async def main():
        target = make_target(zoho.url, zoho.state)
        try:
            return await target.identity()
        finally:
            await target.aclose()

    identity = anyio.run(main)
    assert identity.organization_id == MAIN_ORG and identity.base_currency == "USD"
    assert set(identity.reachable) == {MAIN_ORG, "20234695"}
