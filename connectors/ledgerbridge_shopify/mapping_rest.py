"""REST-shaped Shopify JSON (webhook bodies, the vendor fixtures) -> canonical objects.

Same rules as ``mapping_graphql`` (shop money, allocations as line discounts,
order-level taxes only where not attached), on the snake_case shape.  Amounts
are read from ``*_set.shop_money`` when present, otherwise from the plain
field -- which REST sometimes sends as a JSON number (refund line ``subtotal``);
parsed with ``parse_float=Decimal`` it stays exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
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

from .fulfilments import rest_fulfilments
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
    optional_id,
    order_level_taxes,
    payment_kind,
    payment_status,
    rate,
    sum_money,
    validate_order,
)


def utc_stamp(stamp: Any) -> str | None:
    """REST ``updated_at`` (with an offset) in GraphQL's ``updatedAt`` form (UTC, ``Z``), so
    the same change read through REST and through a GraphQL poll carries one version."""
    when = moment(stamp)
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def amount(obj: dict[str, Any], field: str, currency: str, where: str) -> Money:
    """``field_set.shop_money`` if the record has it, else ``field`` in the shop currency."""
    bag = obj.get(f"{field}_set")
    if bag and bag.get("shop_money"):
        shop = bag["shop_money"]
        return Money(
            amount=decimal(shop["amount"], f"{where}.{field}_set"), currency=shop["currency_code"]
        )
    if obj.get(field) is None:
        raise ValueError(f"{where}.{field} is missing")
    return Money(amount=decimal(obj[field], f"{where}.{field}"), currency=currency)


def _taxes(items: list[dict[str, Any]], currency: str, where: str) -> tuple[TaxLine, ...]:
    return tuple(
        TaxLine(
            title=t["title"],
            rate=rate(t.get("rate")),
            amount=amount(t, "price", currency, f"{where}.tax_lines[{i}]"),
        )
        for i, t in enumerate(items)
    )


def address(data: dict[str, Any] | None) -> Address | None:
    if not data:
        return None
    return Address(
        first_name=data.get("first_name"),
        last_name=data.get("last_name"),
        company=data.get("company"),
        line1=data.get("address1"),
        line2=data.get("address2") or None,
        city=data.get("city"),
        region=data.get("province"),
        region_code=data.get("province_code"),
        postal_code=data.get("zip"),
        country_code=data.get("country_code"),
        phone=data.get("phone"),
    )


def _allocations(
    items: list[dict[str, Any]],
    applications: list[dict[str, Any]],
    tally: DiscountTally,
    where: str,
) -> Money | None:
    amounts = []
    for i, alloc in enumerate(items):
        value = amount(alloc, "amount", tally.currency, f"{where}.discount_allocations[{i}]")
        index = int(alloc.get("discount_application_index", -1))
        app = applications[index] if 0 <= index < len(applications) else {}
        tally.add(
            index,
            value,
            app.get("code"),
            app.get("title") or app.get("description"),
            DISCOUNT_KIND.get(app.get("type", ""), "code"),
        )
        amounts.append(value)
    return sum_money(amounts, tally.currency)


def payment(data: dict[str, Any], currency: str, where: str) -> Payment:
    if data.get("amount_set") is None and data.get("currency") not in (None, currency):
        raise ValueError(
            f"{where}: amount is in {data['currency']} and no shop-currency amount_set is given"
        )
    return Payment(
        external_id=legacy_id(data["id"]),
        kind=payment_kind(data["kind"]),
        status=payment_status(data.get("status")),
        amount=amount(data, "amount", currency, where),
        gateway=data.get("gateway"),
        processed_at=moment(data.get("processed_at") or data.get("created_at")),
        parent_id=optional_id(data.get("parent_id")),
        reference=data.get("authorization"),
        test=bool(data.get("test", False)),
    )


def refund(data: dict[str, Any], store: str, currency: str, taxes_included: bool) -> Refund:
    rid = legacy_id(data["id"])
    where = f"refund {rid}"
    lines: list[RefundLine] = []
    for i, item in enumerate(data.get("refund_line_items") or []):
        at = f"{where}.refund_line_items[{i}]"
        line_item = item.get("line_item") or {}
        tax = amount(item, "total_tax", currency, at)
        item_taxes = line_item.get("tax_lines") or []
        taxes: tuple[TaxLine, ...] = ()
        if not tax.is_zero():
            if len(item_taxes) == 1:
                taxes = (
                    TaxLine(
                        title=item_taxes[0]["title"],
                        rate=rate(item_taxes[0].get("rate")),
                        amount=tax,
                    ),
                )
            else:
                taxes = (
                    TaxLine(title=" + ".join(t["title"] for t in item_taxes) or "Tax", amount=tax),
                )
        lines.append(
            RefundLine(
                line_id=optional_id(item.get("line_item_id") or line_item.get("id")),
                quantity=decimal(item["quantity"], f"{at}.quantity"),
                subtotal=amount(item, "subtotal", currency, at),
                taxes=taxes,
                sku=line_item.get("sku"),
                title=line_item.get("title"),
                restock=str(item.get("restock_type", "")).lower() in RESTOCKING,
                cancelled=str(item.get("restock_type", "")).lower() == "cancel",
            )
        )
    shipping_parts: list[Money] = []
    shipping_taxes: list[TaxLine] = []
    for i, ship in enumerate(data.get("refund_shipping_lines") or []):
        at = f"{where}.refund_shipping_lines[{i}]"
        shipping_parts.append(amount(ship, "subtotal_amount", currency, at))
        ship_tax = (
            amount(ship, "tax_amount", currency, at)
            if ship.get("tax_amount_set") or ship.get("tax_amount")
            else None
        )
        if ship_tax is not None and not ship_tax.is_zero():
            shipping_taxes.append(TaxLine(title="Shipping tax", amount=ship_tax))
    adjustments: list[Money] = []
    for i, adj in enumerate(data.get("order_adjustments") or []):
        at = f"{where}.order_adjustments[{i}]"
        # REST records what a refund gives back as a negative adjustment of the order.
        value = -(amount(adj, "amount", currency, at) + amount(adj, "tax_amount", currency, at))
        if adj.get("kind") == "shipping_refund":
            shipping_parts.append(value)
        else:
            adjustments.append(value)
    return Refund(
        source=SourceRef(
            platform=PLATFORM,
            store=store,
            external_id=rid,
            version=data.get("created_at"),
            updated_at=moment(data.get("created_at")),
        ),
        created_at=moment(data.get("created_at")),
        processed_at=moment(data.get("processed_at")),
        note=data.get("note"),
        lines=tuple(lines),
        shipping=sum_money(shipping_parts, currency),
        shipping_taxes=tuple(shipping_taxes),
        adjustment=sum_money(adjustments, currency),
        transactions=tuple(
            payment(t, currency, f"{where}.transactions[{i}]")
            for i, t in enumerate(data.get("transactions") or [])
        ),
        taxes_included=taxes_included,
        extra={
            "admin_graphql_api_id": data.get("admin_graphql_api_id"),
            "restock": data.get("restock"),
        },
    )


def order_data(data: dict[str, Any], store: str) -> dict[str, Any]:
    oid = legacy_id(data["id"])
    currency = data["currency"]
    applications = data.get("discount_applications") or []
    tally = DiscountTally(currency)
    lines: list[dict[str, Any]] = []
    for i, item in enumerate(data.get("line_items") or []):
        where = f"line_items[{i}]"
        exists = (
            item.get("product_exists", True) is not False and item.get("variant_id") is not None
        )
        lines.append(
            {
                "line_id": legacy_id(item["id"]),
                "title": item.get("title") or item.get("name") or item.get("sku") or "",
                "quantity": decimal(item["quantity"], f"{where}.quantity"),
                "unit_price": amount(item, "price", currency, where),
                "discount": _allocations(
                    item.get("discount_allocations") or [], applications, tally, where
                ),
                "taxes": _taxes(item.get("tax_lines") or [], currency, where),
                "sku": item.get("sku") or None,
                "product_id": optional_id(item.get("product_id")),
                "variant_id": optional_id(item.get("variant_id")),
                "taxable": bool(item.get("taxable", True)),
                "is_gift_card": bool(item.get("gift_card", False)),
                "product_exists": exists,
                "extra": {
                    "name": item.get("name"),
                    "variant_title": item.get("variant_title"),
                    "vendor": item.get("vendor"),
                    "properties": {p["name"]: p.get("value") for p in item.get("properties") or []},
                    "fulfillable_quantity": item.get("fulfillable_quantity"),
                },
            }
        )
    shipping_lines: list[dict[str, Any]] = []
    for i, ship in enumerate(data.get("shipping_lines") or []):
        where = f"shipping_lines[{i}]"
        shipping_lines.append(
            {
                "title": ship["title"],
                "code": ship.get("code"),
                "price": amount(ship, "price", currency, where),
                "discount": _allocations(
                    ship.get("discount_allocations") or [], applications, tally, where
                ),
                "taxes": _taxes(ship.get("tax_lines") or [], currency, where),
            }
        )
    attached = [t for line in lines for t in line["taxes"]] + [
        t for s in shipping_lines for t in s["taxes"]
    ]
    taxes_included = bool(data.get("taxes_included", False))
    fees = []
    tip = data.get("total_tip_received")
    if tip is not None and decimal(tip, "total_tip_received") != 0:
        fees.append(
            {
                "name": "Tip",
                "kind": "tip",
                "amount": Money(amount=decimal(tip, "total_tip_received"), currency=currency),
            }
        )
    duties = (data.get("original_total_duties_set") or {}).get("shop_money")
    if duties and not data.get("duties_included") and decimal(duties["amount"], "duties") != 0:
        fees.append(
            {
                "name": "Duties",
                "kind": "duty",
                "amount": Money(amount=decimal(duties["amount"], "duties"), currency=currency),
            }
        )
    totals: dict[str, Money] = {"total": amount(data, "total_price", currency, "order")}
    for key, field in (
        ("subtotal", "subtotal_price"),
        ("discounts", "total_discounts"),
        ("tax", "total_tax"),
    ):
        if data.get(field) is not None or data.get(f"{field}_set"):
            totals[key] = amount(data, field, currency, "order")
    if data.get("total_shipping_price_set"):
        totals["shipping"] = amount(data, "total_shipping_price", currency, "order")
    presentment = (data.get("total_price_set") or {}).get("presentment_money")
    customer = data.get("customer")
    if data.get("cancelled_at"):
        status = OrderStatus.CANCELLED
    elif data.get("closed_at"):
        status = OrderStatus.COMPLETED
    else:
        status = OrderStatus.OPEN
    return {
        "source": {
            "platform": PLATFORM,
            "store": store,
            "external_id": oid,
            "version": utc_stamp(data.get("updated_at")),
            "updated_at": moment(data.get("updated_at")),
        },
        "number": data.get("name") or str(data.get("order_number") or oid),
        "currency": currency,
        "presentment_currency": data.get("presentment_currency"),
        "presentment_total": Money(
            amount=decimal(presentment["amount"], "total_price_set"),
            currency=presentment["currency_code"],
        )
        if presentment
        else None,
        "taxes_included": taxes_included,
        "status": status,
        "financial_status": financial_status(data.get("financial_status")),
        "created_at": moment(data["created_at"]),
        "processed_at": moment(data.get("processed_at")),
        "updated_at": moment(data.get("updated_at")),
        "cancelled_at": moment(data.get("cancelled_at")),
        "cancel_reason": data.get("cancel_reason"),
        "email": data.get("email") or data.get("contact_email"),
        "customer": customer_from(customer, store) if customer else None,
        "billing_address": address(data.get("billing_address")),
        "shipping_address": address(data.get("shipping_address")),
        "lines": lines,
        "discounts": tally.discounts(),
        "tax_lines": order_level_taxes(
            _taxes(data.get("tax_lines") or [], currency, "order"), attached
        ),
        "shipping_lines": shipping_lines,
        "fees": fees,
        "totals": totals,
        "payments": [
            payment(t, currency, f"transactions[{i}]")
            for i, t in enumerate(data.get("transactions") or [])
        ],
        "refunds": [refund(r, store, currency, taxes_included) for r in data.get("refunds") or []],
        "fulfilments": rest_fulfilments(data),
        "payment_gateways": tuple(data.get("payment_gateway_names") or ()),
        "test": bool(data.get("test", False)),
        "tags": tuple(t.strip() for t in str(data.get("tags") or "").split(",") if t.strip()),
        "note": data.get("note"),
        "source_name": data.get("source_name"),
        "extra": {
            "admin_graphql_api_id": data.get("admin_graphql_api_id"),
            "note_attributes": {
                a["name"]: a.get("value") for a in data.get("note_attributes") or []
            },
            "discount_codes": [d.get("code") for d in data.get("discount_codes") or []],
            "gateway": data.get("gateway"),
            "order_number": data.get("order_number"),
        },
    }


def order(
    data: dict[str, Any],
    store: str,
    context: dict[str, Any] | None = None,
    status_map: Mapping[str, OrderStatus] | None = None,
) -> Order:
    """A canonical order from REST/webhook JSON (``status_map`` as in ``mapping_graphql``)."""
    ident = str(data.get("name") or data.get("id"))

    def fields() -> dict[str, Any]:
        out = order_data(data, store)
        state = (
            "cancelled"
            if data.get("cancelled_at")
            else "closed"
            if data.get("closed_at")
            else "open"
        )
        mapped = (status_map or {}).get(state)
        if mapped is not None:
            out["status"] = mapped
        return out

    return build("order", ident, lambda: validate_order(fields(), context))


def customer_from(data: dict[str, Any], store: str) -> Customer:
    return Customer(
        source=SourceRef(
            platform=PLATFORM,
            store=store,
            external_id=legacy_id(data["id"]),
            version=data.get("updated_at"),
            updated_at=moment(data.get("updated_at")),
        ),
        email=data.get("email"),
        first_name=data.get("first_name"),
        last_name=data.get("last_name"),
        phone=data.get("phone"),
        currency=data.get("currency"),
        billing_address=address(data.get("default_address")),
        tax_exempt=bool(data.get("tax_exempt", False)),
        extra={"tags": data.get("tags"), "state": data.get("state"), "note": data.get("note")},
    )


def customer(data: dict[str, Any], store: str) -> Customer:
    return build("customer", str(data.get("id")), lambda: customer_from(data, store))
