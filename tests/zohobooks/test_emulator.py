"""The emulator itself: Zoho's arithmetic, envelopes, and the sandbox entry point."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from ledgerbridge.plugins import get_registry
from ledgerbridge.sandbox import serve
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG, seed_state
from ledgerbridge_zohobooks.emulator.state import ZohoError, compute_document


@pytest.fixture
def org():
    return seed_state(documents=False).organizations[MAIN_ORG]


def tax(org, name):
    return next(t.tax_id for t in org.taxes.values() if t.tax_name == name)


def test_exclusive_tax_with_entity_discount_shipping_and_adjustment(org):
    body = {
        "line_items": [
            {"description": "A", "rate": Decimal("100.00"), "quantity": Decimal(1), "tax_id": tax(org, "VAT 10")},
            {"description": "B", "rate": Decimal("45.00"), "quantity": Decimal(2),
             "tax_id": tax(org, "Reduced 5")},
        ],
        "discount": Decimal("19.00"),  # spread 100:90 before tax -> 10.00 and 9.00
        "discount_type": "entity_level",
        "is_discount_before_tax": True,
        "shipping_charge": "10.00",
        "shipping_charge_tax_id": tax(org, "VAT 10"),
        "adjustment": Decimal("-0.01"),
    }  # fmt: skip
    computed = compute_document(org, body)
    assert computed.sub_total == Decimal("190.00")
    # VAT: (100 - 10) * 10% + 10 * 10% = 10.00 ; reduced: (90 - 9) * 5% = 4.05
    assert {t["tax_name"]: t["tax_amount"] for t in computed.taxes} == {
        "VAT 10": Decimal("10.00"),
        "Reduced 5": Decimal("4.05"),
    }
    assert computed.total == Decimal("190.00") - Decimal("19.00") + Decimal("10.00") + Decimal(
        "14.05"
    ) - Decimal("0.01")


def test_inclusive_tax_is_extracted_not_added(org):
    body = {
        "is_inclusive_tax": True,
        "line_items": [{"description": "A", "rate": Decimal("110.00"), "quantity": Decimal(1),
                        "tax_id": tax(org, "VAT 10")}],
    }  # fmt: skip
    computed = compute_document(org, body)
    assert computed.total == Decimal("110.00") and computed.tax_total == Decimal("10.00")


def test_bad_documents_get_zohos_codes(org):
    with pytest.raises(ZohoError) as caught:
        compute_document(org, {"line_items": []})
    assert caught.value.code == 4016
    with pytest.raises(ZohoError) as caught:
        compute_document(org, {"line_items": [{"description": "x", "rate": "1", "tax_id": "nope"}]})
    assert caught.value.code == 2


def test_sandbox_entry_point_serves_the_emulator_with_zoho_error_bodies():
    spec = get_registry().get("zohobooks")
    assert spec.status == "ready" and spec.emulator is not None
    with serve(spec.emulator()) as server:
        no_auth = httpx.get(f"{server.url}/books/v3/organizations")
        bad = httpx.get(f"{server.url}/books/v3/invoices", params={"organization_id": MAIN_ORG},
                        headers={"Authorization": "Zoho-oauthtoken 1000.bad.token"})  # fmt: skip
        token = httpx.post(f"{server.url}/oauth/v2/token", data={"grant_type": "refresh_token"})
    assert no_auth.status_code == 401 and no_auth.json()["code"] == 14
    assert bad.status_code == 401 and bad.json()["code"] == 57
    assert token.status_code == 200 and token.json() == {"error": "invalid_client"}
