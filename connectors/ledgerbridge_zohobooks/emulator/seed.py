"""Seeded, varied data: two organisations a merchant reaches, one they do not.

The seeded invoices are built through the same arithmetic as created ones, so
they always add up.
"""

from __future__ import annotations

from decimal import Decimal

from .state import CustomField, EmulatorState, Organization, Tax, compute_document

EMULATOR_CLIENT_ID = "1000.EMULATORCLIENT"
EMULATOR_CLIENT_SECRET = "emulator-client-secret"  # noqa: S105 - the emulator's own fake secret
MERCHANT = "merchant@example.com"
OTHER_MERCHANT = "other@example.com"
MAIN_ORG = "10234695"
SECOND_ORG = "20234695"
FOREIGN_ORG = "99990001"
KEY_FIELD = "cf_ledgerbridge_key"


def _org(state: EmulatorState, org_id: str, name: str, currency: str, plan: str) -> Organization:
    org = Organization(organization_id=org_id, name=name, currency_code=currency, plan=plan)
    ids = state.ids
    for tax_name, pct in (("VAT 10", "10"), ("Reduced 5", "5"), ("GST 7.5", "7.5"), ("Zero", "0")):
        tax = Tax(ids.next(), tax_name, Decimal(pct))
        org.taxes[tax.tax_id] = tax
    for code, name_, base, rate in (
        (currency, currency, True, "1"),
        ("EUR" if currency != "EUR" else "USD", "Second", False, "1.08"),
        ("GBP", "Pound Sterling", False, "1.27"),
    ):
        cid = ids.next()
        org.currencies[cid] = {
            "currency_id": cid,
            "currency_code": code,
            "currency_name": name_,
            "currency_symbol": code,
            "price_precision": 2,
            "currency_format": "1,234,567.89",
            "is_base_currency": base,
            "exchange_rate": Decimal(rate),
            "effective_date": "2026-01-01",
        }
    for account_name, account_type in (
        ("Sales", "income"),
        ("Shipping Income", "income"),
        ("Undeposited Funds", "cash"),
        ("Payment Gateway Clearing", "other_current_asset"),
        ("Merchant Fees", "expense"),
    ):
        aid = ids.next()
        org.accounts[aid] = {
            "account_id": aid,
            "account_name": account_name,
            "account_code": "",
            "account_type": account_type,
            "is_active": True,
            "parent_account_id": "",
        }
    for bank_name in ("Business Checking", "Stripe Clearing"):
        bid = ids.next()
        org.bank_accounts[bid] = {
            "account_id": bid,
            "account_name": bank_name,
            "account_type": "bank",
            "currency_id": next(iter(org.currencies)),
            "currency_code": currency,
            "balance": Decimal("0.00"),
            "is_active": True,
        }
    for entity in ("invoices", "contacts", "creditnotes", "salesreceipts", "customerpayments"):
        org.custom_fields[entity] = {
            KEY_FIELD: CustomField(ids.next(), KEY_FIELD, "Ledgerbridge key", unique=True)
        }
    return org


def _seed_documents(state: EmulatorState, org: Organization) -> None:
    taxes = list(org.taxes.values())
    for n, (name, email) in enumerate(
        (("Ada Lovelace", "ada@example.com"), ("Grace Hopper", "grace@example.com"))
    ):
        cid = state.ids.next()
        org.contacts[cid] = {
            "contact_id": cid,
            "contact_name": name,
            "contact_type": "customer",
            "email": email,
            "currency_id": next(iter(org.currencies)),
            "currency_code": org.currency_code,
            "custom_fields": [],
            "custom_field_hash": {},
            "last_modified_time": f"2026-01-0{n + 1}T10:00:00+0000",
        }
    for n, (name, sku, rate) in enumerate(
        (("Seeded mug", "SEED-MUG", "12.50"), ("Seeded tee", "SEED-TEE", "19.99"))
    ):
        iid = state.ids.next()
        org.items[iid] = {
            "item_id": iid,
            "name": name,
            "sku": sku,
            "rate": Decimal(rate),
            "tax_id": taxes[n].tax_id,
            "tax_name": taxes[n].tax_name,
            "tax_percentage": taxes[n].tax_percentage,
            "status": "active",
        }
    contact_id = next(iter(org.contacts))
    for n, item_id in enumerate(org.items):
        body = {
            "customer_id": contact_id,
            "line_items": [
                {
                    "item_id": item_id,
                    "quantity": Decimal(n + 1),
                    "rate": org.items[item_id]["rate"],
                    "tax_id": org.items[item_id]["tax_id"],
                }
            ],
            "shipping_charge": "4.90",
        }
        computed = compute_document(org, body)
        iid = state.ids.next()
        org.invoices[iid] = {
            "invoice_id": iid,
            "invoice_number": org.next_number("INV"),
            "reference_number": f"SEED-{n + 1}",
            "status": "sent",
            "customer_id": contact_id,
            "customer_name": org.contacts[contact_id]["contact_name"],
            "date": "2026-01-02",
            "currency_code": org.currency_code,
            "exchange_rate": Decimal(1),
            "line_items": [{**line, "line_item_id": state.ids.next()} for line in computed.lines],
            "sub_total": computed.sub_total,
            "tax_total": computed.tax_total,
            "taxes": computed.taxes,
            "shipping_charge": computed.shipping_charge,
            "adjustment": computed.adjustment,
            "discount": computed.discount_total,
            "total": computed.total,
            "balance": computed.total,
            "custom_fields": [],
            "custom_field_hash": {},
            "_request": body,
            "_payments": {},
            "_credits": {},
            "last_modified_time": "2026-01-02T10:00:00+0000",
        }


def seed_state(*, documents: bool = True) -> EmulatorState:
    state = EmulatorState()
    state.clients[EMULATOR_CLIENT_ID] = EMULATOR_CLIENT_SECRET
    main = state.add_org(_org(state, MAIN_ORG, "Acme Books", "USD", "standard"), users=(MERCHANT,))
    state.add_org(_org(state, SECOND_ORG, "Acme Europe", "EUR", "free"), users=(MERCHANT,))
    state.add_org(
        _org(state, FOREIGN_ORG, "Someone Else Ltd", "GBP", "professional"), users=(OTHER_MERCHANT,)
    )
    if documents:
        _seed_documents(state, main)
    return state
