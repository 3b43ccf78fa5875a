"""Currency per contact and the exchange rate, against the strict emulator.

A Zoho contact has one currency and a document follows it (facts doc §7.1, §15); a
document or payment not in the organisation's base currency needs ``exchange_rate``
(invoices.yml). The connector never reuses a contact in another currency, takes the
source's rate (shop vs presentment money) before the pipeline's configured one, and with
neither parks the record naming the mapping key that makes it post.
"""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.canonical import Order
from ledgerbridge.errors import ConfigError, NeedsMapping, ValidationFailed
from ledgerbridge.mapping import load_mapping
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
from tests.canonical_factory import m

from .helpers import with_target


def _org(zoho: Any) -> Any:
    return zoho.state.organizations[MAIN_ORG]


def _currency_id(zoho: Any, code: str) -> str:
    return next(
        c["currency_id"] for c in _org(zoho).currencies.values() if c["currency_code"] == code
    )


LINE = {"description": "Lamp", "rate": 80, "quantity": 1}


def test_the_emulator_holds_a_document_to_its_contacts_currency(zoho):
    async def main(target: Any) -> list[str]:
        eur = await target.create_contact(
            ContactDraft(link=Link(key="c:eur"), display_name="Euro", currency="EUR")
        )
        usd = await target.create_contact(
            ContactDraft(link=Link(key="c:usd"), display_name="Dollar", currency="USD")
        )
        refused = []
        attempts = [
            ("POST", "/invoices", {"customer_id": eur.target_id, "line_items": [LINE]}),
            (
                "POST",
                "/invoices",
                {
                    "customer_id": usd.target_id,
                    "currency_id": _currency_id(zoho, "EUR"),
                    "line_items": [LINE],
                },
            ),
            (
                "POST",
                "/customerpayments",
                {
                    "customer_id": eur.target_id,
                    "payment_mode": "cash",
                    "amount": 10,
                    "date": "2026-02-01",
                    "invoices": [],
                },
            ),
            (
                "POST",
                "/invoices",
                {"customer_id": eur.target_id, "exchange_rate": 0, "line_items": [LINE]},
            ),
        ]
        for method, path, body in attempts:
            with pytest.raises(ValidationFailed) as caught:
                await target.client.call(method, path, body=body)
            refused.append(str(caught.value))
        # The contact now has an invoice: its currency is fixed.
        await target.client.call(
            "POST",
            "/invoices",
            body={
                "customer_id": eur.target_id,
                "exchange_rate": Decimal("1.08"),
                "line_items": [LINE],
            },
        )
        with pytest.raises(ValidationFailed) as caught:
            await target.client.call(
                "PUT",
                f"/contacts/{eur.target_id}",
                body={
                    "contact_name": "Euro",
                    "contact_type": "customer",
                    "currency_id": _currency_id(zoho, "USD"),
                },
            )
        refused.append(str(caught.value))
        return refused

    no_rate, other_currency, payment_no_rate, zero_rate, changed = with_target(zoho, main)
    assert "Exchange rate is required" in no_rate
    assert "customer's currency USD" in other_currency
    assert "Exchange rate is required" in payment_no_rate
    assert "exchange_rate" in zero_rate
    assert "cannot be changed" in changed
    [booked] = [i for i in _org(zoho).invoices.values() if i["currency_code"] == "EUR"]
    assert booked["exchange_rate"] == Decimal("1.08") and booked["bcy_total"] == Decimal("86.40")


def test_a_contact_found_by_email_in_another_currency_is_not_reused(zoho):
    async def main(target: Any) -> tuple[Any, ...]:
        usd = await target.create_contact(
            ContactDraft(
                link=Link(key="contact:email:ann@example.com"),
                display_name="Ann",
                email="ann@example.com",
                currency="USD",
            )
        )
        in_eur = await target.find_contact(email="ann@example.com", currency="EUR")
        in_usd = await target.find_contact(email="ann@example.com", currency="USD")
        return usd, in_eur, in_usd

    usd, in_eur, in_usd = with_target(zoho, main)
    assert in_eur is None, "a EUR order must not land on the customer's USD contact"
    assert in_usd is not None and in_usd.target_id == usd.target_id


def _presentment_order() -> Order:
    """A shop in EUR that charged this buyer in USD: shop money 100.00 EUR, presentment
    money 108.25 USD -- the rate the order was charged at is 1.0825."""
    return Order.model_validate(
        {
            "source": {"platform": "shopify", "store": "eu", "external_id": "77"},
            "number": "#77",
            "currency": "EUR",
            "presentment_currency": "USD",
            "presentment_total": m("108.25", "USD"),
            "created_at": "2026-02-01T10:00:00+00:00",
            "email": "max@example.com",
            "lines": [
                {"line_id": "L1", "title": "Lamp", "quantity": 1, "unit_price": m("100.00", "EUR")}
            ],
            "totals": {"total": m("100.00", "EUR")},
            "payments": [
                {
                    "external_id": "T1",
                    "kind": "sale",
                    "status": "success",
                    "amount": m("100.00", "EUR"),
                    "gateway": "manual",
                }
            ],
        }
    )


