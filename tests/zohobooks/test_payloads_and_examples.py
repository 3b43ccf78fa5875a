"""Money is written exactly; Zoho's example payloads parse with the response models."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from ledgerbridge.plan import BusinessKey, DocumentDraft, DocumentKind, DocumentLine, Link
from ledgerbridge_zohobooks import models
from ledgerbridge_zohobooks.jsonmoney import dumps, loads, quantize
from ledgerbridge_zohobooks.payloads import document_body

from ..conftest import refdata


def test_decimal_is_written_as_an_exact_json_number():
    text = dumps(
        {
            "rate": Decimal("0.1"),
            "big": Decimal("12345678901234567.89"),
            "id": "8754310000010306009",
        }
    )
    assert text == '{"rate":0.1,"big":12345678901234567.89,"id":"8754310000010306009"}'
    assert loads(text)["big"] == Decimal("12345678901234567.89")
    with pytest.raises(TypeError):
        dumps({"rate": 0.1})


def test_amounts_are_rounded_to_the_currency_precision():
    assert quantize(Decimal("10.005"), 2) == Decimal("10.01")
    assert quantize(Decimal("1234.5"), 0) == Decimal("1235")
    draft = DocumentDraft(
        kind=DocumentKind.INVOICE,
        key=BusinessKey(reference="#1", source_key="s:1"),
        contact=Link(key="c", target_id="4600000000000000001"),
        date=date(2026, 1, 5),
        currency="JPY",
        lines=(DocumentLine(description="Tea", quantity=Decimal(3), rate=Decimal("333.5")),),
        shipping_charge=Decimal("500.4"),
    )
    fields = [{"customfield_id": "4600000000000000009", "value": "s:1"}]
    body = document_body(draft, places=0, fields=fields)
    assert (
        body["line_items"][0]["rate"] == Decimal("334") and body["line_items"][0]["name"] == "Tea"
    )
    assert body["shipping_charge"] == "500"  # the spec types it as a string (defect 7)
    assert body["custom_fields"] == fields  # addressed by id (customfields.Catalog)
    assert '"rate":334' in dumps(body)


LIST_MODELS = {
    "contacts": models.Contact,
    "items": models.Item,
    "invoices": models.Invoice,
    "customer_payments": models.CustomerPayment,
    "taxes": models.Tax,
    "currencies": models.Currency,
    "chartofaccounts": models.Account,
    "bankaccounts": models.Account,
    "organizations": models.Organization,
}
SINGLE_MODELS = {
    "contact": models.Contact,
    "item": models.Item,
    "invoice": models.Invoice,
    "payment": models.CustomerPayment,
    "creditnote": models.CreditNote,
    "salesreceipt": models.SalesReceipt,
    "creditnote_refund": models.CreditNoteRefund,
    "organization": models.Organization,
}


def _bodies():
    root = refdata("zoho-books-examples")
    for path in sorted(root.glob("*/*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        body = doc.get("response_example") or doc.get("body") or doc
        yield path.name, body


def test_every_example_payload_parses_with_the_response_models():
    parsed = 0
    for name, body in _bodies():
        for key, model in LIST_MODELS.items():
            for row in body.get(key) or []:
                model.model_validate(row)
                parsed += 1
        for key, model in SINGLE_MODELS.items():
            if isinstance(body.get(key), dict):
                model.model_validate(body[key])
                parsed += 1
        if "page_context" in body:
            assert isinstance(models.page_context(body["page_context"]).has_more_page, bool), name
        if "access_token" in body:
            models.TokenResponse.model_validate(body)
            parsed += 1
    assert parsed >= 25


def test_real_ids_stay_strings_and_money_decimal():
    body = json.loads(
        refdata(
            "zoho-books-examples", "real-world-redacted", "books_invoice_get_NGN_trimmed.json"
        ).read_text(),
        parse_float=Decimal,
    )
    invoice = models.Invoice.model_validate(body["invoice"])
    assert isinstance(invoice.invoice_id, str) and len(invoice.invoice_id) >= 15
    assert invoice.total == Decimal("1.08")
    spec_example = json.loads(
        refdata("zoho-books-examples", "official-openapi-examples", "invoice_get.json").read_text(),
        parse_float=Decimal,
    )["response_example"]["invoice"]
    assert isinstance(
        models.Invoice.model_validate(spec_example).customer_id, str
    )  # numeric id in spec
