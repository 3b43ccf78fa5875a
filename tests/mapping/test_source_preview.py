"""``mappings preview --source-id``: read the order through the source connection of the
config (the WooCommerce emulator on a loopback port), then show what the mapping writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledgerbridge.sandbox import FaultConfig, serve
from tests.test_cli import run

woo = pytest.importorskip("ledgerbridge_woocommerce.emulator")

TENANT_WOO = """\
extends: woocommerce-to-zohobooks
lookups:
  taxes:
    entries:
      - {title: State Tax, tax_id: "4600000000170940001"}
  payment_methods:
    entries:
      stripe: {payment_mode: creditcard, account_id: "4600000000003610001"}
"""


def test_preview_reads_the_order_through_the_source_connection(tmp_path: Path, write):
    store = woo.seed(orders=3)
    order_id, raw = next(iter(store.orders.items()))
    app = woo.create_app(store, woo.EmulatorConfig(), FaultConfig())
    with serve(app) as server:
        config = tmp_path / "ledgerbridge.yaml"
        config.write_text(
            "version: 1\ntenants:\n  - id: acme\n    connections:\n      shop:\n"
            "        platform: woocommerce\n"
            f"        settings: {{store_url: '{server.url}', allow_http: true}}\n"
            f"        secrets: {{consumer_key: '{woo.DEFAULT_KEY}', "
            f"consumer_secret: '{woo.DEFAULT_SECRET}'}}\n",
            encoding="utf-8",
        )
        out = run(
            "mappings", "preview", str(write(TENANT_WOO)), "--source-id", str(order_id),
            "--source", "shop", "-c", str(config), "--json",
        )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["order"]["source"]["external_id"] == str(order_id)
    invoice = data["writes"][0]["draft"]
    assert invoice["custom_fields"]["cf_source_order_id"] == str(order_id)
    assert (
        invoice["key"]["source_key"] == f"woocommerce:{data['order']['source']['store']}:{order_id}"
    )
    assert {ln["tax_id"] for ln in invoice["lines"]} == {"4600000000170940001"}
    payments = [w["draft"] for w in data["writes"] if w["operation"] == "record_payment"]
    assert [(p["amount"], p["payment_mode"]) for p in payments] == [
        (str(raw["total"]), "creditcard")
    ]


def test_preview_needs_exactly_one_way_to_get_the_order(write):
    out = run("mappings", "preview", str(write(TENANT_WOO)))
    assert out.returncode == 2
    assert "give --order FILE, or --source-id ID with --source NAME" in out.stderr