def _mapping(tmp_path: Path, zoho: Any, extra: str = "") -> Any:
    bank = next(iter(_org(zoho).bank_accounts))
    text = f"""\
    extends: shopify-to-zohobooks
    document:
      custom_fields:
        cf_source_order_id: null
    lookups:
      payment_methods:
        entries:
          manual: {{payment_mode: cash, account_id: "{bank}"}}
    {extra}"""
    path = tmp_path / "tenant.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_mapping(path)


def _post(zoho: Any, runtime: Any, order: Order) -> tuple[str, str]:
    async def main(target: Any) -> tuple[str, str]:
        contact = await target.create_contact(runtime.contact(order, []))
        doc = runtime.document(order, DocumentKind.INVOICE, [])
        doc = doc.model_copy(update={"contact": doc.contact.resolved(contact.target_id)})
        ref = await target.create_document(doc)
        pay = runtime.payment(order, order.payments[0], Link(key="d", target_id=ref.target_id), [])
        pay = pay.model_copy(update={"contact": doc.contact})
        paid = await target.record_payment(pay)
        return ref.target_id, paid.target_id

    return with_target(zoho, main)


def test_the_rate_the_source_states_is_taken(zoho, tmp_path):
    # The organisation keeps its books in USD; the shop's currency is EUR; Shopify states
    # the order in both (shop and presentment money).
    order = _presentment_order()
    invoice_id, payment_id = _post(zoho, _mapping(tmp_path, zoho), order)
    invoice = _org(zoho).invoices[invoice_id]
    assert (invoice["currency_code"], invoice["exchange_rate"]) == ("EUR", Decimal("1.0825"))
    assert invoice["total"] == Decimal("100.00") and invoice["bcy_total"] == Decimal("108.25")
    payment = _org(zoho).payments[payment_id]
    assert (payment["currency_code"], payment["exchange_rate"]) == ("EUR", Decimal("1.0825"))
    assert invoice["status"] == "paid"


def test_without_a_rate_the_advice_names_a_key_that_makes_it_post(zoho, tmp_path):
    order = _presentment_order().model_copy(
        update={"presentment_currency": None, "presentment_total": None}
    )
    with pytest.raises(NeedsMapping) as caught:
        _post(zoho, _mapping(tmp_path, zoho), order)
    assert caught.value.missing == "exchange_rate:EUR"
    assert "lookups.currencies.exchange_rates.EUR" in str(caught.value)
    assert not _org(zoho).invoices or all(
        i.get("reference_number") != "#77" for i in _org(zoho).invoices.values()
    )
    # Follow the advice: the key it names, in the mapping file.
    followed = _mapping(
        tmp_path, zoho, "  currencies:\n        exchange_rates:\n          EUR: 1.09\n"
    )
    invoice_id, _ = _post(zoho, followed, order)
    invoice = _org(zoho).invoices[invoice_id]
    assert (invoice["exchange_rate"], invoice["bcy_total"]) == (Decimal("1.09"), Decimal("109.00"))


def test_a_configured_rate_must_be_positive(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "extends: shopify-to-zohobooks\nlookups:\n  currencies:\n    exchange_rates:\n"
        "      EUR: 0\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="exchange_rates.EUR: a rate must be positive"):
        load_mapping(path)


def test_a_draft_in_the_base_currency_carries_no_exchange_rate(zoho):
    async def main(target: Any) -> dict[str, Any]:
        contact = await target.create_contact(
            ContactDraft(link=Link(key="c"), display_name="Dollar", currency="USD")
        )
        link = Link(key="c", target_id=contact.target_id)
        draft = DocumentDraft(
            kind=DocumentKind.INVOICE,
            key=BusinessKey(reference="#90", source_key="s:90"),
            contact=link,
            date=date(2026, 2, 1),
            currency="USD",
            lines=(DocumentLine(description="A", quantity=Decimal(1), rate=Decimal(5)),),
            exchange_rate=Decimal("1.5"),  # configured for USD, but USD is the base
            stated_rates={"EUR": Decimal("0.9")},
        )
        await target.create_document(draft)
        await target.record_payment(
            PaymentDraft(
                key=BusinessKey(reference="#90", source_key="s:90:p"),
                contact=link,
                amount=Decimal(5),
                currency="USD",
                date=date(2026, 2, 1),
            )
        )
        return {}

    with_target(zoho, main)
    sent = [ex.body for ex in zoho.exchanges if ex.method == "POST" and ex.path in
            ("/invoices", "/customerpayments")]  # fmt: skip
    assert sent and all("exchange_rate" not in body for body in sent)
