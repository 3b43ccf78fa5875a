"""Credit notes and customer payments carry only the fields their request schemas declare;
payment modes are spelt as each module documents them.

The emulator's allow-lists are checked against Zoho's OpenAPI itself, so a citation that
drifts from the spec fails here; the connector is then shown to write only what they allow,
with the books still right to the cent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import yaml

from ledgerbridge.errors import ValidationFailed
from ledgerbridge.plan import (
    BusinessKey,
    ContactDraft,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    ItemDraft,
    Link,
)
from ledgerbridge_zohobooks.emulator import rules
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG
from tests.conftest import refdata

from .helpers import tax_ids_by_rate, with_target


def _request_schema(spec: str, path: str, method: str = "post") -> dict[str, Any]:
    """The JSON body schema of ``method path`` in the spec, its ``$ref``s resolved."""
    root = yaml.safe_load(refdata("zoho-books-openapi", spec).read_text(encoding="utf-8"))

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target: Any = root
                for part in node["$ref"].lstrip("#/").split("/"):
                    target = target[part]
                return resolve(target)
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    op = root["paths"][path][method]
    return resolve(op["requestBody"]["content"]["application/json"]["schema"])


@pytest.mark.parametrize(
    ("spec", "path", "top", "nested", "nested_fields"),
    [
        (
            "credit-notes.yml",
            "/creditnotes",
            rules.CREDIT_NOTE_FIELDS,
            "line_items",
            rules.CREDIT_NOTE_LINE_FIELDS,
        ),
        (
            "customer-payments.yml",
            "/customerpayments",
            rules.PAYMENT_FIELDS,
            "invoices",
            rules.PAYMENT_INVOICE_FIELDS,
        ),
    ],
)
def test_the_allow_lists_are_the_request_schemas(spec, path, top, nested, nested_fields):
    schema = _request_schema(spec, path)
    assert set(schema["properties"]) == top
    assert set(schema["properties"][nested]["items"]["properties"]) == nested_fields


def test_the_payment_modes_are_the_documented_ones():
    schema = _request_schema("customer-payments.yml", "/customerpayments")
    described = schema["properties"]["payment_mode"]["description"]
    for mode in rules.PAYMENT_MODES:
        assert f"<code>{mode}</code>" in described
    receipt = _request_schema("sales-receipt.yml", "/salesreceipts")
    for mode in ("cash", "check", "credit_card", "bank_transfer"):
        assert mode in receipt["properties"]["payment_mode"]["description"]


def test_the_emulator_refuses_undocumented_fields_and_modes(zoho):
    async def main(target: Any) -> list[str]:
        contact = await target.create_contact(
            ContactDraft(link=Link(key="c"), display_name="Ann", currency="USD")
        )
        line = {"name": "A", "description": "A", "rate": 10, "quantity": 1}
        cid = contact.target_id
        attempts = [
            ("/creditnotes", {"customer_id": cid, "date": "2026-02-01", "line_items": [line],
                              "shipping_charge": "5.00"}),
            ("/creditnotes", {"customer_id": cid, "date": "2026-02-01",
                              "line_items": [{**line, "discount": 1}]}),
            ("/customerpayments", {"customer_id": cid, "payment_mode": "cash", "amount": 5,
                                   "date": "2026-02-01", "invoices": [], "bank_name": "X"}),
            ("/customerpayments", {"customer_id": cid, "payment_mode": "credit_card",
                                   "amount": 5, "date": "2026-02-01", "invoices": []}),
        ]  # fmt: skip
        refused = []
        for path, body in attempts:
            with pytest.raises(ValidationFailed) as caught:
                await target.client.call("POST", path, body=body)
            refused.append(str(caught.value))
        return refused

    shipping, discount, unknown, mode = with_target(zoho, main)
    assert "shipping_charge" in shipping and "discount" in discount
    assert "bank_name" in unknown and "payment_mode: credit_card" in mode
    assert not zoho.state.organizations[MAIN_ORG].creditnotes


def test_a_credit_note_with_shipping_and_an_adjustment_books_to_the_cent(zoho):
    async def main(target: Any) -> str:
        taxes = await tax_ids_by_rate(target)
        contact = await target.create_contact(
            ContactDraft(link=Link(key="c"), display_name="Ann", currency="USD")
        )
        note = DocumentDraft(
            kind=DocumentKind.CREDIT_NOTE,
            key=BusinessKey(reference="#31", source_key="s:31:refund:1"),
            contact=Link(key="c", target_id=contact.target_id),
            date=date(2026, 2, 1),
            currency="USD",
            lines=(
                DocumentLine(
                    description="Lamp",
                    quantity=Decimal(1),
                    rate=Decimal("30.00"),
                    tax_id=taxes[Decimal("5")],
                ),
            ),
            shipping_charge=Decimal("5.00"),
            shipping_tax_id=taxes[Decimal("10")],
            adjustment=Decimal("-0.40"),
            adjustment_description="Refund adjustment",
        )
        return (await target.create_document(note)).target_id

    note = zoho.state.organizations[MAIN_ORG].creditnotes[with_target(zoho, main)]
    # 30.00 + 1.50 (5 %) + 5.00 + 0.50 (10 %) - 0.40
    assert note["total"] == Decimal("36.60")
    assert {t["tax_name"]: t["tax_amount"] for t in note["taxes"]} == {
        "Reduced 5": Decimal("1.50"),
        "VAT 10": Decimal("0.50"),
    }
    [sent] = [ex.body for ex in zoho.exchanges if (ex.method, ex.path) == ("POST", "/creditnotes")]
    assert not {"shipping_charge", "shipping_charge_tax_id", "adjustment"} & set(sent)


def test_a_receipt_is_written_with_the_receipt_spelling_of_its_payment_mode(zoho):
    async def main(target: Any) -> str:
        contact = await target.create_contact(
            ContactDraft(link=Link(key="c"), display_name="Ann", currency="USD")
        )
        item = await target.create_item(
            ItemDraft(link=Link(key="i"), name="Lamp", sku="LAMP-1", rate=Decimal("30.00"))
        )
        receipt = DocumentDraft(
            kind=DocumentKind.SALES_RECEIPT,
            key=BusinessKey(reference="#32", source_key="s:32"),
            contact=Link(key="c", target_id=contact.target_id),
            date=date(2026, 2, 1),
            currency="USD",
            lines=(
                DocumentLine(
                    description="Lamp",
                    quantity=Decimal(1),
                    rate=Decimal("30.00"),
                    item=Link(key="i", target_id=item.target_id),
                ),
            ),
            payment_mode="creditcard",
        )
        return (await target.create_document(receipt)).target_id

    receipt = zoho.state.organizations[MAIN_ORG].salesreceipts[with_target(zoho, main)]
    assert receipt["payment_mode"] == "credit_card" and receipt["total"] == Decimal("30.00")


def test_a_credit_note_line_discount_becomes_the_rate_and_never_loses_a_cent():
    from ledgerbridge_zohobooks.payloads import line_body

    def sent(quantity: str, discount: str) -> dict[str, Any]:
        line = DocumentLine(
            description="Lamp",
            quantity=Decimal(quantity),
            rate=Decimal("10.00"),
            discount=Decimal(discount),
        )
        return line_body(line, places=2, kind=DocumentKind.CREDIT_NOTE)

    exact = sent("2", "1.00")  # 19.00 over 2 units: 9.50 each
    assert (exact["rate"], exact["quantity"], "discount" in exact) == (
        Decimal("9.50"),
        Decimal("2"),
        False,
    )
    inexact = sent("3", "1.00")  # 29.00 over 3 units is not a price in cents: one unit of 29.00
    assert (inexact["rate"], inexact["quantity"], inexact["description"]) == (
        Decimal("29.00"),
        Decimal("1"),
        "3 x Lamp",
    )


def test_the_receipt_allow_lists_are_the_request_schemas():
    """sales-receipt.yml's create and update bodies, field for field; the update's allowed
    defects are exactly what the create declares and the update omits."""
    create = _request_schema("sales-receipt.yml", "/salesreceipts")
    assert set(create["properties"]) == rules.RECEIPT_FIELDS
    create_line = set(create["properties"]["line_items"]["items"]["properties"])
    assert create_line == rules.RECEIPT_LINE_FIELDS
    update = _request_schema("sales-receipt.yml", "/salesreceipts/{sales_receipt_id}", "put")
    assert set(update["properties"]) == rules.RECEIPT_UPDATE_FIELDS
    update_line = set(update["properties"]["line_items"]["items"]["properties"])
    assert update_line == rules.RECEIPT_UPDATE_LINE_FIELDS
    defects = rules.SPEC_DEFECTS
    assert defects["salesreceipts.update"] == rules.RECEIPT_FIELDS - rules.RECEIPT_UPDATE_FIELDS
    assert defects["salesreceipts.update.line"] == create_line - update_line
