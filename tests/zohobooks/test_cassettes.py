"""Cassettes: replayed offline (record_mode="none"), contract-checked, and free of secrets."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import anyio
import pytest
import yaml

from ledgerbridge.testing.cassettes import assert_scrubbed, scrubbing_vcr
from ledgerbridge_zohobooks.emulator.seed import EMULATOR_CLIENT_SECRET, MAIN_ORG

from .cassette_scenarios import (
    ACCESS_TOKEN,
    CASSETTES,
    EMULATOR_SECRETS,
    FAMILIES,
    ORG_PLACEHOLDER,
    REFRESH_TOKEN,
    emulator_target,
    emulator_transport,
    play,
    record,
)


def replay(family: str):
    vcr = scrubbing_vcr(CASSETTES, EMULATOR_SECRETS, record_mode="none")
    with vcr.use_cassette(f"{family}.yaml"):
        return anyio.run(lambda: play(family, None))


def test_every_family_has_a_cassette():
    assert {p.stem for p in CASSETTES.glob("*.yaml")} == set(FAMILIES)


def test_replay_auth_and_lookups():
    identity = replay("auth")
    assert identity.organization_id == ORG_PLACEHOLDER and identity.base_currency == "USD"
    found = replay("lookups")
    assert {e.name for e in found["taxes"]} >= {"VAT 10", "Reduced 5"}
    assert any(e.details["base"] for e in found["currencies"])


def test_replay_contacts_and_items():
    ref, found, updated = replay("contacts")
    assert found == ref == updated
    item, found_item, updated_item = replay("items")
    assert found_item == item == updated_item


def test_the_new_paths_are_recorded_within_the_request_schemas():
    """Entity and line discounts, taxed shipping as a line, the rounding adjustment, the
    exchange rate, the advance payment and custom fields by customfield_id are in the
    committed cassettes (each then contract-checked below)."""
    bodies = {
        family: [
            json.loads(i["request"]["body"], parse_float=Decimal)
            for i in yaml.safe_load((CASSETTES / f"{family}.yaml").read_text())["interactions"]
            if (
                i["request"]["body"]
                and i["request"]["uri"]
                .split("?")[0]
                .endswith(("/invoices", "/customerpayments", "/salesreceipts"))
            )
            or ("/invoices/" in i["request"]["uri"] and i["request"]["method"] == "PUT")
        ]
        for family in ("invoices", "payments", "salesreceipts")
    }
    invoices = [b for b in bodies["invoices"] if "line_items" in b]
    assert any(b.get("discount_type") == "entity_level" for b in invoices)
    assert any(b.get("discount_type") == "item_level" for b in invoices)
    assert any(
        line.get("name") == "Shipping" and line.get("tax_id")
        for b in invoices
        for line in b["line_items"]
    )
    assert any(b.get("adjustment") == Decimal("-0.01") for b in invoices)
    assert any(b.get("exchange_rate") == Decimal("1.08") for b in invoices)
    assert all("shipping_charge_tax_id" not in b for b in invoices)
    assert all(
        set(field) == {"customfield_id", "value"} for b in invoices for field in b["custom_fields"]
    )
    payments = [b for b in bodies["payments"] if "amount" in b]
    assert any(b["invoices"] == [] for b in payments)  # the advance
    assert all({"label", "value"} == set(f) for b in payments for f in b["custom_fields"])
    [receipt] = [b for b in bodies["salesreceipts"] if "receipt_number" in b]
    assert all(line["item_id"] for line in receipt["line_items"])


def test_replay_documents():
    ref, doc, found = replay("invoices")
    assert doc.total == Decimal("28.90") and found.ref.target_id == ref.target_id
    receipt, receipt_doc = replay("salesreceipts")
    assert receipt.number == "CAS-200" and receipt_doc.total == Decimal("28.90")
    invoice, paid, after = replay("payments")
    assert after.status == "paid" and after.balance == 0 and paid.target_id != invoice.target_id
    _, note, refund, note_after = replay("creditnotes")
    assert note_after.ref.target_id == note.target_id
    assert (
        note_after.balance == 0 and note_after.status == "closed" and refund.kind == "credit_refund"
    )


def test_a_request_not_in_the_cassette_fails_instead_of_reaching_the_network():
    vcr = scrubbing_vcr(CASSETTES, EMULATOR_SECRETS, record_mode="none")
    with vcr.use_cassette("auth.yaml"), pytest.raises(Exception, match="[Cc]assette"):
        anyio.run(lambda: play("lookups", None))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_cassette_requests_match_zohos_openapi(family, zoho_contract):
    if zoho_contract is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must have Zoho's OpenAPI in ../shared/refdata/zoho-books-openapi")
        pytest.skip("reference data ../shared/refdata/zoho-books-openapi is not present")
    interactions = yaml.safe_load((CASSETTES / f"{family}.yaml").read_text())["interactions"]
    problems = []
    for interaction in interactions:
        request = interaction["request"]
        url = urlsplit(request["uri"])
        if not url.path.startswith("/books/v3"):
            continue  # the accounts server is not part of the Books API spec
        path = url.path.removeprefix("/books/v3")
        # Zoho_Auth (every operation's security): the OAuth header, its token a placeholder.
        auth = {k.lower(): v for k, v in request["headers"].items()}.get("authorization")
        if auth != ["Zoho-oauthtoken <ACCESS_TOKEN>"]:
            problems.append(f"{request['method']} {path}: Authorization is {auth!r}")
        body = json.loads(request["body"], parse_float=Decimal) if request["body"] else None
        headers = {
            k.lower(): v[0] for k, v in request["headers"].items() if k.lower().startswith("x-")
        }
        problems += zoho_contract.check_request(
            request["method"], path, dict(parse_qsl(url.query)), headers, body
        )
        response = json.loads(interaction["response"]["body"]["string"], parse_float=Decimal)
        problems += zoho_contract.check_response(
            request["method"], path, interaction["response"]["status"]["code"], response
        )
    assert not problems, "\n".join(problems)


def test_committed_cassettes_hold_no_secret():
    for path in CASSETTES.glob("*.yaml"):
        assert_scrubbed(path, EMULATOR_SECRETS)
        text = path.read_text()
        # The header stays, with a placeholder: the recorded request shows Zoho's auth scheme.
        assert "Zoho-oauthtoken" in text or path.stem == "auth"
        for line in text.splitlines():
            if line.strip().startswith("- Zoho-oauthtoken"):
                assert line.strip() == "- Zoho-oauthtoken <ACCESS_TOKEN>", line


def test_rerecording_scrubs_every_secret(tmp_path):
    """Record again (in a temp dir) and prove no token, secret or org id survives."""
    for family in ("auth", "creditnotes"):
        record(tmp_path, family, EMULATOR_SECRETS, lambda: emulator_target(emulator_transport()))
        cassette = tmp_path / f"{family}.yaml"
        assert_scrubbed(cassette, EMULATOR_SECRETS)
        text = cassette.read_text()
        for secret in (ACCESS_TOKEN, REFRESH_TOKEN, EMULATOR_CLIENT_SECRET, MAIN_ORG):
            assert secret not in text
        assert "<ACCESS_TOKEN_0>" in text and ORG_PLACEHOLDER in text


def test_unknown_zoho_tokens_are_scrubbed_by_pattern(tmp_path):
    from .cassette_scenarios import TOKEN_PATTERN

    live_token = "1000.5f2a9c0e1b7d4a3f8e6c2b1a09d8e7f6.0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    assert (
        TOKEN_PATTERN.sub("<ZOHO_TOKEN>", f'"access_token":"{live_token}"')
        == '"access_token":"<ZOHO_TOKEN>"'
    )
