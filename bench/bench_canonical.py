"""Canonical model cost: how many orders per second can be validated and reconciled on one core.

Part of the engine's overhead budget (target for the whole engine: >= 2,000 orders/s on one core).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from figures import Figure

from ledgerbridge.canonical import Order


def _order_data(n: int) -> dict:
    def m(a: str) -> dict:
        return {"amount": a, "currency": "EUR"}

    return {
        "source": {"platform": "bench", "store": "s", "external_id": str(n), "version": "1"},
        "number": f"#{n}",
        "currency": "EUR",
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "lines": [
            {
                "line_id": f"{n}-{i}",
                "title": "Item",
                "sku": f"SKU-{i}",
                "quantity": 2,
                "unit_price": m("10.00"),
                "discount": m("1.00"),
                "taxes": [{"title": "VAT 19%", "rate": "0.19", "amount": m("3.61")}],
            }
            for i in range(5)
        ],
        "shipping_lines": [
            {
                "title": "DHL",
                "price": m("4.90"),
                "taxes": [{"title": "VAT 19%", "rate": "0.19", "amount": m("0.93")}],
            }
        ],
        "totals": {"total": m("118.88")},
    }


def run() -> list[Figure]:
    count = 5000
    data = [_order_data(n) for n in range(count)]
    start = time.perf_counter()
    for item in data:
        Order.model_validate(item)
    elapsed = time.perf_counter() - start
    return [
        Figure(
            "canonical",
            "orders validated + reconciled (5 lines each)",
            count / elapsed,
            "orders/s",
            ">= 2,000 for the whole engine",
        ),
    ]
