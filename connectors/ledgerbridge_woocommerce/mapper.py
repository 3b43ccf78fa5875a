"""WooCommerce order JSON -> canonical ``Order`` (pure; docs/connectors/woocommerce.md).

* Line, shipping and fee amounts are stored net of tax even when ``prices_include_tax``; such
  orders' canonical amounts are made gross (amount + its tax), so ``taxes_included`` holds.
* ``OrderLine.unit_price`` = ``subtotal / quantity`` (before discounts), ``discount`` =
  ``subtotal - total``; coupon lines are allocated discounts (their amounts sit in the lines).
* Taxes come from each ``taxes[]`` joined with ``tax_lines`` by rate id; what ``tax_lines``
  report beyond them stays an order-level tax, so nothing WooCommerce charged is lost.
* Core WooCommerce has no shipment object (platform facts ``woocommerce.md`` §4, §8.2): the
  merchant sets ``completed`` once the order is fulfilled, so a completed order is one
  shipment of the whole order, and anything else has shipped nothing.  Partial shipments,
  authorisations and gift cards live in plugins (docs/engine.md, "Posting triggers").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerbridge.canonical import (
    Customer,
    FeeLine,
    FinancialStatus,
    Fulfilment,
    FulfilmentStatus,
    Money,
    Order,
    OrderDiscount,
    OrderLine,
    OrderStatus,
    OrderTotals,
    ShippingLine,
    SourceRef,
    TaxLine,
)
from ledgerbridge.contracts.synthesized import paid_in_full
from ledgerbridge.contracts.vocabulary import Vocabulary

from .fields import (
    PLATFORM,
    MappingError,
    TaxRates,
    address,
    amount,
    gmt,
    gross,
    meta,
    printed,
    record,
    rows,
    text,
    version_of,
)
from .refunds import map_refund

UNIT_QUANTUM = Decimal("1e-8")

STATUSES = Vocabulary(
    {
        "pending": OrderStatus.PENDING,
        "processing": OrderStatus.OPEN,
        "on-hold": OrderStatus.ON_HOLD,
        "completed": OrderStatus.COMPLETED,
        "cancelled": OrderStatus.CANCELLED,
        "refunded": OrderStatus.COMPLETED,  # placed and fulfilled; the money side says refunded
        "failed": OrderStatus.FAILED,
        "trash": OrderStatus.DELETED,
        "checkout-draft": OrderStatus.DRAFT,
    }
)
"""Anything else (plugins add custom statuses) is UNKNOWN: the engine does not post it."""


def _line(
    item: dict[str, Any], i: int, currency: str, inclusive: bool, rates: TaxRates, where: str
) -> OrderLine:
    at = f"{where}.line_items[{i}]"
    quantity = amount(item.get("quantity"), f"{at}.quantity")
    if quantity == 0:
        raise MappingError(f"{at} (id {item.get('id')}) has quantity 0: no unit price")
    subtotal = gross(item, at, inclusive, "subtotal")
    discount = subtotal - gross(item, at, inclusive)
    unit = subtotal / quantity
    if unit * quantity != subtotal:
        # 10.00 / 3: no exact unit price exists. Eight decimals, and the sub-cent remainder
        # shows up as the order's explicit rounding_adjustment instead of a fake discount.
        unit = unit.quantize(UNIT_QUANTUM, ROUND_HALF_UP)
    variation = item.get("variation_id")
    line_meta = meta(item.get("meta_data"), f"{at}.meta_data")
    return OrderLine(
        line_id=str(item.get("id")),
        title=text(item.get("name"), f"{at}.name") or f"Product {item.get('product_id')}",
        quantity=quantity,
        unit_price=Money(amount=unit, currency=currency),
        discount=Money(amount=discount, currency=currency) if discount else None,
        taxes=rates.taxes(item.get("taxes"), currency, at),
        sku=text(item.get("sku"), f"{at}.sku"),
        product_id=str(item["product_id"]) if item.get("product_id") else None,
        variant_id=str(variation) if variation else None,
        taxable=bool(item.get("taxes")),
        product_exists=bool(item.get("product_id")),
        extra={"meta_data": line_meta, "tax_class": item.get("tax_class")},
    )


def _residual_taxes(
    data: dict[str, Any], attached: list[TaxLine], rates: TaxRates, currency: str, where: str
) -> tuple[TaxLine, ...]:
    """What ``tax_lines`` report beyond the taxes attached to lines, shipping and fees."""
    by_code: dict[str, Decimal] = {}
    for tax in attached:
        by_code[tax.code or ""] = by_code.get(tax.code or "", Decimal(0)) + tax.amount.amount
    result = []
    for i, line in enumerate(rows(data.get("tax_lines"), f"{where}.tax_lines")):
        at = f"{where}.tax_lines[{i}]"
        stated = amount(line.get("tax_total"), f"{at}.tax_total") + amount(
            line.get("shipping_tax_total"), f"{at}.shipping_tax_total"
        )
        code = text(line.get("rate_code"), f"{at}.rate_code") or str(line.get("rate_id"))
        residual = stated - by_code.pop(code, Decimal(0))
        if residual != 0:
            result.append(rates.tax(line.get("rate_id"), residual, currency))
    return tuple(result)


def _financial_status(
    data: dict[str, Any], paid: bool, total: Decimal, where: str
) -> FinancialStatus:
    status = data.get("status")
    refunded = sum(
        (
            abs(amount(r.get("total"), f"{where}.refunds[{i}].total"))
            for i, r in enumerate(rows(data.get("refunds"), f"{where}.refunds"))
        ),
        Decimal(0),
    )
    if not paid:
        return (
            FinancialStatus.VOIDED if status in ("cancelled", "failed") else FinancialStatus.PENDING
        )
    if status == "refunded" or (refunded and refunded >= total):
        return FinancialStatus.REFUNDED
    return FinancialStatus.PARTIALLY_REFUNDED if refunded else FinancialStatus.PAID


def customer_from_order(data: dict[str, Any], store: str) -> Customer:
    """The buyer as the order shows it; ``customer_id`` 0 is a guest known only by billing data."""
    where = f"order {data.get('id')}"
    billing = record(data.get("billing"), f"{where}.billing")
    email = text(billing.get("email"), f"{where}.billing.email")
    customer_id = data.get("customer_id") or 0
    guest = printed(customer_id, f"{where}.customer_id") == "0"
    if guest:
        external_id = f"guest:{email.lower()}" if email else f"guest:order-{data.get('id')}"
    else:
        external_id = str(customer_id)
    return Customer(
        source=SourceRef(platform=PLATFORM, store=store, external_id=external_id),
        email=email,
        first_name=text(billing.get("first_name"), f"{where}.billing.first_name"),
        last_name=text(billing.get("last_name"), f"{where}.billing.last_name"),
        company=text(billing.get("company"), f"{where}.billing.company"),
        phone=text(billing.get("phone"), f"{where}.billing.phone"),
        currency=text(data.get("currency"), f"{where}.currency"),
        billing_address=address(billing, where=f"{where}.billing"),
        shipping_address=address(data.get("shipping"), where=f"{where}.shipping"),
        is_guest=guest,
    )


def _fulfilments(data: dict[str, Any], order_id: str) -> tuple[Fulfilment, ...]:
    if data.get("status") != "completed":
        return ()
    when = gmt(data.get("date_completed_gmt"), f"order {order_id}.date_completed_gmt")
    shipped = FulfilmentStatus.SHIPPED
    return (
        Fulfilment(
            external_id=f"{order_id}:completed", status=shipped, created_at=when, whole_order=True
        ),
    )


def order_data(
    data: dict[str, Any],
    store: str,
    refunds: Iterable[dict[str, Any]] = (),
    status_map: Mapping[str, OrderStatus] | None = None,
) -> dict[str, Any]:
    """The keyword data of a canonical Order; ``status_map`` (the connection's) says what a
    status outside ``STATUSES`` -- a plugin's own, e.g. ``awaiting-shipment`` -- means."""
    order_id = data.get("id")
    where = f"order {order_id}"
    currency = text(data.get("currency"), f"{where}.currency")
    if currency is None:
        raise MappingError(f"{where}.currency is missing")
    inclusive = bool(data.get("prices_include_tax"))
    rates = TaxRates(rows(data.get("tax_lines"), f"{where}.tax_lines"), f"{where}.tax_lines")

    def money(value: Any, field: str) -> Money:
        return Money(amount=amount(value, f"{where}.{field}"), currency=currency)

    def each(key: str) -> list[tuple[dict[str, Any], str]]:
        """The rows of ``key`` with their paths (relative: the guard names a failure in the
        comprehension by this ``at``)."""
        return [(r, f"{key}[{i}]") for i, r in enumerate(rows(data.get(key), f"{where}.{key}"))]

    lines = tuple(
        _line(item, i, currency, inclusive, rates, where)
        for i, item in enumerate(rows(data.get("line_items"), f"{where}.line_items"))
    )
    shipping_lines = [
        ShippingLine(
            title=text(ship.get("method_title"), f"{where}.{at}.method_title") or "Shipping",
            price=Money(amount=gross(ship, f"{where}.{at}", inclusive), currency=currency),
            taxes=rates.taxes(ship.get("taxes"), currency, f"{where}.{at}"),
            code=text(ship.get("method_id"), f"{where}.{at}.method_id"),
        )
        for ship, at in each("shipping_lines")
    ]
    fees = [
        FeeLine(
            name=text(fee.get("name"), f"{where}.{at}.name") or "Fee",
            amount=Money(amount=gross(fee, f"{where}.{at}", inclusive), currency=currency),
            taxes=rates.taxes(fee.get("taxes"), currency, f"{where}.{at}"),
        )
        for fee, at in each("fee_lines")
    ]
    discounts = [
        OrderDiscount(
            amount=Money(
                amount=gross(coupon, f"{where}.{at}", inclusive, "discount"), currency=currency
            ),
            code=text(coupon.get("code"), f"{where}.{at}.code"),
            title=text(coupon.get("code"), f"{where}.{at}.code"),
            kind="code",
            allocated=True,
        )
        for coupon, at in each("coupon_lines")
    ]
    attached = [t for group in (lines, shipping_lines, fees) for row in group for t in row.taxes]
    grand_total = money(data.get("total"), "total")
    paid_at = gmt(data.get("date_paid_gmt"), f"{where}.date_paid_gmt")
    gateway = text(data.get("payment_method"), f"{where}.payment_method")
    payments = []
    if paid_at is not None and grand_total.amount != 0:
        reference = text(data.get("transaction_id"), f"{where}.transaction_id")
        payments.append(
            paid_in_full(
                str(order_id),
                grand_total,
                gateway=gateway,
                processed_at=paid_at,
                reference=reference,
            )
        )
    status_raw = printed(data.get("status") or "", f"{where}.status")
    status = STATUSES.meaning(status_raw, overrides=status_map, unknown=OrderStatus.UNKNOWN)
    modified = gmt(data.get("date_modified_gmt"), f"{where}.date_modified_gmt")
    created = gmt(data.get("date_created_gmt"), f"{where}.date_created_gmt")
    if created is None:
        raise MappingError(f"{where}.date_created_gmt is missing")
    billing = address(data.get("billing"), where=f"{where}.billing")
    return {
        "source": SourceRef(
            platform=PLATFORM,
            store=store,
            external_id=str(order_id),
            version=version_of(data),
            updated_at=modified,
        ),
        "number": printed(data.get("number") or order_id, f"{where}.number"),
        "currency": currency,
        "taxes_included": inclusive,
        "status": status,
        "source_status": status_raw or None,
        "financial_status": _financial_status(
            data, paid_at is not None or bool(data.get("refunds")), grand_total.amount, where
        ),
        "created_at": created,
        "processed_at": paid_at,
        "updated_at": modified,
        "cancelled_at": modified if status is OrderStatus.CANCELLED else None,
        "email": billing.email if billing else None,
        "customer": customer_from_order(data, store),
        "billing_address": billing,
        "shipping_address": address(data.get("shipping"), where=f"{where}.shipping"),
        "lines": lines,
        "discounts": tuple(discounts),
        "tax_lines": _residual_taxes(data, attached, rates, currency, where),
        "shipping_lines": tuple(shipping_lines),
        "fees": tuple(fees),
        "totals": OrderTotals(
            total=grand_total,
            discounts=money(data.get("discount_total") or "0", "discount_total"),
            shipping=money(data.get("shipping_total") or "0", "shipping_total"),
            tax=money(data.get("total_tax") or "0", "total_tax"),
        ),
        "payments": tuple(payments),
        "refunds": tuple(
            map_refund(r, data, store, currency=currency, inclusive=inclusive, rates=rates)
            for r in refunds
        ),
        "fulfilments": _fulfilments(data, str(order_id)),
        "payment_gateways": (gateway,) if gateway else (),
        "note": text(data.get("customer_note"), f"{where}.customer_note"),
        "source_name": text(data.get("created_via"), f"{where}.created_via"),
        "extra": {
            "status": status_raw,
            "meta_data": meta(data.get("meta_data"), f"{where}.meta_data"),
            "order_key": data.get("order_key"),
            "customer_id": str(data.get("customer_id") or 0),
            "parent_id": printed(data.get("parent_id") or 0, f"{where}.parent_id"),
            "payment_method_title": data.get("payment_method_title"),
            "transaction_id": data.get("transaction_id"),
            "date_completed_gmt": data.get("date_completed_gmt"),
        },
    }


def map_order(
    data: dict[str, Any],
    store: str,
    refunds: Iterable[dict[str, Any]] = (),
    *,
    context: dict[str, Any] | None = None,
    status_map: Mapping[str, OrderStatus] | None = None,
) -> Order:
    """A canonical Order; whatever cannot be read raises, and the core guard (``mapped``,
    ``guarded``) parks the order naming the field."""
    return Order.model_validate(order_data(data, store, refunds, status_map), context=context)
