"""GraphQL Admin API objects (camelCase, ``MoneyBag``) -> canonical objects.

Pure functions: JSON in (parsed with ``parse_float=Decimal``), canonical out.
Connections are expected with every page already merged into ``nodes``
(``source.py`` follows nested ``pageInfo`` before mapping).  Amounts are taken
in shop money; an order paid in another currency also carries its presentment twin
(``Order.presentment``: the same mapping over the JSON read in presentment money).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerbridge.canonical import (
    Address,
    Customer,
    Money,
    Order,
    OrderStatus,
    Payment,
    Refund,
    RefundLine,
    SourceRef,
    TaxLine,
)
from ledgerbridge.errors import TotalsMismatch, ValidationFailed
from ledgerbridge.http import connection_items as nodes

from .edits import without_removed
from .fulfilments import fulfilments
from .mapping_common import (
    DISCOUNT_KIND,
    PLATFORM,
    RESTOCKING,
    DiscountTally,
    build,
    decimal,
    financial_status,
    legacy_id,
    moment,
    node_id,
    optional_id,
    order_level_taxes,
    payment_kind,
    payment_status,
    rate,
    source_ref,
    sum_money,
)


def shop_money(bag: dict[str, Any] | None, where: str, side: str = "shopMoney") -> Money:
    if not bag:
        raise ValueError(f"{where} is missing")
    m = bag[side]
    return Money(amount=decimal(m["amount"], where), currency=m["currencyCode"])


def _taxes(items: list[dict[str, Any]], where: str) -> tuple[TaxLine, ...]:
    return tuple(
        TaxLine(
            title=t["title"],
            rate=rate(t.get("rate")),
            amount=shop_money(t["priceSet"], f"{where}.taxLines[{i}]"),
        )
        for i, t in enumerate(items)
    )


ADDRESS = {"first_name": "firstName", "last_name": "lastName", "company": "company"}
ADDRESS |= {"line1": "address1", "city": "city", "region": "province", "phone": "phone"}
ADDRESS |= {"region_code": "provinceCode", "postal_code": "zip", "country_code": "countryCodeV2"}


def address(data: dict[str, Any] | None) -> Address | None:
    if not data:
        return None
    fields = {name: data.get(key) for name, key in ADDRESS.items()}
    return Address(**fields, line2=data.get("address2") or None)


def _allocations(items: list[dict[str, Any]], tally: DiscountTally, where: str) -> Money | None:
    amounts = []
    for i, alloc in enumerate(items):
        amount = shop_money(alloc["allocatedAmountSet"], f"{where}.discountAllocations[{i}]")
        app = alloc.get("discountApplication") or {}
        tally.add(
            int(app.get("index", -1)),
            amount,
            app.get("code"),
            app.get("title"),
            DISCOUNT_KIND.get(app.get("__typename", ""), "code"),
        )
        amounts.append(amount)
    return sum_money(amounts)


def payment(data: dict[str, Any], where: str) -> Payment:
    parent = data.get("parentTransaction") or {}
    return Payment(
        external_id=legacy_id(data["id"]),
        kind=payment_kind(data["kind"]),
        status=payment_status(data.get("status")),
        amount=shop_money(data["amountSet"], f"{where}.amountSet"),
        gateway=data.get("gateway"),
        processed_at=moment(data.get("processedAt")),
        parent_id=optional_id(parent.get("id")),
        reference=data.get("paymentId"),
        test=bool(data.get("test", False)),
    )


def _refunded(data: dict[str, Any]) -> str | None:
    """The refunded total Shopify states (kept as said, for the record)."""
    bag = data.get("totalRefundedSet")
    return str(shop_money(bag, "totalRefundedSet").amount) if bag else None


def _ref_id(node: dict[str, Any] | None) -> str | None:
    """The id of a linked product or variant (a deleted one is null)."""
    return optional_id((node or {}).get("legacyResourceId") or (node or {}).get("id"))


def _refund_line_taxes(line: dict[str, Any], amount: Money) -> tuple[TaxLine, ...]:
    if amount.is_zero():
        return ()
    item_taxes = (line.get("lineItem") or {}).get("taxLines") or []
    if len(item_taxes) == 1:
        return (
            TaxLine(
                title=item_taxes[0]["title"], rate=rate(item_taxes[0].get("rate")), amount=amount
            ),
        )
    title = " + ".join(t["title"] for t in item_taxes) or "Tax"
    return (TaxLine(title=title, amount=amount),)


def refund_data(
    data: dict[str, Any], store: str, currency: str, taxes_included: bool
) -> dict[str, Any]:
    """The canonical ``Refund`` fields for one GraphQL refund (not yet validated)."""
    rid = legacy_id(data["id"])
    where = f"refund {rid}"
    lines: list[RefundLine] = []
    for i, item in enumerate(nodes(data.get("refundLineItems"))):
        line_item = item.get("lineItem") or {}
        tax = shop_money(item["totalTaxSet"], f"{where}.refundLineItems[{i}].totalTaxSet")
        lines.append(
            RefundLine(
                line_id=optional_id(line_item.get("id")),
                quantity=decimal(item["quantity"], "quantity"),
                subtotal=shop_money(
                    item["subtotalSet"], f"{where}.refundLineItems[{i}].subtotalSet"
                ),
                taxes=_refund_line_taxes(item, tax),
                sku=line_item.get("sku"),
                title=line_item.get("title"),
                restock=str(item.get("restockType", "")).lower() in RESTOCKING,
                cancelled=str(item.get("restockType", "")).upper() == "CANCEL",
            )
        )
    shipping_items = nodes(data.get("refundShippingLines"))
    shipping = sum_money(
        shop_money(s["subtotalAmountSet"], f"{where}.refundShippingLines") for s in shipping_items
    )
    shipping_taxes = []
    for s in shipping_items:
        tax = shop_money(s["taxAmountSet"], f"{where}.refundShippingLines.taxAmountSet")
        if not tax.is_zero():
            ship_tax = ((s.get("shippingLine") or {}).get("taxLines") or [{}])[0]
            shipping_taxes.append(
                TaxLine(
                    title=ship_tax.get("title") or "Shipping tax",
                    rate=rate(ship_tax.get("rate")),
                    amount=tax,
                )
            )
    adjustments = nodes(data.get("orderAdjustments"))
    adjustment = sum_money(
        shop_money(a["amountSet"], f"{where}.orderAdjustments")
        + shop_money(a["taxAmountSet"], f"{where}.orderAdjustments")
        for a in adjustments
    )
    return dict(
        source=source_ref(store, rid, data.get("updatedAt")),
        created_at=moment(data.get("createdAt")),
        processed_at=moment(data.get("createdAt")),
        note=data.get("note"),
        lines=tuple(lines),
        shipping=shipping,
        shipping_taxes=tuple(shipping_taxes),
        adjustment=adjustment,
        transactions=tuple(
            payment(t, f"{where}.transactions[{i}]")
            for i, t in enumerate(nodes(data.get("transactions")))
        ),
        taxes_included=taxes_included,
        extra={
            "admin_graphql_api_id": data["id"],
            "total_refunded": _refunded(data),
            "adjustment_reasons": [a.get("reason") for a in adjustments],
        },
    )


STATES = {
    "cancelled": OrderStatus.CANCELLED,
    "closed": OrderStatus.COMPLETED,
    "open": OrderStatus.OPEN,
}


def order_state(data: dict[str, Any]) -> str:
    """Shopify's order state as the admin names it (the key of ``settings.status_map``)."""
    if data.get("cancelledAt"):
        return "cancelled"
    if data.get("closedAt"):
        return "closed"
    return "open"


