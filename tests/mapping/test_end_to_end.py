"""A vendor's own example, end to end: WooCommerce JSON -> connector -> canonical ->
tenant mapping over the preset -> ``ledgerbridge mappings preview`` (real subprocess)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.conftest import refdata
from tests.test_cli import run

mapper = pytest.importorskip("ledgerbridge_woocommerce.mapper")

TENANT_WOO = """\
extends: woocommerce-to-zohobooks
document:
  notes: "Paid by {{ extra.payment_method_title }}"   # a template: no quotes needed
  custom_fields:
    cf_download_permissions: "extra.meta_data.get('_download_permissions_granted')"
lookups:
  taxes:
    entries:
      - {title: State Tax, tax_id: "4600000000170940001"}
  payment_methods:
    entries:
      bacs: {payment_mode: banktransfer, account_id: "4600000000003620001"}
refunds:
  adjustment_account_id: "4600000000004440001"
"""


def test_woocommerce_example_order_previews_through_the_preset(tmp_path, write):
    load = lambda name: json.loads(  # noqa: E731
        refdata("woocommerce-examples", name).read_text(encoding="utf-8"), parse_float=Decimal
    )
    order = mapper.map_order(
        load("order_retrieve.json"), "example.com", load("order_refunds_list.json")
    )
    order_file = tmp_path / "order.json"
    order_file.write_text(order.model_dump_json(), encoding="utf-8")
    mapping = write(TENANT_WOO)

    out = run("mappings", "preview", str(mapping), "--order", str(order_file), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    ops = [w["operation"] for w in data["writes"]]
    assert ops == ["create_document", "record_payment", "create_credit_note", "create_credit_note"]
    invoice = data["writes"][0]["draft"]
    assert invoice["key"] == {"reference": "727", "source_key": "woocommerce:example.com:727"}
    assert invoice["custom_fields"] == {
        "cf_source_order_id": "727",
        "cf_download_permissions": "yes",
    }
    assert invoice["notes"] == "Paid by Direct Bank Transfer"
    first, second = invoice["lines"]
    assert "item" not in first  # no SKU: a description line
    assert second["item"] == {"key": "item:sku:Bar3"}
    assert first["tax_id"] == second["tax_id"] == "4600000000170940001"
    assert invoice["shipping_charge"] == "10.00" and "shipping_tax_id" not in invoice
    payment = data["writes"][1]["draft"]
    assert (payment["amount"], payment["payment_mode"], payment["account_id"]) == (
        "29.35",
        "banktransfer",
        "4600000000003620001",
    )
    assert data["contact"]["link"]["key"] == "contact:email:john.doe@example.com"
    amount_only = data["writes"][2]["draft"]  # WooCommerce refund 726: 10.00, no lines
    assert "adjustment" not in amount_only
    assert [(ln["rate"], ln["account_id"]) for ln in amount_only["lines"]] == [
        ("10.00", "4600000000004440001")
    ]
    assert amount_only["key"]["source_key"] == "woocommerce:example.com:727:refund:726"
