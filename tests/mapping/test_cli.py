"""``ledgerbridge mappings validate|preview`` as an integrator runs them (real subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import run

from .conftest import TENANT, two_rate_order

N = TENANT.count("\n")


def _order_file(tmp_path: Path, **overrides) -> Path:
    path = tmp_path / "order.json"
    path.write_text(two_rate_order(**overrides).model_dump_json(), encoding="utf-8")
    return path


def test_validate_ok_and_errors_with_positions(tmp_path, write):
    good = write(TENANT)
    out = run("mappings", "validate", str(good))
    assert out.returncode == 0, out.stderr
    assert "OK (shopify -> zohobooks, policy invoice" in out.stdout and "2 taxes" in out.stdout

    bad = write(TENANT + "shiping:\n  as: line\n", "bad.yaml")
    out = run("mappings", "validate", str(bad))
    assert out.returncode == 1
    assert (
        f"{bad}:{N + 1}:1: shiping: unknown key 'shiping' (did you mean 'shipping'?)" in out.stderr
    )


def test_validate_a_preset_by_name():
    out = run("mappings", "validate", "woocommerce-to-zohobooks")
    assert out.returncode == 0, out.stderr
    assert "woocommerce -> zohobooks" in out.stdout


def test_preview_shows_order_payloads_and_lookups(tmp_path, write):
    mapping = write(TENANT)
    order = _order_file(tmp_path)
    out = run("mappings", "preview", str(mapping), "--order", str(order), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["order"]["number"] == "#1001"
    create, payment = data["writes"]
    assert create["operation"] == "create_document" and payment["operation"] == "record_payment"
    invoice = create["draft"]
    assert invoice["custom_fields"] == {"cf_source_order_id": "5550001"}
    assert [(ln["description"], ln["tax_id"]) for ln in invoice["lines"]] == [
        ("Widget", "4600000000170940001"),
        ("Book", "4600000000170950001"),
        ("Standard", "4600000000170940001"),
    ]
    assert invoice["lines"][2]["item"]["target_id"] == "4600000000990010001"
    assert payment["draft"]["amount"] == "57.40"
    assert {
        "subject": "line L2",
        "table": "taxes",
        "key": "VAT 7% (0.07)",
        "value": "4600000000170950001",
        "via": "entry",
    } in data["lookups"]

    # the human view: both sides and the lookups table
    out = run("mappings", "preview", str(mapping), "--order", str(order))
    assert out.returncode == 0, out.stderr
    for text in (
        "canonical order",
        "target payloads",
        "lookups that fired",
        "VAT 7% (0.07)",
        "cf_source_order_id",
        "4600000000990010001",
    ):
        assert text in out.stdout


def test_preview_of_a_test_order_says_why_it_is_skipped(tmp_path, write):
    out = run(
        "mappings", "preview", str(write(TENANT)), "--order", str(_order_file(tmp_path, test=True))
    )
    assert out.returncode == 0, out.stderr
    assert "skipped: rule 'skip test orders' (order.test)" in out.stdout


def test_preview_sales_receipt_policy_and_needs_mapping(tmp_path, write):
    order = _order_file(tmp_path)
    out = run(
        "mappings",
        "preview",
        str(write(TENANT)),
        "--order",
        str(order),
        "--policy",
        "sales_receipt",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    (receipt,) = json.loads(out.stdout)["writes"]
    assert receipt["draft"]["kind"] == "sales_receipt"
    assert receipt["draft"]["payment_mode"] == "creditcard"

    out = run("mappings", "preview", "shopify-to-zohobooks", "--order", str(order))
    assert out.returncode == 1
    assert "needs_mapping tax:VAT 10% (0.10)" in out.stderr
