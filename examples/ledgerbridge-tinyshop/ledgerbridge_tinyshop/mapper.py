"""TinyShop JSON -> a canonical Order: a pure function, no I/O, no state.

Amounts are decimal strings, prices before tax, one tax rate per order on items and shipping.
What cannot be mapped raises (a missing key, a bad amount, an order that does not add up) and
the kit's guard parks that one order with the reason and the field; nothing here catches.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerbridge.canonical import Order
from ledgerbridge.canonical.money import parse_amount
from ledgerbridge.contracts.guard import objects
from ledgerbridge.contracts.readers import money, text

CENT = Decimal("0.01")


def to_order(raw: dict[str, Any], store: str, context: dict[str, Any] | None = None) -> Order:
    at = f"order {raw['id']}"
    currency, rate = raw["currency"], parse_amount(raw["tax_rate"], f"{at}.tax_rate")

    def taxes(net: Decimal) -> list[dict[str, Any]]:
        amount = money((net * rate).quantize(CENT, ROUND_HALF_UP), currency)
        return [{"title": f"Tax {rate * 100:g}%", "rate": rate, "amount": amount}]

    lines = []
    for i, item in enumerate(objects(raw["items"], f"{at}.items"), start=1):
        price = parse_amount(item["price"], f"{at}.items[{i - 1}].price")
        lines.append(
            {
                "line_id": f"{raw['id']}-{i}",
                "title": item["name"],
                "sku": text(item.get("sku")),
                "quantity": item["qty"],
                "unit_price": money(price, currency),
                "taxes": taxes(price * item["qty"]),
            }
        )
    shipping = parse_amount(raw["shipping"], f"{at}.shipping")
    source = {"platform": "tinyshop", "store": store, "external_id": str(raw["id"])}
    data = {
        "source": {**source, "version": raw["updated_at"]},
        "number": raw["number"],
        "currency": currency,
        "created_at": raw["created_at"],
        "updated_at": raw["updated_at"],
        "email": text(raw.get("email")),
        "lines": lines,
        "shipping_lines": [
            {"title": "Shipping", "price": money(shipping, currency), "taxes": taxes(shipping)}
        ]
        if shipping
        else [],
        "totals": {"total": money(parse_amount(raw["total"], f"{at}.total"), currency)},
        "financial_status": "paid" if raw.get("paid") else "pending",
    }
    return Order.model_validate(data, context=context)
