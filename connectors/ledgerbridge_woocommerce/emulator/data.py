"""Seeded, varied store data shaped like WooCommerce's REST responses.

Every order is built the way WooCommerce computes it (line totals exclusive of
tax, taxes per rate, coupons spread over lines) so seeded orders always add
up; the variety covers what accounting cares about: coupons, positive and
negative fees, tax-inclusive and exclusive prices, tax-free orders, partial and
full refunds (with and without money moving), guest checkouts, cancellations,
failures, drafts, trash and a plugin's custom status.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
SITE_OFFSET = timedelta(hours=-3)  # site time zone of the docs' examples (UTC-3)
TAX_RATE_ID = 75
TAX_RATE = Decimal("0.10")
SITE = "https://example.com"
API = f"{SITE}/wp-json/wc/v3"


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, ROUND_HALF_UP))


def r2(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S")


def dates(name: str, moment: datetime | None) -> dict[str, str | None]:
    """``name`` in site-local time and ``name_gmt`` in UTC, as WooCommerce emits both."""
    local = None if moment is None else moment + SITE_OFFSET
    return {name: iso(local), f"{name}_gmt": iso(moment)}


def links(kind: str, rid: int, up: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "self": [{"href": f"{API}/{kind}/{rid}"}],
        "collection": [{"href": f"{API}/{kind}"}],
    }
    if up:
        result["up"] = [{"href": f"{API}/{up}"}]
    return result


PEOPLE = [
    ("John", "Doe", "San Francisco", "CA", "94103", "US"),
    ("Maria", "Rossi", "Austin", "TX", "73301", "US"),
    ("Chen", "Wei", "Seattle", "WA", "98101", "US"),
    ("Ana", "Souza", "Miami", "FL", "33101", "US"),
    ("Lars", "Berg", "Denver", "CO", "80201", "US"),
    ("Aiko", "Tanaka", "Portland", "OR", "97201", "US"),
]

PRODUCTS = [
    (93, "Woo Single #1", "", Decimal("3.00")),
    (87, "Woo Album #2", "WOO-ALB-2", Decimal("9.00")),
    (22, "Ship Your Idea", "", Decimal("12.00")),
    (40, "Premium Quality", "PQ-40", Decimal("21.99")),
    (53, "Happy Ninja", "NINJA-53", Decimal("35.00")),
    (56, "Patient Ninja", "NINJA-56", Decimal("7.49")),
]
VARIATIONS = {
    22: [(23, "Black", "Bar3", Decimal("12.00")), (24, "Green", "Bar4", Decimal("14.50"))]
}


def address(first: str, last: str, city: str, state: str, post: str, country: str, *,
            email: bool) -> dict[str, Any]:  # fmt: skip
    result: dict[str, Any] = {
        "first_name": first,
        "last_name": last,
        "company": "",
        "address_1": "969 Market",
        "address_2": "",
        "city": city,
        "state": state,
        "postcode": post,
        "country": country,
    }
    if email:
        result["email"] = f"{first.lower()}.{last.lower()}@example.com"
    result["phone"] = "(555) 555-5555"
    return result


@dataclass
class StoreData:
    """Everything the emulator serves, mutable so tests can change the store while it runs."""

    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    variations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    next_id: int = 1000

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


# --------------------------------------------------------------------------- customers, products


def customer(cid: int, person: tuple[str, ...], when: datetime) -> dict[str, Any]:
    first, last = person[0], person[1]
    billing = address(*person, email=True)
    return {
        "id": cid,
        **dates("date_created", when),
        **dates("date_modified", when + timedelta(minutes=2)),
        "email": billing["email"],
        "first_name": first,
        "last_name": last,
        "role": "customer",
        "username": f"{first.lower()}.{last.lower()}",
        "billing": billing,
        "shipping": address(*person, email=False),
        "is_paying_customer": True,
        "avatar_url": "https://secure.gravatar.com/avatar/0?s=96",
        "meta_data": [],
        "_links": links("customers", cid),
    }


def product(pid: int, name: str, sku: str, price: Decimal, when: datetime) -> dict[str, Any]:
    variable = pid in VARIATIONS
    return {
        "id": pid,
        "name": name,
        "slug": name.lower().replace(" ", "-").replace("#", ""),
        "permalink": f"{SITE}/product/{pid}/",
        **dates("date_created", when),
        **dates("date_modified", when),
        "type": "variable" if variable else "simple",
        "status": "publish",
        "featured": False,
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": sku,
        "price": money(price),
        "regular_price": "" if variable else money(price),
        "sale_price": "",
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_class": "",
        "shipping_class_id": 0,
        "price_html": f'<span class="amount">&#36;{money(price)}</span>',
        "on_sale": False,
        "purchasable": True,
        "total_sales": 0,
        "external_url": "",
        "button_text": "",
        "sold_individually": False,
        "shipping_required": True,
        "shipping_taxable": True,
        "reviews_allowed": True,
        "average_rating": "0.00",
        "rating_count": 0,
        "related_ids": [],
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": 0,
        "purchase_note": "",
        "default_attributes": [],
        "grouped_products": [],
        "menu_order": 0,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": False,
        "stock_quantity": None,
        "stock_status": "instock",
        "categories": [],
        "tags": [],
        "images": [],
        "attributes": [],
        "variations": [v[0] for v in VARIATIONS.get(pid, [])],
        "meta_data": [],
        "_links": links("products", pid),
    }


def variation(pid: int, vid: int, color: str, sku: str, price: Decimal,
              when: datetime) -> dict[str, Any]:  # fmt: skip
    return {
        "id": vid,
        **dates("date_created", when),
        **dates("date_modified", when),
        "description": "",
        "permalink": f"{SITE}/product/{pid}/?attribute_pa_color={color.lower()}",
        "sku": sku,
        "price": money(price),
        "regular_price": money(price),
        "sale_price": "",
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_class": "",
        "shipping_class_id": 0,
        "image": {
            "id": 423,
            **dates("date_created", when),
            **dates("date_modified", when),
            "src": f"{SITE}/wp-content/uploads/{vid}.jpg",
            "name": "",
            "alt": "",
        },
        "on_sale": False,
        "status": "publish",
        "purchasable": True,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": False,
        "stock_quantity": None,
        "stock_status": "instock",
        "attributes": [{"id": 6, "name": "Color", "option": color}],
        "menu_order": 0,
        "meta_data": [],
        "_links": links(f"products/{pid}/variations", vid, up=f"products/{pid}"),
    }


# --------------------------------------------------------------------------- orders


def tax_entries(tax: Decimal, subtotal_tax: Decimal | None = None) -> list[dict[str, Any]]:
    if tax == 0 and not subtotal_tax:
        return []
    sub = tax if subtotal_tax is None else subtotal_tax
    return [{"id": TAX_RATE_ID, "total": str(tax), "subtotal": str(sub)}]


@dataclass
class OrderSpec:
    """The choices that make one seeded order different from the next."""

    status: str = "processing"
    guest: bool = False
    inclusive: bool = False
    taxed: bool = True
    coupon: bool = False
    fee: Decimal | None = None
    shipping: Decimal | None = Decimal("10.00")
    items: list[tuple[int, int]] = field(default_factory=lambda: [(93, 2)])
    paid: bool = True
    refund: str | None = None  # None | "partial" | "amount" | "full"
    refund_moves_money: bool = True
    meta: dict[str, str] = field(default_factory=dict)


def _unit_price(pid: int, variation_id: int) -> tuple[str, str, Decimal]:
    for vid, color, sku, price in VARIATIONS.get(pid, []):
        if vid == variation_id:
            name = next(p[1] for p in PRODUCTS if p[0] == pid)
            return f"{name} - {color}", sku, price
    for p in PRODUCTS:
        if p[0] == pid:
            return p[1], p[2], p[3]
    raise KeyError(pid)


def build_order(
    store: StoreData, oid: int, spec: OrderSpec, created: datetime, customer_row: dict[str, Any]
) -> dict[str, Any]:
    """One order as WooCommerce would compute and return it."""
    line_items = []
    discount_total = discount_tax = cart_tax = Decimal(0)
    lines_total = Decimal(0)
    for pid, qty in spec.items:
        variation_id = VARIATIONS[pid][0][0] if pid in VARIATIONS else 0
        name, sku, unit = _unit_price(pid, variation_id)
        if spec.inclusive:  # catalogue prices include tax; WooCommerce stores them ex-tax
            gross = unit * qty
            subtotal = r2(gross / (1 + TAX_RATE)) if spec.taxed else gross
            subtotal_tax = gross - subtotal
        else:
            subtotal = unit * qty
            subtotal_tax = r2(subtotal * TAX_RATE) if spec.taxed else Decimal(0)
        total = subtotal - (r2(subtotal * Decimal("0.10")) if spec.coupon else 0)
        total_tax = r2(total * TAX_RATE) if spec.taxed else Decimal(0)
        if spec.taxed and spec.inclusive and not spec.coupon:
            total_tax = subtotal_tax
        discount_total += subtotal - total
        discount_tax += subtotal_tax - total_tax
        cart_tax += total_tax
        lines_total += total
        lid = store.new_id()
        line_items.append(
            {
                "id": lid,
                "name": name,
                "product_id": pid,
                "variation_id": variation_id,
                "quantity": qty,
                "tax_class": "",
                "subtotal": money(subtotal),
                "subtotal_tax": money(subtotal_tax),
                "total": money(total),
                "total_tax": money(total_tax),
                "taxes": tax_entries(total_tax, subtotal_tax) if spec.taxed else [],
                "meta_data": [],
                "sku": sku,
                "price": (total / qty).normalize(),
                "image": {"id": "", "src": ""},
                "parent_name": None,
            }
        )
    shipping_lines, shipping_total, shipping_tax = [], Decimal(0), Decimal(0)
    if spec.shipping is not None:
        shipping_total = spec.shipping
        shipping_tax = r2(shipping_total * TAX_RATE) if spec.taxed else Decimal(0)
        shipping_lines.append(
            {
                "id": store.new_id(),
                "method_title": "Flat Rate",
                "method_id": "flat_rate",
                "instance_id": "1",
                "total": money(shipping_total),
                "total_tax": money(shipping_tax),
                "taxes": tax_entries(shipping_tax),
                "meta_data": [],
            }
        )
    fee_lines, fees_total = [], Decimal(0)
    if spec.fee is not None:
        fee_tax = r2(spec.fee * TAX_RATE) if spec.taxed and spec.fee > 0 else Decimal(0)
        fees_total = spec.fee
        cart_tax += fee_tax
        fee_lines.append(
            {
                "id": store.new_id(),
                "name": "Handling fee" if spec.fee > 0 else "Manual discount",
                "tax_class": "",
                "tax_status": "taxable" if fee_tax else "none",
                "total": money(spec.fee),
                "total_tax": money(fee_tax),
                "taxes": tax_entries(fee_tax),
                "meta_data": [],
            }
        )
    coupon_lines = []
    if spec.coupon:
        coupon_lines.append(
            {
                "id": store.new_id(),
                "code": "save10",
                "discount": money(discount_total),
                "discount_tax": money(discount_tax),
                "meta_data": [],
            }
        )
    total_tax = cart_tax + shipping_tax
    grand_total = lines_total + shipping_total + fees_total + total_tax
    tax_lines = []
    if spec.taxed:
        tax_lines.append(
            {
                "id": store.new_id(),
                "rate_code": "US-CA-STATE TAX",
                "rate_id": TAX_RATE_ID,
                "label": "State Tax",
                "compound": False,
                "tax_total": money(cart_tax),
                "shipping_tax_total": money(shipping_tax),
                "rate_percent": 10,
                "meta_data": [],
            }
        )
    paid_at = created + timedelta(minutes=1) if spec.paid else None
    person = customer_row
    billing = dict(person["billing"])
    shipping = dict(person["shipping"])
    if spec.guest:
        billing["email"] = f"guest{oid}@example.net"
        billing["first_name"] = "Guest"
        billing["last_name"] = f"Buyer {oid}"
    modified = created + timedelta(minutes=5)
    order: dict[str, Any] = {
        "id": oid,
        "parent_id": 0,
        "number": str(oid),
        "order_key": f"wc_order_{oid:013x}",
        "created_via": "checkout",
        "version": "9.4.0",
        "status": spec.status,
        "currency": "USD",
        **dates("date_created", created),
        **dates("date_modified", modified),
        "discount_total": money(discount_total),
        "discount_tax": money(discount_tax),
        "shipping_total": money(shipping_total),
        "shipping_tax": money(shipping_tax),
        "cart_tax": money(cart_tax),
        "total": money(grand_total),
        "total_tax": money(total_tax),
        "prices_include_tax": spec.inclusive,
        "customer_id": 0 if spec.guest else person["id"],
        "customer_ip_address": "",
        "customer_user_agent": "",
        "customer_note": "",
        "billing": billing,
        "shipping": shipping,
        "payment_method": "stripe" if spec.paid else "bacs",
        "payment_method_title": "Credit card" if spec.paid else "Direct Bank Transfer",
        "transaction_id": f"ch_{oid:08d}" if spec.paid else "",
        **dates("date_paid", paid_at),
        **dates("date_completed", modified if spec.status == "completed" else None),
        "cart_hash": "",
        "meta_data": [{"id": store.new_id(), "key": k, "value": v} for k, v in spec.meta.items()],
        "line_items": line_items,
        "tax_lines": tax_lines,
        "shipping_lines": shipping_lines,
        "fee_lines": fee_lines,
        "coupon_lines": coupon_lines,
        "refunds": [],
        "payment_url": f"{SITE}/checkout/order-pay/{oid}/",
        "is_editable": spec.status in ("pending", "on-hold", "checkout-draft"),
        "needs_payment": not spec.paid and spec.status == "pending",
        "needs_processing": True,
        "_links": links("orders", oid),
    }
    order["shipping"]["phone"] = ""
    if spec.refund:
        add_refund(store, order, spec.refund, created + timedelta(days=1), spec.refund_moves_money)
    return order


def add_refund(
    store: StoreData,
    order: dict[str, Any],
    kind: str,
    when: datetime,
    moves_money: bool = True,
    amount: Decimal | None = None,
) -> dict[str, Any]:
    """Refund part ("partial": one unit of the first line with its tax; "amount": ``amount``,
    5.00 unless given, with no lines -- ``POST /orders/{id}/refunds`` takes an ``amount``
    alone, woocommerce.md §8.3) or all of an order ("full"), and bump the order as
    WooCommerce does."""
    rid = store.new_id()
    line_items: list[dict[str, Any]] = []
    inclusive = order["prices_include_tax"]
    if kind == "amount":
        value = amount if amount is not None else Decimal("5.00")
    elif kind == "partial":
        first = order["line_items"][0]
        qty = Decimal(first["quantity"])
        net = r2(Decimal(first["total"]) / qty)
        tax = r2(Decimal(first["total_tax"]) / qty)
        value = net + tax
        line_items.append(
            {
                "id": store.new_id(),
                "name": first["name"],
                "product_id": first["product_id"],
                "variation_id": first["variation_id"],
                "quantity": -1,
                "tax_class": "",
                "subtotal": money(-net),
                "subtotal_tax": money(-tax),
                "total": money(-net),
                "total_tax": money(-tax),
                "taxes": [{"id": TAX_RATE_ID, "total": money(-tax), "subtotal": money(-tax)}]
                if tax
                else [],
                "meta_data": [
                    {"id": store.new_id(), "key": "_refunded_item_id", "value": str(first["id"])}
                ],
                "sku": first["sku"],
                "price": -net,
            }
        )
    else:  # full
        already = sum(
            (Decimal(r["amount"]) for r in store.refunds.get(order["id"], [])), Decimal(0)
        )
        value = Decimal(order["total"]) - already
        order["status"] = "refunded"
    del inclusive
    refund = {
        "id": rid,
        **dates("date_created", when),
        "amount": money(value),
        "reason": {"partial": "Damaged item", "amount": "Goodwill", "full": "Order cancelled"}[
            kind
        ],
        "refunded_by": 1,
        "refunded_payment": moves_money,
        "meta_data": [],
        "line_items": line_items,
        "shipping_lines": [],
        "tax_lines": [],
        "fee_lines": [],
        "_links": links(f"orders/{order['id']}/refunds", rid, up=f"orders/{order['id']}"),
    }
    store.refunds.setdefault(order["id"], []).insert(0, refund)
    order["refunds"].insert(0, {"id": rid, "reason": refund["reason"], "total": money(-value)})
    order.update(dates("date_modified", when))
    return refund


SCENARIOS: list[OrderSpec] = [
    OrderSpec(),
    OrderSpec(status="completed", coupon=True, items=[(93, 2), (22, 1)]),
    OrderSpec(guest=True, items=[(40, 1)]),
    OrderSpec(inclusive=True, items=[(53, 1), (56, 3)]),
    OrderSpec(fee=Decimal("2.50"), items=[(87, 1)]),
    OrderSpec(fee=Decimal("-3.00"), taxed=False, items=[(53, 2)], status="completed"),
    OrderSpec(status="completed", refund="partial", items=[(87, 2), (93, 1)]),
    OrderSpec(status="completed", refund="amount", refund_moves_money=False),
    OrderSpec(status="completed", refund="full", items=[(40, 1)]),
    OrderSpec(status="cancelled", paid=False, guest=True),
    OrderSpec(status="failed", paid=False, items=[(56, 1)]),
    OrderSpec(status="on-hold", paid=False, items=[(22, 2)]),
    OrderSpec(status="pending", paid=False, shipping=None),
    OrderSpec(inclusive=True, coupon=True, items=[(40, 2)], guest=True),
    OrderSpec(status="checkout-draft", paid=False),
    OrderSpec(status="trash", paid=False),
    OrderSpec(status="awaiting-shipment", meta={"_shipment_carrier": "UPS"}),
    OrderSpec(taxed=False, shipping=Decimal("0.00"), items=[(56, 4)], meta={"_po": "PO-17"}),
]


def seed(orders: int = 36, seed_value: int = 7, start: datetime | None = None) -> StoreData:
    """A store with ``orders`` orders cycling through every scenario, a minute or more apart."""
    rng = random.Random(seed_value)
    start = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    store = StoreData()
    for i, person in enumerate(PEOPLE):
        cid = 25 + i
        store.customers[cid] = customer(cid, person, start - timedelta(days=30 - i))
    for pid, name, sku, price in PRODUCTS:
        store.products[pid] = product(pid, name, sku, price, start - timedelta(days=60 - pid % 7))
        store.variations[pid] = [
            variation(pid, vid, color, vsku, vprice, start - timedelta(days=59))
            for vid, color, vsku, vprice in VARIATIONS.get(pid, [])
        ]
    ids = sorted(store.customers)
    for n in range(orders):
        spec = SCENARIOS[n % len(SCENARIOS)]
        oid = store.new_id()
        created = start + timedelta(hours=n, minutes=rng.randint(0, 40))
        row = store.customers[ids[rng.randrange(len(ids))]]
        store.orders[oid] = build_order(store, oid, spec, created, row)
    return store
