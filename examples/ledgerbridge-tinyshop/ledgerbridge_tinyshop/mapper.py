"""TinyShop JSON -> canonical objects. Pure functions: no I/O, no state.

TinyShop states amounts as decimal strings, prices before tax, one tax rate per
order applied to items and shipping.  A record that cannot be mapped raises -- a missing
key, a bad number, an order that does not add up -- and the core guard the source maps under
(``mapped``/``guarded``) parks it with the reason and the field; nothing here catches.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerbridge.canonical import Money, Order

CENT = Decimal("0.01")


def to_order(raw: dict[str, Any], store: str, context: dict[str, Any] | None = None) -> Order:
    currency = raw["currency"]
    rate = Decimal(raw["tax_rate"])

    def money(value: Decimal) -> dict[str, str]:
        return {"amount": str(value), "currency": currency}

    def tax(net: Decimal) -> list[dict[str, Any]]:
        amount = (net * rate).quantize(CENT, ROUND_HALF_UP)
        return [{"title": f"Tax {rate * 100:g}%", "rate": str(rate), "amount": money(amount)}]

    lines = [
        {
            "line_id": f"{raw['id']}-{i}",
            "title": item["name"],
            "sku": item["sku"],
            "quantity": item["qty"],
            "unit_price": money(Decimal(item["price"])),
            "taxes": tax(Decimal(item["price"]) * item["qty"]),
        }
        for i, item in enumerate(raw["items"], start=1)
    ]
    shipping = Decimal(raw["shipping"])
    data = {
        "source": {
            "platform": "tinyshop",
            "store": store,
            "external_id": str(raw["id"]),
            "version": raw["updated_at"],
        },
        "number": raw["number"],
        "currency": currency,
        "created_at": raw["created_at"],
        "updated_at": raw["updated_at"],
        "email": raw.get("email"),
        "lines": lines,
        "shipping_lines": [{"title": "Shipping", "price": money(shipping), "taxes": tax(shipping)}]
        if shipping
        else [],
        "totals": {"total": money(Decimal(raw["total"]))},
        "financial_status": "paid" if raw.get("paid") else "pending",
    }
    return Order.model_validate(data, context=context)


def order_total(raw: dict[str, Any]) -> Money:
    return Money.of(raw["total"], raw["currency"])
