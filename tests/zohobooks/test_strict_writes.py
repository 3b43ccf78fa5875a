"""Writes within the request schemas: taxed shipping, sales receipts, custom fields by id.

* ``shipping_charge_tax_id`` is in no request schema: a taxed shipping charge is written
  as a taxed line (an order discount then folded into the product lines); an untaxed one
  stays ``shipping_charge``.
* ``sales-receipt.yml`` declares item lines of ``{item_id, rate, quantity, tax_id}`` and
  nothing else: discounts folded into rates, shipping and adjustments as lines on the
  connector's service items, tax-inclusive prices written net -- to the cent.
* custom fields are addressed as each module's schema declares (``customfield_id`` on
  invoices, ``label`` on payments and contacts), never by ``api_name``, the ids read once
  from the organisation's custom-field settings.

Totals and tax per rate are read back from the emulator's books.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import anyio
import pytest

from ledgerbridge.errors import NeedsMapping, ValidationFailed
from ledgerbridge.plan import (
    BusinessKey,
    ContactDraft,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    Link,
    PaymentDraft,
)
from ledgerbridge_zohobooks.emulator import rules
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG
from ledgerbridge_zohobooks.emulator.state import CustomField, ZohoError

from .helpers import make_target, tax_ids_by_rate
from .test_discount_scope import _mapping, _order

# (name, order) -- stated taxes are what the storefront computed; shipping taxed at 10 %.
SHIPPED = [
    ("taxed shipping", _order("S1", [("2", "10.00", None, "0.10", "2.00")],
                              shipping=("5.00", "0.50"), total="27.50")),
    ("taxed shipping, order discount", _order(
        "S2", [("2", "10.00", None, "0.10", "1.80"), ("1", "30.00", None, "0.05", "1.35")],
        order_discount="5.00", shipping=("5.00", "0.50"), total="53.65")),
    ("taxed shipping, taxes included", _order(
        "S3", [("1", "22.00", None, "0.10", "2.00")], shipping=("5.50", "0.50"),
        total="27.50", included=True)),
    ("taxed shipping, line discount, taxes included", _order(
        "S4", [("2", "11.00", "2.20", "0.10", "1.80"), ("1", "31.50", None, "0.05", "1.50")],
        shipping=("5.50", "0.50"), total="56.80", included=True)),
]  # fmt: skip


def _stated(order: Any) -> dict[str, Decimal]:
    stated: dict[str, Decimal] = {}
    for line in (*order.lines, *order.shipping_lines):
        for tax in line.taxes:
            name = "VAT 10" if tax.rate == Decimal("0.10") else "Reduced 5"
            stated[name] = stated.get(name, Decimal(0)) + tax.amount.amount
    return stated


def _post(zoho: Any, tmp_path: Any, order: Any, kind: DocumentKind) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        target = make_target(zoho.url, zoho.state)
        try:
            runtime = _mapping(tmp_path, await tax_ids_by_rate(target), "charge")
            contact = await target.create_contact(runtime.contact(order, []))
            # The receipt is the invoice's draft as a receipt (the planner's sales_receipt
            # policy gives the same document, paid; the payment-mode lookup is not tested here).
            draft = runtime.document(order, DocumentKind.INVOICE, [])
            draft = draft.model_copy(
                update={
                    "contact": draft.contact.resolved(contact.target_id),
                    "kind": kind,
                    "payment_mode": "cash" if kind is DocumentKind.SALES_RECEIPT else None,
                }
            )
            ref = await target.create_document(draft)
            if ref.total != order.totals.total.amount:  # what the engine's rounding does
                gap = order.totals.total.amount - (ref.total or Decimal(0))
                assert abs(gap) <= Decimal("0.10"), gap
                ref = await target.update_document(
                    ref, draft.model_copy(update={"adjustment": gap})
                )
            org = zoho.state.organizations[MAIN_ORG]
            table = org.invoices if kind is DocumentKind.INVOICE else org.salesreceipts
            return table[ref.target_id]
        finally:
            await target.aclose()

    return anyio.run(main)


def _sent(zoho: Any, path: str) -> list[dict[str, Any]]:
    return [ex.body for ex in zoho.exchanges if ex.method in ("POST", "PUT") and ex.path == path]


@pytest.mark.parametrize("order", [c[1] for c in SHIPPED], ids=[c[0] for c in SHIPPED])
def test_a_taxed_shipping_charge_is_a_taxed_line_and_books_to_the_cent(zoho, tmp_path, order):
    books = _post(zoho, tmp_path, order, DocumentKind.INVOICE)
    assert books["total"] == order.totals.total.amount
    assert {t["tax_name"]: t["tax_amount"] for t in books["taxes"]} == _stated(order)
    [body] = _sent(zoho, "/invoices")
    assert "shipping_charge_tax_id" not in body and "shipping_charge" not in body
    [shipping] = [line for line in body["line_items"] if line.get("name") == "Shipping"]
    assert shipping["tax_id"] and "discount" not in shipping  # never taxed on less
    assert body.get("discount_type") != "entity_level"


def test_untaxed_shipping_stays_a_shipping_charge(zoho, tmp_path):
    order = _order("S5", [("2", "10.00", None, "0.10", "2.00")], shipping=("5.00", "0.00"),
                   total="27.00")  # fmt: skip

    async def main() -> dict[str, Any]:
        target = make_target(zoho.url, zoho.state)
        try:
            runtime = _mapping(tmp_path, await tax_ids_by_rate(target), "charge")
            contact = await target.create_contact(runtime.contact(order, []))
            draft = runtime.document(order, DocumentKind.INVOICE, [])
            draft = draft.model_copy(
                update={
                    "contact": draft.contact.resolved(contact.target_id),
                    "shipping_tax_id": None,  # a shipping line with no tax
                }
            )
            ref = await target.create_document(draft)
            return zoho.state.organizations[MAIN_ORG].invoices[ref.target_id]
        finally:
            await target.aclose()

    books = anyio.run(main)
    assert books["total"] == Decimal("27.00") and books["shipping_charge"] == Decimal("5.00")
    [body] = _sent(zoho, "/invoices")
    assert body["shipping_charge"] == "5.00" and len(body["line_items"]) == 1


def test_the_emulator_refuses_shipping_charge_tax_id(zoho):
    async def main(target: Any) -> str:
        contact = await target.create_contact(
            ContactDraft(link=Link(key="c"), display_name="Ann", currency="USD")
        )
        taxes = await tax_ids_by_rate(target)
        body = {"customer_id": contact.target_id, "shipping_charge": "5.00",
                "shipping_charge_tax_id": taxes[Decimal("10")],
                "line_items": [{"name": "A", "description": "A", "rate": 10, "quantity": 1}]}  # fmt: skip
        with pytest.raises(ValidationFailed) as caught:
            await target.client.call("POST", "/invoices", body=body)
        return str(caught.value)

    before = len(zoho.state.organizations[MAIN_ORG].invoices)
    assert "shipping_charge_tax_id" in _call(zoho, main)
    assert len(zoho.state.organizations[MAIN_ORG].invoices) == before


# ------------------------------------------------------------------ sales receipts

RECEIPTS = [
    *SHIPPED,
    ("line discounts", _order(
        "R1", [("3", "10.00", "1.00", "0.10", "2.90"), ("1", "30.00", "3.00", "0.05", "1.35")],
        total="60.25")),
    ("order discount only", _order(
        "R2", [("2", "10.00", None, "0.10", "1.80"), ("1", "30.00", None, "0.05", "1.35")],
        order_discount="5.00", total="48.15")),
]  # fmt: skip


@pytest.mark.parametrize("order", [c[1] for c in RECEIPTS], ids=[c[0] for c in RECEIPTS])
def test_a_sales_receipt_carries_only_its_schema_and_books_to_the_cent(zoho, tmp_path, order):
    books = _post(zoho, tmp_path, order, DocumentKind.SALES_RECEIPT)
    assert books["total"] == order.totals.total.amount
    taxes = {t["tax_name"]: t["tax_amount"] for t in books["taxes"]}
    if not order.taxes_included:
        assert taxes == _stated(order)
    else:  # net prices recomputed by Zoho: within a cent per rate, the total exact
        for name, amount in _stated(order).items():
            assert abs(taxes[name] - amount) <= Decimal("0.01"), (name, taxes, amount)
    for body in _sent(zoho, "/salesreceipts") + [
        ex.body for ex in zoho.exchanges if ex.method == "PUT" and "/salesreceipts/" in ex.path
    ]:
        assert set(body) <= {"customer_id", "receipt_number", "date", "payment_mode",
                             "line_items", "notes"}  # fmt: skip
        for line in body["line_items"]:
            assert line["item_id"] and set(line) <= {"item_id", "rate", "quantity", "tax_id"}


def test_receipt_service_items_are_made_once(zoho, tmp_path):
    for order in (RECEIPTS[0][1], RECEIPTS[1][1]):
        _post(zoho, tmp_path, order, DocumentKind.SALES_RECEIPT)
    skus = [i["sku"] for i in zoho.state.organizations[MAIN_ORG].items.values()]
    assert skus.count("ledgerbridge-shipping") == 1


def test_the_emulator_refuses_what_a_receipt_schema_does_not_declare(zoho):
    async def main(target: Any) -> list[str]:
        contact = await target.create_contact(
            ContactDraft(link=Link(key="c"), display_name="Ann", currency="USD")
        )
        item = next(iter(zoho.state.organizations[MAIN_ORG].items))
        line = {"item_id": item, "rate": 10, "quantity": 1}
        base = {"customer_id": contact.target_id, "payment_mode": "cash", "line_items": [line]}
        attempts = [
            {**base, "discount": 1},
            {**base, "shipping_charge": "5.00"},
            {**base, "is_inclusive_tax": True},
            {**base, "reference_number": "X"},
            {**base, "account_id": "1"},
            {**base, "exchange_rate": 1},
            {**base, "custom_fields": [{"customfield_id": "1", "value": "x"}]},
            {**base, "line_items": [{**line, "description": "Mug"}]},
            {**base, "line_items": [{"name": "Mug", "rate": 10, "quantity": 1}]},
        ]
        refused = []
        for body in attempts:
            with pytest.raises(ValidationFailed) as caught:
                await target.client.call("POST", "/salesreceipts", body=body)
            refused.append(str(caught.value))
        return refused

    refused = _call(zoho, main)
    for word, message in zip(
        ["discount", "shipping_charge", "is_inclusive_tax", "reference_number", "account_id",
         "exchange_rate", "custom_fields", "description", "name"], refused, strict=True
    ):  # fmt: skip
        assert word in message, (word, message)
    assert not zoho.state.organizations[MAIN_ORG].salesreceipts


def test_a_receipt_in_another_currency_is_refused_with_what_to_do(zoho):
    async def main(target: Any) -> str:
        contact = await target.create_contact(
            ContactDraft(link=Link(key="c"), display_name="Ann", currency="EUR")
        )
        draft = DocumentDraft(
            kind=DocumentKind.SALES_RECEIPT,
            key=BusinessKey(reference="#E1", source_key="s:E1"),
            contact=Link(key="c", target_id=contact.target_id),
            date=date(2026, 2, 1),
            currency="EUR",
            exchange_rate=Decimal("1.08"),
            lines=(DocumentLine(description="A", quantity=Decimal(1), rate=Decimal(10)),),
            payment_mode="cash",
        )
        with pytest.raises(ValidationFailed) as caught:
            await target.create_document(draft)
        return str(caught.value)

    assert "posting_policy: invoice" in _call(zoho, main)
    assert not zoho.state.organizations[MAIN_ORG].salesreceipts


# ------------------------------------------------------------------ custom fields


def _call(zoho: Any, fn: Any, **settings: Any) -> Any:
    async def main() -> Any:
        target = make_target(zoho.url, zoho.state, **settings)
        try:
            return await fn(target)
        finally:
            await target.aclose()

    return anyio.run(main)


def _invoice(contact_id: str, reference: str, **fields: str) -> DocumentDraft:
    return DocumentDraft(
        kind=DocumentKind.INVOICE,
        key=BusinessKey(reference=reference, source_key=f"s:{reference}"),
        contact=Link(key="c", target_id=contact_id),
        date=date(2026, 2, 1),
        currency="USD",
        lines=(DocumentLine(description="A", quantity=Decimal(1), rate=Decimal(10)),),
        custom_fields=fields,
    )


def test_custom_fields_are_written_by_id_or_label_never_by_api_name(zoho):
    org = zoho.state.organizations[MAIN_ORG]
    org.custom_fields["invoices"]["cf_source_order_id"] = CustomField(
        "4600000000000999001", "cf_source_order_id", "Source order id"
    )
    org.custom_fields["contacts"]["cf_source_customer"] = CustomField(
        "4600000000000999002", "cf_source_customer", "Source customer"
    )

    async def main(target: Any) -> None:
        contact = await target.create_contact(
            ContactDraft(link=Link(key="c"), display_name="Ann", currency="USD",
                         custom_fields={"Source customer": "C-1"})  # by its label
        )  # fmt: skip
        first = await target.create_document(_invoice(contact.target_id, "#1",
                                                      cf_source_order_id="1001"))  # fmt: skip
        await target.create_document(_invoice(contact.target_id, "#2",
                                              **{"source ORDER id": "1002"}))  # fmt: skip
        await target.record_payment(
            PaymentDraft(key=BusinessKey(reference="#1", source_key="s:#1:pay"),
                         contact=Link(key="c", target_id=contact.target_id), amount=Decimal(10),
                         currency="USD", date=date(2026, 2, 1), payment_mode="cash",
                         applied_to=((Link(key="i", target_id=first.target_id), Decimal(10)),))
        )  # fmt: skip

    _call(zoho, main, contact_key_field="cf_ledgerbridge_key")
    invoices = _sent(zoho, "/invoices")
    assert [f for body in invoices for f in body["custom_fields"]] == [
        {"customfield_id": "4600000000000999001", "value": "1001"},
        {"customfield_id": org.custom_fields["invoices"]["cf_ledgerbridge_key"].customfield_id,
         "value": "s:#1"},
        {"customfield_id": "4600000000000999001", "value": "1002"},
        {"customfield_id": org.custom_fields["invoices"]["cf_ledgerbridge_key"].customfield_id,
         "value": "s:#2"},
    ]  # fmt: skip
    [contact] = _sent(zoho, "/contacts")
    assert contact["custom_fields"] == [
        {"label": "Source customer", "value": "C-1"},
        {"label": "Ledgerbridge key", "value": "c"},
    ]
    [payment] = _sent(zoho, "/customerpayments")
    assert payment["custom_fields"] == [{"label": "Ledgerbridge key", "value": "s:#1:pay"}]
    assert [r["custom_field_hash"]["cf_source_order_id"] for r in org.invoices.values()
            if r.get("reference_number") in ("#1", "#2")] == ["1001", "1002"]  # fmt: skip
    # The organisation's custom fields are read once per run, not once per write.
    reads = [ex for ex in zoho.exchanges if ex.path == "/settings/fields"]
    assert len(reads) == 1


def test_a_custom_field_the_organisation_lacks_waits_for_the_operator(zoho):
    async def main(target: Any) -> NeedsMapping:
        contact = await target.create_contact(
            ContactDraft(link=Link(key="c"), display_name="Ann", currency="USD")
        )
        with pytest.raises(NeedsMapping) as caught:
            await target.create_document(_invoice(contact.target_id, "#3", cf_missing="x"))
        return caught.value

    problem = _call(zoho, main)
    assert problem.missing == "custom_field:invoices:cf_missing"
    assert not _sent(zoho, "/invoices")


def test_the_emulator_refuses_api_name_and_undeclared_keys(zoho):
    async def main(target: Any) -> list[str]:
        contact = await target.create_contact(
            ContactDraft(link=Link(key="c"), display_name="Ann", currency="USD")
        )
        line = {"name": "A", "description": "A", "rate": 10, "quantity": 1}
        attempts = [
            ("/invoices", [{"api_name": "cf_ledgerbridge_key", "value": "x"}]),
            ("/invoices", [{"label": "Ledgerbridge key", "value": "x"}]),
            ("/customerpayments", [{"customfield_id": "1", "value": "x"}]),
        ]
        refused = []
        for path, fields in attempts:
            body: dict[str, Any] = {"customer_id": contact.target_id, "custom_fields": fields}
            if path == "/invoices":
                body["line_items"] = [line]
            else:
                body.update(payment_mode="cash", amount=5, date="2026-02-01", invoices=[])
            with pytest.raises(ValidationFailed) as caught:
                await target.client.call("POST", path, body=body)
            refused.append(str(caught.value))
        return refused

    api_name, label, payment_id = _call(zoho, main)
    assert "api_name" in api_name and "label" in label and "customfield_id" in payment_id


# ------------------------------------------------------------------ advance payments


def test_an_advance_is_a_payment_with_an_empty_invoices_list(zoho):
    async def main(target: Any) -> str:
        contact = await target.create_contact(
            ContactDraft(link=Link(key="c"), display_name="Ann", currency="USD")
        )
        ref = await target.record_payment(
            PaymentDraft(key=BusinessKey(reference="#A1", source_key="s:A1:pay"),
                         contact=Link(key="c", target_id=contact.target_id),
                         amount=Decimal("15.00"), currency="USD", date=date(2026, 2, 1),
                         payment_mode="cash")
        )  # fmt: skip
        return ref.target_id

    payment = zoho.state.organizations[MAIN_ORG].payments[_call(zoho, main)]
    assert payment["unused_amount"] == payment["amount"] == Decimal("15.00")
    [sent] = _sent(zoho, "/customerpayments")
    assert sent["invoices"] == []  # required by the schema, with no minimum length
    # The emulator refuses a payment without the list (checked directly: such a body is
    # outside the request schema, which the exchange contract check would flag).
    without = {"customer_id": "1", "payment_mode": "cash", "amount": 5, "date": "2026-02-01"}
    with pytest.raises(ZohoError, match="invoices is required"):
        rules.payment_request(without)
