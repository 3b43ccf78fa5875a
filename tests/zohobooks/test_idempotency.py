"""No duplicate documents: lost responses, repeated writes, upsert by unique custom field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import anyio

from ledgerbridge.plan import (
    BusinessKey,
    ContactDraft,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    Link,
    PaymentDraft,
)
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG

from .helpers import FastClock, make_target


def invoice_draft(contact_id: str, reference: str = "#7001", **kw) -> DocumentDraft:
    return DocumentDraft(
        kind=kw.pop("kind", DocumentKind.INVOICE),
        key=BusinessKey(reference=reference, source_key=f"shop:s1:{reference.strip('#')}"),
        contact=Link(key="contact:x", target_id=contact_id),
        date=date(2026, 1, 5),
        currency="USD",
        lines=(DocumentLine(description="Gift wrap", quantity=Decimal(1), rate=Decimal("7.50")),),
        **kw,
    )


def contact_id(zoho) -> str:
    return next(iter(zoho.state.organizations[MAIN_ORG].contacts))


def run(zoho, fn, **kw):
    async def main():
        target = make_target(zoho.url, zoho.state, clock=FastClock(), **kw)
        try:
            return await fn(target)
        finally:
            await target.aclose()

    return anyio.run(main)


def invoices_for(zoho, reference: str) -> list[dict]:
    org = zoho.state.organizations[MAIN_ORG]
    return [i for i in org.invoices.values() if i["reference_number"] == reference]


def test_lost_create_response_is_found_not_duplicated(zoho):
    zoho.faults.lose_next_responses = 1  # the POST commits, its response never arrives
    ref = run(zoho, lambda t: t.create_document(invoice_draft(contact_id(zoho))))
    (invoice,) = invoices_for(zoho, "#7001")
    assert ref.target_id == invoice["invoice_id"]
    posts = [ex for ex in zoho.exchanges if ex.method == "POST" and ex.path == "/invoices"]
    assert len(posts) == 1  # never retried blindly


def test_writing_the_same_invoice_twice_adopts_the_first(zoho):
    draft = invoice_draft(contact_id(zoho))

    async def twice(target):
        return await target.create_document(draft), await target.create_document(draft)

    first, second = run(zoho, twice)
    assert first.target_id == second.target_id and len(invoices_for(zoho, "#7001")) == 1


def test_reference_search_needs_an_exact_match(zoho):
    # "#70011" contains "#7001": the emulator's search matches loosely, the connector must not.
    async def both(target):
        a = await target.create_document(invoice_draft(contact_id(zoho), "#70011"))
        b = await target.create_document(invoice_draft(contact_id(zoho), "#7001"))
        found = await target.find_document(DocumentKind.INVOICE, invoice_draft("x", "#7001").key)
        return a, b, found

    a, b, found = run(zoho, both)
    assert a.target_id != b.target_id and found is not None and found.ref.target_id == b.target_id
    assert found.total == Decimal("7.50")


def test_upsert_by_unique_custom_field_is_idempotent_at_zoho(zoho):
    draft = invoice_draft(contact_id(zoho))
    zoho.faults.lose_next_responses = 1

    async def write(target):
        # The upsert is safe to repeat, so the client itself retries the lost response.
        return await target.create_document(draft), await target.create_document(draft)

    first, second = run(zoho, write, key_field_unique=True)
    (invoice,) = invoices_for(zoho, "#7001")
    assert first.target_id == second.target_id == invoice["invoice_id"]
    upserts = [ex for ex in zoho.exchanges if ex.method == "PUT" and ex.path == "/invoices"]
    assert (
        zoho.faults.lose_next_responses == 0
        and len(upserts) >= 2
        and upserts[0].headers["x-unique-identifier-key"] == "cf_ledgerbridge_key"
    )
    assert upserts[0].headers["x-upsert"] == "true"


def test_sales_receipt_number_prevents_a_second_receipt(zoho):
    draft = invoice_draft(
        contact_id(zoho), "#7100", kind=DocumentKind.SALES_RECEIPT, payment_mode="cash"
    )
    zoho.faults.lose_next_responses = 1

    async def write(target):
        return await target.create_document(draft), await target.create_document(draft)

    first, second = run(zoho, write)
    receipts = list(zoho.state.organizations[MAIN_ORG].salesreceipts.values())
    assert (
        len(receipts) == 1
        and first.target_id == second.target_id == receipts[0]["sales_receipt_id"]
    )


def test_payment_lost_response_and_advance(zoho):
    cid = contact_id(zoho)

    async def write(target):
        invoice = await target.create_document(invoice_draft(cid))
        zoho.faults.lose_next_responses = 1
        paid = await target.record_payment(
            PaymentDraft(
                key=BusinessKey(reference="#7001-P", source_key="shop:s1:7001:pay"),
                contact=Link(key="c", target_id=cid),
                amount=Decimal("7.50"),
                currency="USD",
                date=date(2026, 1, 5),
                applied_to=((Link(key="i", target_id=invoice.target_id), Decimal("7.50")),),
            )
        )
        advance = await target.record_payment(
            PaymentDraft(
                key=BusinessKey(reference="#7002-P", source_key="shop:s1:7002:pay"),
                contact=Link(key="c", target_id=cid),
                amount=Decimal("20.00"),
                currency="USD",
                date=date(2026, 1, 6),
            )
        )
        return invoice, paid, advance

    invoice, paid, advance = run(zoho, write)
    org = zoho.state.organizations[MAIN_ORG]
    assert len(org.payments) == 2
    assert org.invoices[invoice.target_id]["status"] == "paid"
    assert org.payments[paid.target_id]["invoices"][0]["invoice_id"] == invoice.target_id
    assert org.payments[advance.target_id]["unused_amount"] == Decimal("20.00")  # customer credit


def test_void_update_and_contact_lifecycle(zoho):
    async def flow(target):
        contact_link = Link(key="contact:shop:ada2")
        ref = await target.create_contact(
            ContactDraft(
                link=contact_link, display_name="Ada Two", email="ADA2@example.com", currency="EUR"
            )
        )
        found = await target.find_contact(email="ada2@example.com")
        updated = await target.update_contact(
            ref, ContactDraft(link=contact_link, display_name="Ada II")
        )
        cid = contact_id(zoho)
        invoice = await target.create_document(invoice_draft(cid))
        changed = await target.update_document(
            invoice,
            invoice_draft(cid, adjustment=Decimal("-0.01"), adjustment_description="Rounding"),
        )
        await target.void_document(invoice)
        gone = await target.find_document(DocumentKind.INVOICE, invoice_draft(cid).key)
        return ref, found, updated, changed, gone

    ref, found, updated, changed, gone = run(zoho, flow)
    org = zoho.state.organizations[MAIN_ORG]
    assert found == ref == updated and org.contacts[ref.target_id]["contact_name"] == "Ada II"
    assert org.contacts[ref.target_id]["currency_code"] == "EUR"
    assert org.invoices[changed.target_id]["total"] == Decimal("7.49")
    assert org.invoices[changed.target_id]["status"] == "void" and gone is None
