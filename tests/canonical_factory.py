"""Small builders for canonical orders used across tests (not fixtures of any platform)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import Money, SourceRef


def m(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def order_data(**overrides: Any) -> dict[str, Any]:
    """An order that adds up: 2 x 10.00 - 2.00 discount + 5.00 shipping + 1.80 + 0.50 tax = 25.30."""
    data: dict[str, Any] = {
        "source": {"platform": "test", "store": "s1", "external_id": "1001", "version": "v1"},
        "number": "#1001",
        "currency": "USD",
        "created_at": datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
        "lines": [
            {
                "line_id": "L1",
                "title": "Widget",
                "sku": "W-1",
                "quantity": 2,
                "unit_price": m("10.00"),
                "discount": m("2.00"),
                "taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m("1.80")}],
            }
        ],
        "shipping_lines": [
            {
                "title": "Standard",
                "price": m("5.00"),
                "taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m("0.50")}],
            }
        ],
        "totals": {"total": m("25.30")},
    }
    data.update(overrides)
    return data


def source_ref(external_id: str = "1001") -> SourceRef:
    return SourceRef(platform="test", store="s1", external_id=external_id)


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")
