"""Engine test fixtures: a tenant mapping over the Shopify preset, and order builders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.canonical import Order
from ledgerbridge.mapping import load_mapping

from ..canonical_factory import m, order_data

TENANT_MAPPING = """\
extends: shopify-to-zohobooks
lookups:
  taxes:
    entries:
      - {title: VAT 10%, rate: 0.10, tax_id: "4600000000170940001"}
      - {title: VAT 7%, rate: 0.07, tax_id: "4600000000170950001"}
  payment_methods:
    entries:
      shopify_payments: {payment_mode: creditcard, account_id: "4600000000003610001"}
"""


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "tenant-mapping.yaml"
    path.write_text(TENANT_MAPPING)
    return path


@pytest.fixture
def runtime(mapping_file: Path) -> Any:
    return load_mapping(mapping_file)


def order(version: str = "v1", **overrides: Any) -> Order:
    """The shared 25.30 order (tests/canonical_factory.py) as a Shopify order, paid by card."""
    data = order_data(
        source={"platform": "shopify", "store": "acme", "external_id": "1001", "version": version},
        email="ada@example.com",
        customer={
            "source": {"platform": "shopify", "store": "acme", "external_id": "77"},
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
        },
        payments=[
            {
                "external_id": "T1",
                "kind": "sale",
                "status": "success",
                "amount": m("25.30"),
                "gateway": "shopify_payments",
            }
        ],
        financial_status="paid",
    )
    data.update(overrides)
    return Order.model_validate(data)


def refund(refund_id: str = "R1", *, money_back: bool = True, qty: int = 1) -> dict[str, Any]:
    """Refund of one widget: 9.00 + 0.90 VAT."""
    data: dict[str, Any] = {
        "source": {"platform": "shopify", "store": "acme", "external_id": refund_id},
        "lines": [
            {
                "line_id": "L1",
                "quantity": qty,
                "subtotal": m(f"{9 * qty}.00"),
                "sku": "W-1",
                "taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m(f"{0.9 * qty:.2f}")}],
            }
        ],
        "transactions": [],
    }
    if money_back:
        data["transactions"] = [
            {
                "external_id": f"{refund_id}-T",
                "kind": "refund",
                "status": "success",
                "amount": m(f"{9.9 * qty:.2f}"),
                "gateway": "shopify_payments",
            }
        ]
    return data
