"""TinyShop JSON -> a canonical Order: a pure function; what cannot be mapped raises, and the
kit's guard parks that one order with the reason and the field (nothing here catches)."""

from decimal import ROUND_HALF_UP, Decimal

from ledgerbridge.canonical import Order
from ledgerbridge.canonical.money import parse_amount
from ledgerbridge.contracts.guard import objects
from ledgerbridge.contracts.readers import money, text


def to_order(raw: dict, store: str, context: dict | None = None) -> Order:
    at, currency = f"order {raw['id']}", raw["currency"]
    rate = parse_amount(raw["tax_rate"], f"{at}.tax_rate")  # one rate: items and shipping

    def taxes(net: Decimal) -> list[dict]:  # prices are before tax
        tax = money((net * rate).quantize(Decimal("0.01"), ROUND_HALF_UP), currency)
        return [{"title": f"Tax {rate * 100:g}%", "rate": rate, "amount": tax}]

    lines = []
    for i, item in enumerate(objects(raw["items"], f"{at}.items")):
        price = parse_amount(item["price"], f"{at}.items[{i}].price")
        lines.append(
            {
                "line_id": f"{raw['id']}-{i + 1}",
                "title": item["name"],
                "sku": text(item.get("sku")),
                "quantity": item["qty"],
                "unit_price": money(price, currency),
                "taxes": taxes(price * item["qty"]),
            }
        )
    shipping = parse_amount(raw["shipping"], f"{at}.shipping")
    shipped = {"title": "Shipping", "price": money(shipping, currency), "taxes": taxes(shipping)}
    ref = {"platform": "tinyshop", "store": store, "external_id": str(raw["id"])}
    data = {
        "source": {**ref, "version": raw["updated_at"]},
        "number": raw["number"],
        "currency": currency,
        "created_at": raw["created_at"],
        "updated_at": raw["updated_at"],
        "email": text(raw.get("email")),
        "lines": lines,
        "shipping_lines": [shipped] if shipping else [],
        "totals": {"total": money(parse_amount(raw["total"], f"{at}.total"), currency)},
        "financial_status": "paid" if raw.get("paid") else "pending",
    }
    return Order.model_validate(data, context=context)
