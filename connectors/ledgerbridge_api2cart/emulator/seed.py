"""Seeded, varied API2Cart data in the unified shape, one cart style per store.

Every seeded order adds up under its cart's totals semantics (the same ones
``mapper.CART_TOTALS`` encodes): ``generic`` (Shopify/WooCommerce style: subtotal before
discounts, line discounts allocated, both ``total`` and ``totals``),
``EtsyAPIv3`` (subtotal already net of the order discount) and ``AmazonSP``
(``totals`` null, taxes on lines).  Amounts are ``Decimal`` throughout.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
BASE_TIME = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)

STATUSES: dict[str, list[dict[str, str]]] = {
    "generic": [
        {"id": "pending", "name": "Pending"},
        {"id": "processing", "name": "Processing"},
        {"id": "completed", "name": "Completed"},
        {"id": "cancelled", "name": "Cancelled"},
        {"id": "refunded", "name": "Refunded"},
        {"id": "awaiting-pickup", "name": "Awaiting Pickup"},  # user-defined
    ],
    "EtsyAPIv3": [
        {"id": "paid", "name": "Paid"},
        {"id": "completed", "name": "Completed"},
        {"id": "canceled", "name": "Canceled"},
    ],
    "AmazonSP": [
        {"id": "Pending", "name": "Pending"},
        {"id": "Unshipped", "name": "Unshipped"},
        {"id": "Shipped", "name": "Shipped"},
        {"id": "Canceled", "name": "Canceled"},
    ],
}
USER_DEFINED = {"awaiting-pickup"}

CURRENCIES = {
    "USD": ("US Dollar", "$"),
    "EUR": ("Euro", "€"),
    "GBP": ("Pound Sterling", "£"),
}
FIRST = ["Robin", "Alex", "Sam", "Kim", "Jo", "Lee", "Pat", "Noor", "Ana", "Yuki"]
LAST = ["Brown", "Garcia", "Okafor", "Müller", "Rossi", "Tanaka", "Smith", "Dubois"]
PRODUCTS = [
    ("Compact Gadget", "GAD"),
    ("Premium Widget", "WID"),
    ("Ceramic Mug", "MUG"),
    ("Linen Scarf", "SCF"),
    ("Desk Lamp", "LMP"),
    ("Notebook A5", "NBK"),
]


def stamp(moment: datetime) -> dict[str, str]:
    return {"value": moment.strftime("%Y-%m-%dT%H:%M:%S%z"), "format": "Y-m-d\\TH:i:sO"}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


@dataclass
class StoreData:
    """Everything one store key sees."""

    cart_id: str
    currency: str
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    children: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    shipments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # order id ->
    transactions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # order id ->

    @property
    def style(self) -> str:
        return self.cart_id if self.cart_id in ("EtsyAPIv3", "AmazonSP") else "generic"

    @property
    def statuses(self) -> list[dict[str, str]]:
        return STATUSES[self.style]


def _address(rng: random.Random, kind: str, first: str, last: str) -> dict[str, Any]:
    return {
        "id": str(rng.randint(1, 9999)),
        "type": kind,
        "first_name": first,
        "last_name": last,
        "postcode": f"{rng.randint(10000, 99999)}",
        "address1": f"{rng.randint(1, 999)} Example St",
        "address2": "",
        "phone": "",
        "phone_mobile": "",
        "city": rng.choice(["Springfield", "Fairview", "Riverside"]),
        "country": {"code2": "US", "code3": "USA", "name": "United States of America"},
        "state": {"code": "NY", "name": "New York"},
        "company": None,
        "default": True,
        "tax_id": None,
    }


def _order(
    rng: random.Random,
    store: StoreData,
    number: int,
    modified: datetime,
    tax_rates: tuple[Decimal, ...],
) -> dict[str, Any]:
    style = store.style
    cur = store.currency
    first, last = rng.choice(FIRST), rng.choice(LAST)
    created = modified - timedelta(hours=rng.randint(1, 72))
    rate = Decimal("0") if style == "EtsyAPIv3" else rng.choice(tax_rates)
    lines: list[dict[str, Any]] = []
    line_discounts = Decimal(0)
    line_taxes = Decimal(0)
    for index in range(rng.randint(1, 3)):
        title, code = rng.choice(PRODUCTS)
        price = Decimal(rng.randint(500, 20000)) / 100
        qty = rng.randint(1, 3)
        gross = price * qty
        discount = (
            money(gross * Decimal("0.1")) if style == "generic" and rng.random() < 0.4 else None
        )
        tax = money((gross - (discount or 0)) * rate) if rate else None
        line_discounts += discount or 0
        line_taxes += tax or 0
        lines.append(
            {
                "product_id": f"{code}-{index}",
                "order_product_id": f"{number}{index:02d}",
                "model": "" if style == "EtsyAPIv3" else f"{code}-{100 + index}",
                "name": f"{title} {rng.randint(1, 400)}",
                "price": price,
                "price_inc_tax": price + money(price * rate) if rate else None,
                "quantity": Decimal(qty),
                "discount_amount": discount if discount is not None else Decimal(0),
                "total_price": gross,
                "tax_percent": rate * 100 if rate else None,
                "tax_value": tax,
                "tax_value_after_discount": tax,
                "options": [],
                "variant_id": None,
                "weight_unit": "lb",
                "weight": Decimal("0.24030386558"),
                "barcode": None,
                "parent_order_product_id": None,
            }
        )
    gross_total = sum((ln["price"] * ln["quantity"] for ln in lines), Decimal(0))
    shipping = Decimal(rng.choice([0, 499, 650, 1999])) / 100
    shipping_tax = money(shipping * rate) if rate and style == "generic" else Decimal(0)
    order_discount = Decimal(0)
    discounts: list[dict[str, Any]] = []
    if style == "EtsyAPIv3" and rng.random() < 0.6:
        order_discount = money(gross_total * Decimal("0.1"))
    if style == "generic" and line_discounts:
        discounts.append({"code": "SPRING10", "value": line_discounts, "type": "percent"})
    if style == "generic" and not line_discounts and rng.random() < 0.3:
        order_discount = Decimal("5.00")
        discounts.append({"code": "WELCOME5", "value": order_discount, "type": "fixed"})
    total_discount = line_discounts + order_discount
    total_tax = line_taxes + shipping_tax
    total = gross_total - total_discount + shipping + total_tax
    subtotal = gross_total - order_discount if style == "EtsyAPIv3" else gross_total
    status = rng.choice([s["id"] for s in store.statuses])
    # Pending and cancelled orders were never paid (a cancellation here is never refunded):
    # their `total_paid` is 0 and Etsy's financial status says so (pending, or voided).
    paid = status.lower() not in ("pending", "cancelled", "canceled")
    unpaid_as = "pending" if status.lower() == "pending" else "voided"
    refunds: list[dict[str, Any]] = []
    refund_info = None
    if status == "refunded" or (status in ("completed", "Shipped") and rng.random() < 0.15):
        first_line = lines[0]
        refund_amount = first_line["price"]
        refund_tax = money(refund_amount * rate) if rate else Decimal(0)
        refunds.append(
            {
                "id": f"r{number}",
                "shipping": Decimal(0),
                "fee": Decimal(0),
                "tax": refund_tax,
                "total": refund_amount + refund_tax,
                "modified_time": stamp(modified),
                "comment": "Damaged in transit",
                "items": [
                    {
                        "product_id": first_line["product_id"],
                        "variant_id": None,
                        "order_product_id": first_line["order_product_id"],
                        "qty": Decimal(1),
                        "refund": refund_amount,
                    }
                ],
            }
        )
    order_id = str(1000 + number) if style != "AmazonSP" else f"111-{number:07d}-0194613"
    total_new = {
        "subtotal_ex_tax": subtotal,
        "wrapping_ex_tax": Decimal(0),
        "shipping_ex_tax": shipping,
        "total_discount": total_discount,
        "total_tax": total_tax,
        "total": total,
        "total_paid": total if paid else Decimal(0),
        "additional_fields": {
            "shipping_discount_ex_tax": Decimal(0),
            "subtotal_tax": line_taxes,
            "shipping_tax": shipping_tax,
        },
    }
    legacy = (
        None
        if style == "AmazonSP"
        else {
            "total": total,
            "subtotal": subtotal,
            "shipping": shipping,
            "tax": total_tax,
            "discount": total_discount,
        }
    )
    name, symbol = CURRENCIES[cur]
    customer_id = "" if style == "AmazonSP" else str(500 + number % 7)
    return {
        "id": order_id,
        "order_id": order_id,
        "basket_id": None,
        "channel_id": None,
        "customer": {
            "id": customer_id,
            "email": "" if style == "AmazonSP" else f"{first.lower()}.{number}@example.com",
            "first_name": first,
            "last_name": last,
            "phone": None,
        },
        "create_at": stamp(created),
        "currency": {
            "id": cur,
            "name": name,
            "iso3": cur,
            "symbol_left": symbol,
            "symbol_right": "",
            "rate": Decimal(1),
            "avail": True,
            "default": True,
        },
        "shipping_address": _address(rng, "shipping", first, last),
        "billing_address": None if style == "AmazonSP" else _address(rng, "billing", first, last),
        "payment_method": {"name": rng.choice(["cc", "PayPal", "Other"])},
        "shipping_method": {"name": "Standard" if shipping else "Free shipping"},
        "shipping_methods": [],
        "status": {
            "id": status,
            "name": next(s["name"] for s in store.statuses if s["id"] == status),
            "history": [],
            "refund_info": refund_info,
        },
        "totals": legacy,
        "total": total_new,
        "discounts": discounts,
        "order_products": lines,
        "bundles": [],
        "modified_at": stamp(modified),
        "finished_time": None,
        "comment": None,
        "store_id": "1",
        "warehouses_ids": [],
        "refunds": refunds,
        "gift_message": None,
        "order_details_url": None,
        "additional_fields": (
            {
                "financial_status": "paid" if paid else unpaid_as,
                "fulfillment_status": "delivered",
            }
            if style == "EtsyAPIv3"
            else {}
        ),
    }


def _customer(rng: random.Random, number: int, modified: datetime) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    guest = number % 4 == 3
    return {
        "id": str(500 + number),
        "email": f"{first.lower()}.{last.lower()}{number}@example.com",
        "first_name": first,
        "last_name": last,
        "phone": None,
        "company": rng.choice([None, "Acme Ltd"]),
        "created_time": stamp(modified - timedelta(days=3)),
        "modified_time": stamp(modified),
        "status": "enabled",
        "is_guest": guest,
        "group": [],
        "address_book": [_address(rng, "billing", first, last)],
    }


def _product(
    rng: random.Random, store: StoreData, number: int, modified: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    title, code = PRODUCTS[number % len(PRODUCTS)]
    product_id = str(7000 + number)
    price = Decimal(rng.randint(500, 9000)) / 100
    product = {
        "id": product_id,
        "type": "configurable" if number % 2 == 0 else "simple",
        "u_model": f"{code}-{number}",
        "u_sku": f"{code}-{number}",
        "name": f"{title} {number}",
        "price": price,
        "avail_sale": True,
        "u_brand": "Acme",
        "create_at": stamp(modified - timedelta(days=10)),
        "modified_at": stamp(modified),
    }
    children = []
    if number % 2 == 0:
        for size in ("S", "M", "L"):
            children.append(
                {
                    "id": f"{product_id}-{size}",
                    "parent_id": product_id,
                    "sku": f"{code}-{number}-{size}",
                    "name": f"{title} {number} / {size}",
                    "default_price": price,
                    "upc": None,
                    "ean": None,
                    "gtin": None,
                    "modified_time": stamp(modified),
                }
            )
    return product, children


def seed_store(
    cart_id: str,
    *,
    currency: str = "USD",
    orders: int = 25,
    customers: int = 12,
    products: int = 8,
    deleted: int = 2,
    seed: int = 1,
    tax_rates: tuple[Decimal, ...] = (Decimal("0.08"), Decimal("0.2")),
) -> StoreData:
    """A store with ``orders`` live orders, ``deleted`` deleted ones, customers and products.

    Modification times rise by a few minutes per order, and pairs share the same
    second, so a ``modified_from`` boundary falls on real ties.
    """
    rng = random.Random(f"{cart_id}:{seed}")
    store = StoreData(cart_id=cart_id, currency=currency)
    moment = BASE_TIME
    for number in range(1, orders + deleted + 1):
        if number % 3:
            moment += timedelta(minutes=rng.randint(1, 30))
        order = _order(rng, store, number, moment, tax_rates)
        (store.deleted if number > orders else store.orders)[order["order_id"]] = order
    for number in range(1, customers + 1):
        customer = _customer(rng, number, BASE_TIME + timedelta(minutes=7 * number))
        store.customers[customer["id"]] = customer
    for number in range(1, products + 1):
        product, children = _product(rng, store, number, BASE_TIME + timedelta(minutes=11 * number))
        store.products[product["id"]] = product
        for child in children:
            store.children[child["id"]] = child
    return store
