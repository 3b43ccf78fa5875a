"""Helpers for mapping tests: write YAML the way an integrator would, build canonical orders."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.canonical import Order
from ledgerbridge.mapping import MappingRuntime, load_mapping
from tests.canonical_factory import m, order_data

# The "Done when" tenant file: shipping as a line item, two tax rates, the source
# order id in a custom field, test orders skipped -- YAML only, over a preset.
TENANT = """\
extends: shopify-to-zohobooks
shipping:
  as: line
  item_id: "4600000000990010001"
lookups:
  taxes:
    entries:
      - {title: VAT 10%, rate: 0.10, tax_id: "4600000000170940001"}
      - {title: VAT 7%, rate: 0.07, tax_id: "4600000000170950001"}
  payment_methods:
    entries:
      shopify_payments: {payment_mode: creditcard, account_id: "4600000000003610001"}
      manual: {payment_mode: banktransfer, account_id: "4600000000003620001"}
"""


@pytest.fixture
def write(tmp_path: Path):
    def _write(text: str, name: str = "tenant.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def tenant(write) -> MappingRuntime:
    return load_mapping(write(TENANT))


def two_rate_order(**overrides: Any) -> Order:
    """Widget at VAT 10 %, book at VAT 7 %, shipping at VAT 10 %, paid by card.

    2 x 10.00 - 2.00 + 1.80 tax; 1 x 30.00 + 2.10 tax; shipping 5.00 + 0.50 = 57.40
    """
    data = order_data(
        lines=[
            {
                "line_id": "L1",
                "title": "Widget",
                "sku": "W-1",
                "quantity": 2,
                "unit_price": m("10.00"),
                "discount": m("2.00"),
                "taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m("1.80")}],
            },
            {
                "line_id": "L2",
                "title": "Book",
                "sku": "B-1",
                "quantity": 1,
                "unit_price": m("30.00"),
                "taxes": [{"title": "VAT 7%", "rate": "0.07", "amount": m("2.10")}],
            },
        ],
        totals={"total": m("57.40")},
        email="Ann@Example.com",
        customer={
            "source": {"platform": "shopify", "store": "acme", "external_id": "9001"},
            "email": "ann@example.com",
            "first_name": "Ann",
            "last_name": "Lee",
        },
        payments=[
            {
                "external_id": "T1",
                "kind": "sale",
                "status": "success",
                "amount": m("57.40"),
                "gateway": "shopify_payments",
            }
        ],
    )
    data["source"] = {
        "platform": "shopify",
        "store": "acme",
        "external_id": "5550001",
        "version": "3",
    }
    data.update(overrides)
    return Order.model_validate(data)


def book_refund(money_back: bool = True, **extra: Any) -> dict[str, Any]:
    """A refund of ``two_rate_order``'s book and its shipping: 30.00 + 2.10 + 5.00 + 0.50 = 37.60,
    paid back by card unless ``money_back`` is false (store credit)."""
    transactions = [
        {
            "external_id": "RT1",
            "kind": "refund",
            "status": "success",
            "amount": m("37.60"),
            "gateway": "shopify_payments",
        }
    ]
    return {
        "source": {"platform": "shopify", "store": "acme", "external_id": "R7"},
        "lines": [
            {
                "line_id": "L2",
                "quantity": 1,
                "subtotal": m("30.00"),
                "taxes": [{"title": "VAT 7%", "rate": "0.07", "amount": m("2.10")}],
            }
        ],
        "shipping": m("5.00"),
        "shipping_taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m("0.50")}],
        "transactions": transactions if money_back else [],
        **extra,
    }
