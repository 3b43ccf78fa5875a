"""``mappings validate --against`` checks the custom fields a mapping writes, module by
module, and the connection's own settings -- not only the ids it names.

A fresh Zoho organisation has none of the shipped presets' custom fields; every write
naming one is refused, so every order failed while ``--against`` said OK.
"""

from __future__ import annotations

import anyio
import httpx
import pytest

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.errors import LedgerbridgeError
from ledgerbridge.plan import ContactDraft, Link
from ledgerbridge.plugins import get_registry
from tests.test_cli import run

from .conftest import PRESET_FIELDS, seed


def test_against_flags_the_presets_custom_fields_on_a_fresh_organisation(books_config):
    config = books_config()
    out = run("mappings", "validate", "woocommerce-to-zohobooks", "--against", "acme/books",
              "-c", str(config))  # fmt: skip
    assert out.returncode == 1, out.stdout + out.stderr
    err = " ".join(out.stderr.split())
    assert "custom field cf_source_customer_id on contacts is not in the organisation" in err
    assert "custom field cf_source_order_id on invoices is not in the organisation" in err
    assert "custom field cf_source_order_id on creditnotes is not in the organisation" in err
    # each at the line of the preset that writes it, with how to create it
    assert "woocommerce-to-zohobooks.yaml:" in err
    assert "Settings -> Preferences -> Invoices -> Field Customization" in err
    assert "custom_fields: {invoices: [cf_source_order_id]}" in err


def test_against_passes_once_the_organisation_has_them(books_config):
    config = books_config(settings={"custom_fields": PRESET_FIELDS})
    out = run("mappings", "validate", "woocommerce-to-zohobooks", "--against", "acme/books",
              "-c", str(config))  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "so does every custom field the mapping writes" in out.stdout


def test_against_checks_the_connections_own_settings(books_config):
    config = books_config(
        settings={
            "custom_fields": PRESET_FIELDS,
            "key_field": "cf_ledgerbridge_key",
            "refund_account_id": "4600000000000009999",
        }
    )
    out = run("mappings", "validate", "woocommerce-to-zohobooks", "--against", "acme/books",
              "-c", str(config))  # fmt: skip
    assert out.returncode == 1
    err = " ".join(out.stderr.split())
    for module in ("invoices", "creditnotes", "customerpayments"):
        assert f"custom field cf_ledgerbridge_key on {module}" in err
    # Sales receipts take no custom fields (sales-receipt.yml): the key is not written there.
    assert "custom field cf_ledgerbridge_key on salesreceipts" not in err
    assert "connection settings.key_field" in err
    assert "settings.refund_account_id: '4600000000000009999' is not among" in err


def _target(zoho, token: str):
    spec = get_registry().get("zohobooks")
    settings = {"organization_id": seed.MAIN_ORG, "api_url": zoho.url, "accounts_url": zoho.url}
    secrets = {
        "client_id": seed.EMULATOR_CLIENT_ID,
        "client_secret": seed.EMULATOR_CLIENT_SECRET,
        "refresh_token": token,
    }
    return spec.build(
        ConnectorContext(
            "acme/books",
            "acme",
            spec.settings_model.model_validate(settings),
            spec.secrets_model.model_validate(secrets),
        )
    )


def test_the_emulator_refuses_an_unknown_custom_field_until_it_is_created(zoho):
    token = zoho.state.issue_refresh_token(seed.EMULATOR_CLIENT_ID, seed.MERCHANT)
    draft = ContactDraft(
        link=Link(key="contact:woocommerce:shop:7"),
        display_name="Ada Lovelace",
        email="ada.l@example.com",
        custom_fields={"cf_source_customer_id": "7"},
    )
    org = zoho.state.organizations[seed.MAIN_ORG]
    before = len(org.contacts)

    async def create() -> str:
        target = _target(zoho, token)
        try:
            return (await target.create_contact(draft)).target_id
        finally:
            await target.aclose()

    # Refused before anything is sent: the organisation's custom fields (GET /settings/fields)
    # lack it; the emulator would refuse it too (tests/zohobooks/test_strict_writes.py).
    with pytest.raises(LedgerbridgeError, match="custom field 'cf_source_customer_id'"):
        anyio.run(create)
    assert len(org.contacts) == before  # refused: nothing written
    # The sandbox's stand-in for Settings -> Preferences -> Field Customization:
    made = httpx.post(
        f"{zoho.url}/_emulator/customfields",
        json={"organization_id": seed.MAIN_ORG, "module": "contacts",
              "api_name": "cf_source_customer_id"},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    contact_id = anyio.run(create)
    assert org.contacts[contact_id]["custom_field_hash"] == {"cf_source_customer_id": "7"}
    listed = httpx.get(
        f"{zoho.url}/_emulator/customfields", params={"organization_id": seed.MAIN_ORG}
    ).json()
    assert "cf_source_customer_id" in listed["contacts"]
