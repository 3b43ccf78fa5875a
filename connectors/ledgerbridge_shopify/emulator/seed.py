"""Deterministic, varied shop data in the GraphQL shape, generated on demand.

Order ``n`` is a pure function of (seed, n), so an emulator with 20,000 orders
holds only an index of (updatedAt, id) pairs and builds each order when it is
read.  Every seeded order adds up: its total equals lines - discounts +
shipping (+ taxes unless included), each refund's transactions equal its
lines + shipping (+ taxes), to the cent.

Variety, by order number: presentment currency differs (every 5th), tax-inclusive
prices (every 4th), discount codes allocated across lines (every 3rd), gift-card
purchases (every 11th), deleted variants (every 13th), cancellations with a voided
authorisation (every 17th), test orders (every 19th), partial refunds (every 7th,
with shipping refunded every 14th), authorise + capture (n % 3 == 1), import duties
(n % 23 == 6), and a
30-line fully refunded order (every 97th) that needs nested pagination.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ORDER_BASE = 5_000_000_000
CUSTOMER_BASE = 7_000_000_000
PRODUCT_BASE = 8_000_000_000
GATEWAYS = ("shopify_payments", "paypal", "manual")
TAXES = (
    ("State Tax", Decimal("0.06")),
    ("VAT", Decimal("0.2")),
    ("Sales Tax", Decimal("0.0825")),
    ("GST", Decimal("0.1")),
)
FX = {"EUR": Decimal("0.92"), "CAD": Decimal("1.36")}
FIRST_NAMES = ("Ada", "Bob", "Chen", "Dara", "Eve", "Femi", "Gus", "Hana")
LAST_NAMES = ("Norman", "Okafor", "Schmidt", "Tanaka", "Silva", "Dubois")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def fulfillment(
    ident: int, seq: int, when: datetime, lines: list[dict[str, Any]], quantities: Any = None
) -> dict[str, Any]:
    """A SUCCESS fulfilment of ``lines`` (all of each, or ``quantities[i]`` of line i).

    Shape: refdata shopify-graphql-schema 2025-01 ``Fulfillment`` (name ``#1001-F1``)."""
    items = []
    for i, line in enumerate(lines):
        qty = line["quantity"] if quantities is None else quantities[i]
        if qty:
            items.append({"id": gid("FulfillmentLineItem", ident * 100 + i), "quantity": qty,
                          "lineItem": line})  # fmt: skip
    return {
        "id": gid("Fulfillment", ident),
        "legacyResourceId": str(ident),
        "name": f"F{seq}",
        "status": "SUCCESS",
        "createdAt": iso(when),
        "updatedAt": iso(when),
        "totalQuantity": sum(int(i["quantity"]) for i in items),
        "fulfillmentLineItems": items,
    }


@dataclass(frozen=True)
class SeedConfig:
    orders: int = 200
    customers: int = 40
    products: int = 20
    seed: int = 7
    currency: str = "USD"
    span_days: int = 30
    old_orders: int = 2  # the first orders are older than 60 days (need read_all_orders)
    anchor: datetime | None = None


class Seeder:
    def __init__(self, config: SeedConfig) -> None:
        self.config = config
        self.anchor = (config.anchor or datetime.now(UTC)).replace(microsecond=0)
        self.start = self.anchor - timedelta(days=config.span_days)
        self.step = max(2, (config.span_days * 86400) // max(1, config.orders))

    # ------------------------------------------------------------------ timeline

    def order_updated(self, n: int) -> datetime:
        """Base change time of order ``n``: ascending, two orders share each second (ties)."""
        return self.start + timedelta(seconds=(n // 2) * self.step)

    def order_id(self, n: int) -> int:
        return ORDER_BASE + n

    def order_number(self, oid: int) -> int:
        return oid - ORDER_BASE

    def customer_updated(self, n: int) -> datetime:
        return self.start + timedelta(seconds=n * 3607)

    def product_updated(self, n: int) -> datetime:
        return self.start + timedelta(seconds=n * 7211)

    # ------------------------------------------------------------------ helpers

    def _bag(self, amount: Decimal, presentment: str, fx: Decimal) -> dict[str, Any]:
        return {
            "shopMoney": {"amount": str(cents(amount)), "currencyCode": self.config.currency},
            "presentmentMoney": {"amount": str(cents(amount * fx)), "currencyCode": presentment},
        }

    # ------------------------------------------------------------------ records

    def customer(self, n: int, updated: datetime | None = None) -> dict[str, Any]:
        rng = random.Random(self.config.seed * 7919 + n)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        cid = CUSTOMER_BASE + n
        return {
            "id": gid("Customer", cid),
            "legacyResourceId": str(cid),
            "email": f"{first.lower()}.{last.lower()}{n}@example.com",
            "firstName": first,
            "lastName": last,
            "phone": None,
            "note": None,
            "state": "ENABLED",
            "tags": ["vip"] if n % 5 == 0 else [],
            "taxExempt": n % 9 == 0,
            "createdAt": iso(self.start - timedelta(days=10)),
            "updatedAt": iso(updated or self.customer_updated(n)),
            "defaultAddress": self._address(rng, first, last),
        }

    def product(self, n: int, updated: datetime | None = None) -> dict[str, Any]:
        rng = random.Random(self.config.seed * 104729 + n)
        pid = PRODUCT_BASE + n
        variants = [
            {
                "id": gid("ProductVariant", pid * 10 + v),
                "legacyResourceId": str(pid * 10 + v),
                "sku": f"SKU-{n:04d}-{v}",
                "title": ("Small", "Medium", "Large")[v],
                "price": str(cents(Decimal(rng.randint(500, 20000)) / 100)),
                "taxable": True,
                "barcode": None,
                # its own generator: the seeded prices stay what they were
                "inventoryQuantity": random.Random(pid * 10 + v).randint(0, 40),
                "inventoryItem": {
                    "id": gid("InventoryItem", pid * 10 + v),
                    "tracked": True,
                    "inventoryLevels": [{"location": {"id": gid("Location", 1)}}],
                },
            }
            for v in range(1 + n % 3)
        ]
        return {
            "id": gid("Product", pid),
            "legacyResourceId": str(pid),
            "title": f"Product {n}",
            "productType": "Widgets",
            "vendor": "Acme",
            "status": "ACTIVE" if n % 6 else "ARCHIVED",
            "tags": [],
            "descriptionHtml": f"<p>Product {n} of the emulated shop</p>",
            "updatedAt": iso(updated or self.product_updated(n)),
            "variants": variants,
        }

    def _address(self, rng: random.Random, first: str, last: str) -> dict[str, Any]:
        return {
            "firstName": first,
            "lastName": last,
            "company": None,
            "address1": f"{rng.randint(1, 300)} Market Street",
            "address2": None,
            "city": "Louisville",
            "province": "Kentucky",
            "provinceCode": "KY",
            "zip": "40202",
            "countryCodeV2": "US",
            "phone": None,
        }

    def order(self, n: int, updated: datetime | None = None) -> dict[str, Any]:
        cfg = self.config
        rng = random.Random(cfg.seed * 1_000_003 + n)
        oid = self.order_id(n)
        shop = cfg.currency
        presentment, fx = (shop, Decimal(1))
        if n % 5 == 2:
            presentment = "EUR" if shop != "EUR" else "CAD"
            fx = FX[presentment]
        taxes_included = n % 4 == 3
        tax_title, tax_rate = TAXES[n % len(TAXES)]
        updated_at = updated or self.order_updated(n)
        created = updated_at - timedelta(minutes=rng.randint(0, 2 * 24 * 60))
        if n < cfg.old_orders:
            created = self.anchor - timedelta(days=90 + n)

        def bag(amount: Decimal) -> dict[str, Any]:
            return self._bag(amount, presentment, fx)

        def tax_of(net: Decimal) -> Decimal:
            if taxes_included:
                return cents(net - net / (1 + tax_rate))
            return cents(net * tax_rate)

        def tax_lines(amount: Decimal) -> list[dict[str, Any]]:
            if amount == 0:
                return []
            return [
                {
                    "title": tax_title,
                    "rate": tax_rate,
                    "ratePercentage": tax_rate * 100,
                    "priceSet": bag(amount),
                }
            ]

        line_count = 30 if n % 97 == 0 else rng.randint(1, 4)
        raw_lines = []
        for j in range(line_count):
            gift = n % 11 == 0 and j == 0
            price = (
                Decimal(rng.choice((25, 50)))
                if gift
                else cents(Decimal(rng.randint(500, 20000)) / 100)
            )
            raw_lines.append((j, price, rng.randint(1, 3), gift, n % 13 == 0 and j == 0))

        discount_total = Decimal("5.00") if n % 3 == 0 else Decimal(0)
        eligible = [r for r in raw_lines if not r[3]]
        gross_eligible = sum((r[1] * r[2] for r in eligible), Decimal(0))
        if gross_eligible < 10:
            discount_total = Decimal(0)
        code_app = {
            "__typename": "DiscountCodeApplication",
            "index": 0,
            "allocationMethod": "ACROSS",
            "targetType": "LINE_ITEM",
            "value": {"__typename": "MoneyV2", "amount": str(discount_total), "currencyCode": shop},
            "code": "SAVE5",
        }
        allocations: dict[int, Decimal] = {}
        remaining = discount_total
        for k, r in enumerate(eligible):
            share = (
                remaining
                if k == len(eligible) - 1
                else cents(discount_total * r[1] * r[2] / gross_eligible)
            )
            allocations[r[0]] = share
            remaining -= share

        line_items = []
        line_tax_total = Decimal(0)
        line_net: dict[int, tuple[Decimal, Decimal, int]] = {}
        for j, price, qty, gift, deleted in raw_lines:
            alloc = allocations.get(j, Decimal(0))
            net = price * qty - alloc
            tax = Decimal(0) if gift else tax_of(net)
            line_tax_total += tax
            line_net[j] = (net, tax, qty)
            lid = oid * 100 + j
            pid = PRODUCT_BASE + (n + j) % max(1, cfg.products)
            line_items.append(
                {
                    "id": gid("LineItem", lid),
                    "sku": "GIFT-CARD" if gift else f"SKU-{(n + j) % max(1, cfg.products):04d}-0",
                    "name": "Gift card"
                    if gift
                    else f"Product {(n + j) % max(1, cfg.products)} - Small",
                    "title": "Gift card" if gift else f"Product {(n + j) % max(1, cfg.products)}",
                    "variantTitle": None if gift else "Small",
                    "vendor": "Acme",
                    "quantity": qty,
                    "currentQuantity": qty,
                    "refundableQuantity": qty,
                    "isGiftCard": gift,
                    "taxable": not gift,
                    "requiresShipping": not gift,
                    "variant": None
                    if deleted
                    else {"id": gid("ProductVariant", pid * 10), "legacyResourceId": str(pid * 10)},
                    "product": None
                    if deleted
                    else {"id": gid("Product", pid), "legacyResourceId": str(pid)},
                    "originalUnitPriceSet": bag(price),
                    "totalDiscountSet": bag(alloc),
                    "discountAllocations": [
                        {"allocatedAmountSet": bag(alloc), "discountApplication": code_app}
                    ]
                    if alloc
                    else [],
                    "taxLines": tax_lines(tax),
                }
            )

        ship_price = Decimal(rng.choice(("0.00", "4.90", "9.99")))
        ship_tax = tax_of(ship_price)
        shipping = [
            {
                "id": gid("ShippingLine", oid * 10),
                "title": "Standard" if ship_price else "Free Shipping",
                "code": "STD" if ship_price else "FREE",
                "isRemoved": False,
                "originalPriceSet": bag(ship_price),
                "discountedPriceSet": bag(ship_price),
                "discountAllocations": [],
                "taxLines": tax_lines(ship_tax),
            }
        ]
        tax_total = line_tax_total + ship_tax
        gross = sum((p * q for _, p, q, _, _ in raw_lines), Decimal(0))
        subtotal = gross - discount_total
        duties = Decimal("3.50") if n % 23 == 6 else Decimal(0)  # an international order
        total = subtotal + ship_price + (Decimal(0) if taxes_included else tax_total) + duties
        gateway = GATEWAYS[n % len(GATEWAYS)]
        at = iso(created + timedelta(minutes=1))
        txn_base = oid * 100
        cancelled = n % 17 == 0
        transactions: list[dict[str, Any]] = []

        def txn(
            k: int, kind: str, amount: Decimal, parent: str | None = None, when: str = at
        ) -> dict[str, Any]:
            return {
                "id": gid("OrderTransaction", txn_base + k),
                "kind": kind,
                "status": "SUCCESS",
                "gateway": gateway,
                "processedAt": when,
                "test": n % 19 == 0,
                "paymentId": f"p{txn_base + k}",
                "amountSet": bag(amount),
                "parentTransaction": {"id": parent} if parent else None,
            }

        if cancelled:
            auth = txn(1, "AUTHORIZATION", total)
            transactions = [auth, txn(2, "VOID", total, auth["id"])]
        elif n % 3 == 1:
            auth = txn(1, "AUTHORIZATION", total)
            transactions = [auth, txn(2, "CAPTURE", total, auth["id"])]
        else:
            transactions = [txn(1, "SALE", total)]
        money_in = transactions[-1]["id"]

        refunds: list[dict[str, Any]] = []
        status = "VOIDED" if cancelled else "PAID"
        if not cancelled and (n % 7 == 0 or n % 97 == 0):
            full = n % 97 == 0
            refund_at = iso(created + timedelta(hours=5))
            refunded_lines = raw_lines if full else raw_lines[:1]
            rl_items = []
            credit = Decimal(0)
            for j, _price, qty, _gift, _deleted in refunded_lines:
                net, tax, line_qty = line_net[j]
                units = qty if full else 1
                sub = cents(net * units / line_qty)
                rtax = cents(tax * units / line_qty)
                credit += sub + (Decimal(0) if taxes_included else rtax)
                item = line_items[j]
                rl_items.append(
                    {
                        "id": gid("RefundLineItem", oid * 100 + j),
                        "quantity": units,
                        "restockType": "RETURN",
                        "lineItem": item,
                        "priceSet": item["originalUnitPriceSet"],
                        "subtotalSet": bag(sub),
                        "totalTaxSet": bag(rtax),
                    }
                )
                item["currentQuantity"] = line_qty - units
                item["refundableQuantity"] = line_qty - units
            ship_refunds = []
            if (full or n % 14 == 0) and ship_price:
                ship_refunds.append(
                    {
                        "id": gid("RefundShippingLine", oid * 10),
                        "shippingLine": shipping[0],
                        "subtotalAmountSet": bag(ship_price),
                        "taxAmountSet": bag(ship_tax),
                    }
                )
                credit += ship_price + (Decimal(0) if taxes_included else ship_tax)
            refund_txn = txn(9, "REFUND", credit, money_in, refund_at)
            refunds.append(
                {
                    "id": gid("Refund", oid * 10 + 1),
                    "legacyResourceId": str(oid * 10 + 1),
                    "createdAt": refund_at,
                    "updatedAt": refund_at,
                    "note": "returned" if not full else "order returned in full",
                    "totalRefundedSet": bag(credit),
                    "refundLineItems": rl_items,
                    "refundShippingLines": ship_refunds,
                    "orderAdjustments": [],
                    "transactions": [refund_txn],
                }
            )
            transactions.append(refund_txn)
            status = "REFUNDED" if credit == total else "PARTIALLY_REFUNDED"

        customer_n = n % max(1, cfg.customers)
        customer: dict[str, Any] | None = None if n % 6 == 5 else self.customer(customer_n)
        first = customer["firstName"] if customer else "Guest"
        last = customer["lastName"] if customer else str(n)
        refunded_total = sum(
            (Decimal(r["totalRefundedSet"]["shopMoney"]["amount"]) for r in refunds), Decimal(0)
        )
        cancelled_at = iso(created + timedelta(hours=2)) if cancelled else None
        return {
            "id": gid("Order", oid),
            "legacyResourceId": str(oid),
            "name": f"#{1000 + n}",
            "email": customer["email"] if customer else f"guest{n}@example.com",
            "note": None,
            "tags": ["wholesale"] if n % 10 == 0 else [],
            "sourceName": "pos" if n % 8 == 0 else "web",
            "createdAt": iso(created),
            "processedAt": iso(created),
            "updatedAt": iso(updated_at),
            "closedAt": cancelled_at,
            "cancelledAt": cancelled_at,
            "cancelReason": "CUSTOMER" if cancelled else None,
            "test": n % 19 == 0,
            "currencyCode": shop,
            "presentmentCurrencyCode": presentment,
            "taxesIncluded": taxes_included,
            "displayFinancialStatus": status,
            "paymentGatewayNames": [gateway],
            "discountCodes": ["SAVE5"] if discount_total else [],
            "customAttributes": [{"key": "gift_message", "value": "Enjoy"}] if n % 9 == 0 else [],
            "subtotalPriceSet": bag(subtotal),
            "totalPriceSet": bag(total),
            "totalTaxSet": bag(tax_total),
            "totalDiscountsSet": bag(discount_total),
            "totalShippingPriceSet": bag(ship_price),
            "totalRefundedSet": bag(refunded_total),
            "totalTipReceivedSet": bag(Decimal(0)),
            "originalTotalDutiesSet": bag(duties) if duties else None,
            "originalTotalAdditionalFeesSet": None,
            "dutiesIncluded": False,
            "taxLines": tax_lines(tax_total),
            "customer": customer,
            "billingAddress": self._address(rng, first, last),
            "shippingAddress": self._address(rng, first, last),
            "discountApplications": [code_app] if discount_total else [],
            "lineItems": line_items,
            "shippingLines": shipping,
            "transactions": transactions,
            "refunds": refunds,
            "fulfillments": self._fulfillments(n, oid, line_items, created, cancelled),
        }

    @staticmethod
    def _fulfillments(
        n: int, oid: int, line_items: list[dict[str, Any]], created: datetime, cancelled: bool
    ) -> list[dict[str, Any]]:
        """One shipment of every line, a day after the order -- except cancelled orders,
        every fifth order (n % 5 == 4: not shipped yet) and the 30-line ones."""
        if cancelled or n % 5 == 4 or len(line_items) > 10:
            return []
        return [fulfillment(oid * 10 + 1, 1, created + timedelta(days=1), line_items)]
