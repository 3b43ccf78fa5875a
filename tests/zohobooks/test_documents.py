"""Document variants end to end: tax-inclusive, order-level discount, foreign currency,
credit applied to an open invoice, and the engine-facing lookups (totals, find_payment)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import anyio
import pytest

from ledgerbridge.errors import NeedsMapping
from ledgerbridge.plan import (
    BusinessKey,
    ContactDraft,
    CreditApplication,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    Link,
    PaymentDraft,
)
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG

from .helpers import make_target, tax_ids_by_rate


def run(zoho, fn, **kw):
    async def main():
        target = make_target(zoho.url, zoho.state, **kw)
        try:
            return await fn(target)
        finally:
            await target.aclose()

    return anyio.run(main)


def org(zoho):
    return zoho.state.organizations[MAIN_ORG]


def draft(contact_id: str, reference: str, lines, **kw) -> DocumentDraft:
    return DocumentDraft(
        kind=kw.pop("kind", DocumentKind.INVOICE),
        key=BusinessKey(reference=reference, source_key=f"shop:s1:{reference}"),
        contact=Link(key="c", target_id=contact_id),
        date=date(2026, 2, 1),
        currency=kw.pop("currency", "USD"),
        lines=tuple(lines),
        **kw,
    )


def test_tax_inclusive_order_with_order_level_discount_totals_to_the_cent(zoho):
    # Lines include tax: 2 x 11.00 (VAT 10) + 1 x 21.00 (5%) = 43.00, minus a 3.00 order discount,
    # plus 5.50 shipping (incl. VAT) = 45.50 -- what the buyer paid.
    async def write(target):
        taxes = await tax_ids_by_rate(target)
        cid = next(iter(org(zoho).contacts))
        lines = [
            DocumentLine(
                description="Tea",
                quantity=Decimal(2),
                rate=Decimal("11.00"),
                tax_id=taxes[Decimal(10)],
            ),
            DocumentLine(
                description="Pot",
                quantity=Decimal(1),
                rate=Decimal("21.00"),
                tax_id=taxes[Decimal(5)],
            ),
        ]
        return await target.create_document(
            draft(cid, "#8001", lines, taxes_included=True, discount=Decimal("3.00"),
                  shipping_charge=Decimal("5.50"), shipping_tax_id=taxes[Decimal(10)])
        )  # fmt: skip

    ref = run(zoho, write)
    invoice = org(zoho).invoices[ref.target_id]
    assert invoice["is_inclusive_tax"] is True
    assert ref.total == invoice["total"] == Decimal("45.50")  # the engine can settle rounding
    # The taxed shipping charge is a taxed line (no request schema declares
    # shipping_charge_tax_id), so the order discount is folded into the product lines.
    assert invoice["discount_type"] == "item_level" and invoice["discount_total"] == 0
    assert sum(line["discount"] for line in invoice["line_items"]) == Decimal("3.00")
    assert [line["discount"] for line in invoice["line_items"] if line["name"] == "Shipping"] == [0]


def test_foreign_currency_needs_an_exchange_rate_and_a_contact_in_that_currency(zoho):
    async def write(target):
        link = Link(key="contact:shop:eur")
        contact = await target.create_contact(
            ContactDraft(link=link, display_name="Euro Buyer", currency="EUR")
        )
        lines = [DocumentLine(description="Lamp", quantity=Decimal(1), rate=Decimal("80.00"))]
        with pytest.raises(NeedsMapping, match="lookups.currencies.exchange_rates.EUR") as no_rate:
            await target.create_document(draft(contact.target_id, "#8002", lines, currency="EUR"))
        assert no_rate.value.missing == "exchange_rate:EUR"
        ref = await target.create_document(
            draft(
                contact.target_id, "#8002", lines, currency="EUR", exchange_rate=Decimal("1.0825")
            )
        )
        with pytest.raises(NeedsMapping) as missing:
            await target.create_contact(
                ContactDraft(link=Link(key="x"), display_name="Yen", currency="JPY")
            )
        return ref, missing.value

    ref, missing = run(zoho, write)
    invoice = org(zoho).invoices[ref.target_id]
    assert invoice["currency_code"] == "EUR" and invoice["exchange_rate"] == Decimal("1.0825")
    assert invoice["bcy_total"] == Decimal("86.60")
    assert missing.missing == "currency:JPY"


def test_credit_note_applied_to_an_open_invoice_then_refund_remainder(zoho):
    async def flow(target):
        cid = next(iter(org(zoho).contacts))
        line = DocumentLine(description="Chair", quantity=Decimal(1), rate=Decimal("60.00"))
        invoice = await target.create_document(draft(cid, "#8003", [line]))
        note = await target.create_document(
            draft(cid, "#8003-R1", [line.model_copy(update={"rate": Decimal("25.00")})],
                  kind=DocumentKind.CREDIT_NOTE, against=Link(key="i", target_id=invoice.target_id))
        )  # fmt: skip
        await target.apply_credit(
            CreditApplication(credit_note=Link(key="n", target_id=note.target_id),
                              document=Link(key="i", target_id=invoice.target_id), amount=Decimal("20.00"))
        )  # fmt: skip
        with pytest.raises(NeedsMapping):
            await target.refund_credit(
                CreditRefundDraft(credit_note=Link(key="n", target_id=note.target_id), amount=Decimal("5"),
                                  date=date(2026, 2, 2))
            )  # fmt: skip
        bank = next(iter(org(zoho).bank_accounts))
        await target.refund_credit(
            CreditRefundDraft(credit_note=Link(key="n", target_id=note.target_id), amount=Decimal("5.00"),
                              date=date(2026, 2, 2), from_account_id=bank)
        )  # fmt: skip
        return invoice, note, await target.get_document(invoice), await target.get_document(note)

    invoice, note, invoice_doc, note_doc = run(zoho, flow)
    assert (
        invoice_doc.ref.target_id == invoice.target_id and note_doc.ref.target_id == note.target_id
    )
    assert invoice_doc.balance == Decimal("40.00") and invoice_doc.status == "partially_paid"
    assert note_doc.balance == 0 and note_doc.status == "closed"


def test_find_payment_by_business_key_for_the_engine(zoho):
    key = BusinessKey(reference="#8004-P", source_key="shop:s1:8004:pay")

    async def flow(target):
        cid = next(iter(org(zoho).contacts))
        before = await target.find_payment(key)
        ref = await target.record_payment(
            PaymentDraft(key=key, contact=Link(key="c", target_id=cid), amount=Decimal("10.00"),
                         currency="USD", date=date(2026, 2, 1), reference="ch_3PqA")
        )  # fmt: skip
        other = await target.find_payment(BusinessKey(reference="#8004-P", source_key="other"))
        return before, ref, await target.find_payment(key), other

    before, ref, found, other = run(zoho, flow)
    assert before is None and other is None
    assert found == ref.model_copy(update={"total": Decimal("10.00")})  # with the amount held
    payment = org(zoho).payments[ref.target_id]
    assert payment["reference_number"] == "#8004-P"


def test_contact_found_by_key_custom_field_before_email(zoho):
    async def flow(target):
        link = Link(key="contact:shop:s1:42")
        ref = await target.create_contact(
            ContactDraft(link=link, display_name="Key Holder", email="shared@example.com")
        )
        return ref, await target.find_contact(key=link.key, email="nobody@example.com")

    ref, found = run(zoho, flow, contact_key_field="cf_ledgerbridge_key")
    assert found == ref
    assert (
        org(zoho).contacts[ref.target_id]["custom_field_hash"]["cf_ledgerbridge_key"]
        == "contact:shop:s1:42"
    )