def order_data(
    data: dict[str, Any], store: str, status_map: Mapping[str, OrderStatus] | None = None
) -> dict[str, Any]:
    """The canonical ``Order`` fields for one GraphQL order (not yet validated); ``status_map``
    (the connection's) overrides what an order state means."""
    oid = node_id(data)
    currency = data["currencyCode"]
    tally = DiscountTally()
    lines: list[dict[str, Any]] = []
    for i, item in enumerate(nodes(data.get("lineItems"))):
        where = f"lineItems[{i}]"
        variant = item.get("variant")
        product = item.get("product")
        lines.append(
            {
                "line_id": legacy_id(item["id"]),
                "title": item.get("title") or item.get("name") or item.get("sku") or "",
                "quantity": decimal(item["quantity"], f"{where}.quantity"),
                "unit_price": shop_money(
                    item["originalUnitPriceSet"], f"{where}.originalUnitPriceSet"
                ),
                "discount": _allocations(item.get("discountAllocations") or [], tally, where),
                "taxes": _taxes(item.get("taxLines") or [], where),
                "sku": item.get("sku") or None,
                "product_id": _ref_id(product),
                "variant_id": _ref_id(variant),
                "taxable": bool(item.get("taxable", True)),
                "is_gift_card": bool(item.get("isGiftCard", False)),
                "product_exists": variant is not None and product is not None,
                "extra": {
                    "name": item.get("name"),
                    "variant_title": item.get("variantTitle"),
                    "vendor": item.get("vendor"),
                    "current_quantity": item.get("currentQuantity"),
                },
            }
        )
    shipping_lines: list[dict[str, Any]] = []
    for i, ship in enumerate(nodes(data.get("shippingLines"))):
        if ship.get("isRemoved"):
            continue
        where = f"shippingLines[{i}]"
        shipping_lines.append(
            {
                "title": ship["title"],
                "code": ship.get("code"),
                "price": shop_money(ship["originalPriceSet"], f"{where}.originalPriceSet"),
                "discount": _allocations(ship.get("discountAllocations") or [], tally, where),
                "taxes": _taxes(ship.get("taxLines") or [], where),
            }
        )
    attached = [t for line in lines for t in line["taxes"]] + [
        t for s in shipping_lines for t in s["taxes"]
    ]
    # Units an order edit removed: taxes above count them (Order.taxLines does), the lines not.
    edited = (
        without_removed(x, i) for x, i in zip(lines, nodes(data.get("lineItems")), strict=True)
    )
    lines = [x for x in edited if x is not None]
    fees = []
    for name, kind, field, where, applies in (
        ("Tip", "tip", "totalTipReceivedSet", "totalTipReceivedSet", True),
        # duties charged on top of the subtotal (when included they already sit in line prices)
        ("Duties", "duty", "originalTotalDutiesSet", "duties", not data.get("dutiesIncluded")),
        ("Additional fees", "fee", "originalTotalAdditionalFeesSet", "additional fees", True),
    ):
        bag = data.get(field)
        if bag and applies and not (fee := shop_money(bag, where)).is_zero():
            fees.append({"name": name, "kind": kind, "amount": fee})
    taxes_included = bool(data.get("taxesIncluded", False))
    customer = data.get("customer")
    optional_totals = {
        key: shop_money(data[field], field)
        for key, field in (
            ("subtotal", "subtotalPriceSet"),
            ("discounts", "totalDiscountsSet"),
            ("shipping", "totalShippingPriceSet"),
            ("tax", "totalTaxSet"),
        )
        if data.get(field)
    }
    return {
        "source": {
            "platform": PLATFORM,
            "store": store,
            "external_id": oid,
            "version": data.get("updatedAt"),
            "updated_at": moment(data.get("updatedAt")),
        },
        "number": data["name"],
        "currency": currency,
        "presentment_currency": data.get("presentmentCurrencyCode"),
        "presentment_total": shop_money(bag, "presentmentMoney", "presentmentMoney")
        if (bag := data.get("totalPriceSet")) and bag.get("presentmentMoney")
        else None,
        "taxes_included": taxes_included,
        "status": (status_map or {}).get(order_state(data), STATES[order_state(data)]),
        "source_status": order_state(data),
        "financial_status": financial_status(data.get("displayFinancialStatus")),
        "created_at": moment(data["createdAt"]),
        "processed_at": moment(data.get("processedAt")),
        "updated_at": moment(data.get("updatedAt")),
        "cancelled_at": moment(data.get("cancelledAt")),
        "cancel_reason": (data.get("cancelReason") or "").lower() or None,
        "email": data.get("email"),
        "customer": _order_customer(customer, store, data) if customer else None,
        "billing_address": address(data.get("billingAddress")),
        "shipping_address": address(data.get("shippingAddress")),
        "lines": lines,
        "discounts": tally.discounts(),
        "tax_lines": order_level_taxes(_taxes(data.get("taxLines") or [], "taxLines"), attached),
        "shipping_lines": shipping_lines,
        "fees": fees,
        "totals": {"total": shop_money(data["totalPriceSet"], "totalPriceSet"), **optional_totals},
        "payments": [
            payment(t, f"transactions[{i}]") for i, t in enumerate(data.get("transactions") or [])
        ],
        "refunds": [
            Refund(**refund_data(r, store, currency, taxes_included))
            for r in data.get("refunds") or []
        ],
        "fulfilments": fulfilments(data),
        "payment_gateways": tuple(data.get("paymentGatewayNames") or ()),
        "test": bool(data.get("test", False)),
        "tags": tuple(data.get("tags") or ()),
        "note": data.get("note"),
        "source_name": data.get("sourceName"),
        "extra": {
            "admin_graphql_api_id": data.get("id"),
            "note_attributes": {
                a["key"]: a.get("value") for a in data.get("customAttributes") or []
            },
            "discount_codes": list(data.get("discountCodes") or []),
            "display_financial_status": data.get("displayFinancialStatus"),
            "total_refunded": _refunded(data),
        },
    }


def _order_customer(data: dict[str, Any], store: str, order: dict[str, Any]) -> Customer:
    return Customer(
        source=SourceRef(platform=PLATFORM, store=store, external_id=legacy_id(data["id"])),
        email=data.get("email") or order.get("email"),
        first_name=data.get("firstName"),
        last_name=data.get("lastName"),
        phone=data.get("phone"),
        billing_address=address(order.get("billingAddress")),
        shipping_address=address(order.get("shippingAddress")),
    )


def order(
    data: dict[str, Any],
    store: str,
    context: dict[str, Any] | None = None,
    status_map: Mapping[str, OrderStatus] | None = None,
) -> Order:
    """A canonical order; raises ``ValidationFailed``/``TotalsMismatch`` naming the order.

    ``status_map`` (the connection's) overrides what an order state means."""
    ident = str(data.get("name") or data.get("id"))
    shop = build(
        "order",
        ident,
        lambda: Order.model_validate(order_data(data, store, status_map), context=context),
    )
    paid_in = data.get("presentmentCurrencyCode")
    if not paid_in or paid_in == shop.currency:
        return shop
    try:
        twin = build(
            "order",
            ident,
            lambda: Order.model_validate(
                order_data(in_presentment(data, paid_in), store, status_map), context=context
            ),
        )
    except (ValidationFailed, TotalsMismatch) as exc:
        # Booked in shop money this order is whole; only a pipeline that books in the
        # presentment currency needs the twin, and it parks the order with this reason.
        problem = f"its {paid_in} amounts cannot be read: {exc}"
        return shop.model_copy(update={"extra": {**shop.extra, "presentment_problem": problem}})
    return shop.model_copy(update={"presentment": twin})


def in_presentment(data: Any, currency: str) -> Any:
    """The order JSON with every ``MoneyBag``'s ``shopMoney`` replaced by its
    ``presentmentMoney`` (and ``currencyCode`` by ``currency``): the same order stated in
    the customer's currency, for the same mapping to read (``Order.presentment``). A bag
    without presentment money keeps its shop money, which the canonical order then refuses
    (one currency per order) -- never a mix."""

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: swap(v) for k, v in value.items()}
            if "shopMoney" in value and value.get("presentmentMoney"):
                out["shopMoney"] = out["presentmentMoney"]
            return out
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    swapped = swap(data)
    swapped["currencyCode"] = currency
    return swapped
