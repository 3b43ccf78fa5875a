"""WooCommerce JSON -> canonical objects. Pure functions: no I/O, no state.

Conventions (see docs/connectors/woocommerce.md for the full table):

* WooCommerce stores line, shipping and fee amounts *excluding* tax even when
  ``prices_include_tax`` is true; for such orders the canonical amounts are
  made gross (amount + its tax) so that ``taxes_included`` reads correctly.
* ``OrderLine.unit_price`` = ``subtotal / quantity`` (before discounts) and
  ``OrderLine.discount`` = ``subtotal - total``; coupon lines are listed as
  allocated discounts (their amounts already sit in the lines).
* Line, shipping and fee taxes come from their ``taxes[]`` joined with
  ``tax_lines`` by rate id (title = label, code = rate_code).  What
  ``tax_lines`` report beyond the attached taxes stays as an order-level tax,
  so nothing WooCommerce charged is lost.
* Refund lines are negative in WooCommerce; canonical refund lines are
  positive and point at the original line via ``_refunded_item_id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import ValidationError

from ledgerbridge.canonical import (
    Address,
    Customer,
    FeeLine,
    FinancialStatus,
    Money,
    Order,
    OrderDiscount,
    OrderLine,
    OrderStatus,
    OrderTotals,
    Payment,
    PaymentKind,
    PaymentStatus,
    Product,
    ProductVariant,
    Refund,
    RefundLine,
    ShippingLine,
    SourceRef,
    TaxLine,
)
from ledgerbridge.canonical.money import parse_amount
from ledgerbridge.contracts.guard import objects, record_id
from ledgerbridge.errors import ValidationFailed

PLATFORM = "woocommerce"
UNIT_QUANTUM = Decimal("1e-8")

STATUSES: dict[str, OrderStatus] = {
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
"""Anything else (plugins add custom statuses) is UNKNOWN: the engine does not post it."""


class MappingError(ValueError):
    """A field that cannot be read; the message names the record and the field."""


# --------------------------------------------------------------------------- small readers


def amount(value: Any, where: str) -> Decimal:
    """A money/quantity value as Decimal: strings ("0.9"), ints and Decimals; never floats.

    WooCommerce writes an unset amount as ``""`` (zero); anything else goes through the
    core edge reader, which refuses non-finite, out-of-range and non-numeric values with
    a ``ValidationFailed`` naming ``where``.
    """
    if isinstance(value, str) and not value.strip():
        return Decimal(0)
    return parse_amount(value, where, platform=PLATFORM)


def rows(value: Any, where: str) -> list[dict[str, Any]]:
    """An array of objects (``line_items``, ``taxes`` ...), its shape checked at the edge."""
    return objects(value, where, platform=PLATFORM)


def optional_amount(value: Any, where: str) -> Decimal | None:
    if value is None or value == "":
        return None
    return amount(value, where)


def gmt(value: Any, where: str) -> datetime | None:
    """A ``*_gmt`` field (ISO 8601 without offset, UTC) as an aware datetime."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise MappingError(f"{where} is {value!r}, not an ISO 8601 date") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def text(value: Any) -> str | None:
    """Blank values are ``null`` or ``""`` in WooCommerce; both become None."""
    if value is None:
        return None
    result = str(value).strip()
    return result or None


def meta(items: Any) -> dict[str, Any]:
    """``meta_data[{id, key, value}]`` as ``{key: value}`` (the last of a repeated key wins)."""
    result: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, dict) and "key" in item:
            result[str(item["key"])] = item.get("value")
    return result


def address(data: Any) -> Address | None:
    if not isinstance(data, dict):
        return None
    result = Address(
        first_name=text(data.get("first_name")),
        last_name=text(data.get("last_name")),
        company=text(data.get("company")),
        line1=text(data.get("address_1")),
        line2=text(data.get("address_2")),
        city=text(data.get("city")),
        region_code=text(data.get("state")),
        postal_code=text(data.get("postcode")),
        country_code=text(data.get("country")),
        phone=text(data.get("phone")),
        email=text(data.get("email")),
    )
    return None if result == Address() else result


def version_of(order: Mapping[str, Any]) -> str:
    """The change marker: ``date_modified_gmt`` plus the refund ids the order lists, so a poll
    and a webhook of the same state agree, and a new refund is a new version."""
    stamp = order.get("date_modified_gmt") or order.get("date_created_gmt") or ""
    base = stamp if isinstance(stamp, str) else record_id(stamp)
    listed = order.get("refunds")
    listed = listed if isinstance(listed, list) else []
    refund_ids = sorted(record_id(r.get("id")) for r in listed if isinstance(r, dict))
    return f"{base};refunds={','.join(refund_ids)}" if refund_ids else base


# --------------------------------------------------------------------------- taxes


class TaxRates:
    """The order's ``tax_lines`` by rate id: what a bare ``taxes[{id, total}]`` entry means."""

    def __init__(self, tax_lines: Iterable[dict[str, Any]]) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        for line in tax_lines:
            rate_id = line.get("rate_id")
            if rate_id is not None:
                self.by_id[str(rate_id)] = line

    def tax(self, rate_id: Any, value: Decimal, currency: str) -> TaxLine:
        info = self.by_id.get(str(rate_id), {})
        percent = info.get("rate_percent")
        rate = None
        if isinstance(percent, int | Decimal) and not isinstance(percent, bool):
            rate = Decimal(percent) / 100
        return TaxLine(
            title=text(info.get("label")) or f"Tax rate {rate_id}",
            rate=rate,
            amount=Money(amount=value, currency=currency),
            code=text(info.get("rate_code")) or str(rate_id),
        )

    def taxes(
        self, entries: Any, currency: str, where: str, *, sign: int = 1
    ) -> tuple[TaxLine, ...]:
        """``taxes[{id, total, subtotal}]`` -> TaxLines of the ``total`` (after discounts)."""
        result = []
        for i, entry in enumerate(rows(entries, f"{where}.taxes")):
            value = amount(entry.get("total"), f"{where}.taxes[{i}].total") * sign
            if value != 0:
                result.append(self.tax(entry.get("id"), value, currency))
        return tuple(result)


# --------------------------------------------------------------------------- orders


def _line(
    item: dict[str, Any], i: int, currency: str, inclusive: bool, rates: TaxRates, where: str
) -> OrderLine:
    at = f"{where}.line_items[{i}]"
    quantity = amount(item.get("quantity"), f"{at}.quantity")
    if quantity == 0:
        raise MappingError(f"{at} (id {item.get('id')}) has quantity 0: no unit price")
    subtotal = amount(item.get("subtotal"), f"{at}.subtotal")
    line_total = amount(item.get("total"), f"{at}.total")
    if inclusive:
        subtotal += amount(item.get("subtotal_tax"), f"{at}.subtotal_tax")
        line_total += amount(item.get("total_tax"), f"{at}.total_tax")
    unit = subtotal / quantity
    if unit * quantity != subtotal:
        # 10.00 / 3: no exact unit price exists. Eight decimals, and the sub-cent remainder
        # shows up as the order's explicit rounding_adjustment instead of a fake discount.
        unit = unit.quantize(UNIT_QUANTUM, ROUND_HALF_UP)
    discount = subtotal - line_total
    variation = item.get("variation_id")
    line_meta = meta(item.get("meta_data"))
    return OrderLine(
        line_id=str(item.get("id")),
        title=text(item.get("name")) or f"Product {item.get('product_id')}",
        quantity=quantity,
        unit_price=Money(amount=unit, currency=currency),
        discount=Money(amount=discount, currency=currency) if discount else None,
        taxes=rates.taxes(item.get("taxes"), currency, at),
        sku=text(item.get("sku")),
        product_id=str(item["product_id"]) if item.get("product_id") else None,
        variant_id=str(variation) if variation else None,
        taxable=bool(item.get("taxes")),
        product_exists=bool(item.get("product_id")),
        extra={"meta_data": line_meta, "tax_class": item.get("tax_class")},
    )


def _residual_taxes(
    data: dict[str, Any], attached: list[TaxLine], rates: TaxRates, currency: str, where: str
) -> tuple[TaxLine, ...]:
    """Order-level taxes: what ``tax_lines`` report beyond the taxes attached to lines,
    shipping and fees (by rate), so nothing WooCommerce charged goes missing."""
    by_code: dict[str, Decimal] = {}
    for tax in attached:
        by_code[tax.code or ""] = by_code.get(tax.code or "", Decimal(0)) + tax.amount.amount
    result = []
    for i, line in enumerate(rows(data.get("tax_lines"), f"{where}.tax_lines")):
        at = f"{where}.tax_lines[{i}]"
        stated = amount(line.get("tax_total"), f"{at}.tax_total") + amount(
            line.get("shipping_tax_total"), f"{at}.shipping_tax_total"
        )
        code = text(line.get("rate_code")) or str(line.get("rate_id"))
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
            FinancialStatus.VOIDED
            if status in ("cancelled", "failed")
            else (FinancialStatus.PENDING)
        )
    if status == "refunded" or (refunded and refunded >= total):
        return FinancialStatus.REFUNDED
    if refunded:
        return FinancialStatus.PARTIALLY_REFUNDED
    return FinancialStatus.PAID


def customer_from_order(data: dict[str, Any], store: str) -> Customer:
    """The buyer as the order shows it; ``customer_id`` 0 is a guest known only by billing data."""
    billing = data.get("billing") or {}
    email = text(billing.get("email"))
    customer_id = data.get("customer_id") or 0
    guest = str(customer_id) == "0"
    if guest:
        external_id = f"guest:{email.lower()}" if email else f"guest:order-{data.get('id')}"
    else:
        external_id = str(customer_id)
    return Customer(
        source=SourceRef(platform=PLATFORM, store=store, external_id=external_id),
        email=email,
        first_name=text(billing.get("first_name")),
        last_name=text(billing.get("last_name")),
        company=text(billing.get("company")),
        phone=text(billing.get("phone")),
        currency=text(data.get("currency")),
        billing_address=address(billing),
        shipping_address=address(data.get("shipping")),
        is_guest=guest,
    )


def order_data(
    data: dict[str, Any],
    store: str,
    refunds: Iterable[dict[str, Any]] = (),
    status_map: Mapping[str, OrderStatus] | None = None,
) -> dict[str, Any]:
    """The keyword data of a canonical Order (validate it with ``Order.model_validate``).

    ``status_map`` (the connection's) names what a status outside ``STATUSES`` -- a
    plugin's own, e.g. ``awaiting-shipment`` -- means; it wins over the table."""
    order_id = data.get("id")
    where = f"order {order_id}"
    currency = text(data.get("currency"))
    if currency is None:
        raise MappingError(f"{where}.currency is missing")
    inclusive = bool(data.get("prices_include_tax"))
    rates = TaxRates(rows(data.get("tax_lines"), f"{where}.tax_lines"))

    def money(value: Any, field: str) -> Money:
        return Money(amount=amount(value, f"{where}.{field}"), currency=currency)

    lines = tuple(
        _line(item, i, currency, inclusive, rates, where)
        for i, item in enumerate(rows(data.get("line_items"), f"{where}.line_items"))
    )

    def gross(row: dict[str, Any], at: str) -> Decimal:
        """``total``, plus ``total_tax`` when prices include tax (WooCommerce stores them net)."""
        value = amount(row.get("total"), f"{where}.{at}.total")
        if inclusive:
            value += amount(row.get("total_tax"), f"{where}.{at}.total_tax")
        return value

    shipping_lines = []
    for i, ship in enumerate(rows(data.get("shipping_lines"), f"{where}.shipping_lines")):
        at = f"shipping_lines[{i}]"
        price = gross(ship, at)
        shipping_lines.append(
            ShippingLine(
                title=text(ship.get("method_title")) or "Shipping",
                price=Money(amount=price, currency=currency),
                taxes=rates.taxes(ship.get("taxes"), currency, f"{where}.{at}"),
                code=text(ship.get("method_id")),
            )
        )
    fees = []
    for i, fee in enumerate(rows(data.get("fee_lines"), f"{where}.fee_lines")):
        at = f"fee_lines[{i}]"
        value = gross(fee, at)
        fees.append(
            FeeLine(
                name=text(fee.get("name")) or "Fee",
                amount=Money(amount=value, currency=currency),
                taxes=rates.taxes(fee.get("taxes"), currency, f"{where}.{at}"),
            )
        )
    discounts = []
    for i, coupon in enumerate(rows(data.get("coupon_lines"), f"{where}.coupon_lines")):
        at = f"coupon_lines[{i}]"
        value = amount(coupon.get("discount"), f"{where}.{at}.discount")
        if inclusive:
            value += amount(coupon.get("discount_tax"), f"{where}.{at}.discount_tax")
        discounts.append(
            OrderDiscount(
                amount=Money(amount=value, currency=currency),
                code=text(coupon.get("code")),
                title=text(coupon.get("code")),
                kind="code",
                allocated=True,
            )
        )
    attached = (
        [t for line in lines for t in line.taxes]
        + [t for s in shipping_lines for t in s.taxes]
        + [t for f in fees for t in f.taxes]
    )
    grand_total = money(data.get("total"), "total")
    paid_at = gmt(data.get("date_paid_gmt"), f"{where}.date_paid_gmt")
    gateway = text(data.get("payment_method"))
    payments = []
    if paid_at is not None and grand_total.amount != 0:
        payments.append(
            Payment(
                external_id=f"{order_id}:paid",
                kind=PaymentKind.SALE,
                status=PaymentStatus.SUCCESS,
                amount=grand_total,
                gateway=gateway,
                processed_at=paid_at,
                reference=text(data.get("transaction_id")),
            )
        )
    status_raw = str(data.get("status") or "")
    status = (status_map or {}).get(status_raw) or STATUSES.get(status_raw, OrderStatus.UNKNOWN)
    modified = gmt(data.get("date_modified_gmt"), f"{where}.date_modified_gmt")
    created = gmt(data.get("date_created_gmt"), f"{where}.date_created_gmt")
    if created is None:
        raise MappingError(f"{where}.date_created_gmt is missing")
    billing = address(data.get("billing"))
    return {
        "source": SourceRef(
            platform=PLATFORM,
            store=store,
            external_id=str(order_id),
            version=version_of(data),
            updated_at=modified,
        ),
        "number": str(data.get("number") or order_id),
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
        "shipping_address": address(data.get("shipping")),
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
        "fulfilments": fulfilments(data, str(order_id)),
        "payment_gateways": (gateway,) if gateway else (),
        "note": text(data.get("customer_note")),
        "source_name": text(data.get("created_via")),
        "extra": {
            "status": status_raw,
            "meta_data": meta(data.get("meta_data")),
            "order_key": data.get("order_key"),
            "customer_id": str(data.get("customer_id") or 0),
            "parent_id": str(data.get("parent_id") or 0),
            "payment_method_title": data.get("payment_method_title"),
            "transaction_id": data.get("transaction_id"),
            "date_completed_gmt": data.get("date_completed_gmt"),
        },
    }


def fulfilments(data: dict[str, Any], order_id: str) -> Any:
    from .fulfilment import fulfilments as read  # it reads this module's ``gmt``

    return read(data, order_id)


def map_order(
    data: dict[str, Any],
    store: str,
    refunds: Iterable[dict[str, Any]] = (),
    *,
    context: dict[str, Any] | None = None,
    status_map: Mapping[str, OrderStatus] | None = None,
) -> Order:
    """A canonical Order, or ValidationFailed/TotalsMismatch naming the order and the field."""
    try:
        return Order.model_validate(order_data(data, store, refunds, status_map), context=context)
    except MappingError as exc:
        raise ValidationFailed(f"woocommerce: {exc}", platform=PLATFORM) from None
    except ValidationError as exc:
        raise ValidationFailed(
            f"woocommerce: order {data.get('id')} does not fit the canonical model: {exc}",
            platform=PLATFORM,
        ) from None


# --------------------------------------------------------------------------- refunds


def map_refund(
    data: dict[str, Any],
    order: dict[str, Any],
    store: str,
    *,
    currency: str,
    inclusive: bool,
    rates: TaxRates,
) -> Refund:
    """One refund of ``order``. Amounts are positive; ``amount`` is what WooCommerce credited.

    Lines, shipping and fees refunded are read when present; what ``amount`` holds
    beyond them (an amount-only refund, or an extra amount typed in) is the
    ``adjustment``.  A refund whose lines exceed its amount is left as it is, so
    ``discrepancies()`` reports it.
    """
    where = f"order {order.get('id')} refund {data.get('id')}"
    lines = []
    for i, item in enumerate(rows(data.get("line_items"), f"{where}.line_items")):
        at = f"{where}.line_items[{i}]"
        value = -amount(item.get("total"), f"{at}.total")
        if inclusive:
            value -= amount(item.get("total_tax"), f"{at}.total_tax")
        refunded_item = meta(item.get("meta_data")).get("_refunded_item_id")
        lines.append(
            RefundLine(
                line_id=str(refunded_item) if refunded_item not in (None, "") else None,
                quantity=abs(amount(item.get("quantity"), f"{at}.quantity")),
                subtotal=Money(amount=value, currency=currency),
                taxes=rates.taxes(item.get("taxes"), currency, at, sign=-1),
                sku=text(item.get("sku")),
                title=text(item.get("name")),
            )
        )
    shipping = Decimal(0)
    shipping_taxes: list[TaxLine] = []
    for i, ship in enumerate(rows(data.get("shipping_lines"), f"{where}.shipping_lines")):
        at = f"{where}.shipping_lines[{i}]"
        shipping -= amount(ship.get("total"), f"{at}.total")
        if inclusive:
            shipping -= amount(ship.get("total_tax"), f"{at}.total_tax")
        shipping_taxes += rates.taxes(ship.get("taxes"), currency, at, sign=-1)
    fees = Decimal(0)
    for i, fee in enumerate(rows(data.get("fee_lines"), f"{where}.fee_lines")):
        at = f"{where}.fee_lines[{i}]"
        fees -= amount(fee.get("total"), f"{at}.total")
        fees -= amount(fee.get("total_tax"), f"{at}.total_tax")
    stated = amount(data.get("amount"), f"{where}.amount")
    created = gmt(data.get("date_created_gmt"), f"{where}.date_created_gmt")
    refund = Refund(
        source=SourceRef(
            platform=PLATFORM,
            store=store,
            external_id=str(data.get("id")),
            version=str(data.get("date_created_gmt") or ""),
            updated_at=created,
        ),
        created_at=created,
        processed_at=created,
        reason=text(data.get("reason")),
        lines=tuple(lines),
        shipping=Money(amount=shipping, currency=currency) if shipping else None,
        shipping_taxes=tuple(shipping_taxes),
        adjustment=Money(amount=fees, currency=currency) if fees else None,
        stated_amount=Money(amount=stated, currency=currency),
        taxes_included=inclusive,
    )
    residual = stated - refund.credit_total.amount
    transactions: tuple[Payment, ...] = ()
    if data.get("refunded_payment") is True and stated != 0:
        transactions = (
            Payment(
                external_id=f"refund:{data.get('id')}",
                kind=PaymentKind.REFUND,
                status=PaymentStatus.SUCCESS,
                amount=Money(amount=stated, currency=currency),
                gateway=text(order.get("payment_method")),
                processed_at=created,
                parent_id=str(order.get("id")),
            ),
        )
    return refund.model_copy(
        update={
            "adjustment": Money(amount=fees + residual, currency=currency)
            if residual > 0
            else refund.adjustment,
            "transactions": transactions,
            "extra": {
                "meta_data": meta(data.get("meta_data")),
                "refunded_by": data.get("refunded_by"),
                "refunded_payment": data.get("refunded_payment"),
                "order_id": str(order.get("id")),
            },
        }
    )


# --------------------------------------------------------------------------- customers, products


def map_customer(data: dict[str, Any], store: str) -> Customer:
    where = f"customer {data.get('id')}"
    billing = data.get("billing") or {}
    try:
        return Customer(
            source=SourceRef(
                platform=PLATFORM,
                store=store,
                external_id=str(data.get("id")),
                version=text(data.get("date_modified_gmt")),
                updated_at=gmt(data.get("date_modified_gmt"), f"{where}.date_modified_gmt"),
            ),
            email=text(data.get("email")) or text(billing.get("email")),
            first_name=text(data.get("first_name")) or text(billing.get("first_name")),
            last_name=text(data.get("last_name")) or text(billing.get("last_name")),
            company=text(billing.get("company")),
            phone=text(billing.get("phone")),
            billing_address=address(billing),
            shipping_address=address(data.get("shipping")),
            extra={
                "role": data.get("role"),
                "username": data.get("username"),
                "is_paying_customer": data.get("is_paying_customer"),
                "meta_data": meta(data.get("meta_data")),
            },
        )
    except (MappingError, ValidationError) as exc:
        raise ValidationFailed(f"woocommerce: {where}: {exc}", platform=PLATFORM) from None


def _variant(data: dict[str, Any], currency: str | None, title: str | None) -> ProductVariant:
    price = optional_amount(data.get("price"), f"product {data.get('id')}.price")
    return ProductVariant(
        external_id=str(data.get("id")),
        sku=text(data.get("sku")),
        title=title,
        price=Money(amount=price, currency=currency) if price is not None and currency else None,
        taxable=data.get("tax_status", "taxable") != "none",
    )


def map_product(
    data: dict[str, Any],
    store: str,
    variations: Iterable[dict[str, Any]] = (),
    *,
    currency: str | None = None,
) -> Product:
    """A product; a simple product is its own single variant, a variable one has its variations.

    WooCommerce products carry no currency: prices become Money only when the
    connection names the store currency (``settings.currency``).
    """
    where = f"product {data.get('id')}"
    name = text(data.get("name")) or f"Product {data.get('id')}"
    try:
        variants = [
            _variant(
                v,
                currency,
                " / ".join(str(a.get("option")) for a in v.get("attributes") or []) or name,
            )
            for v in variations
        ]
        if not variants:
            variants = [_variant(data, currency, name)]
        return Product(
            source=SourceRef(
                platform=PLATFORM,
                store=store,
                external_id=str(data.get("id")),
                version=text(data.get("date_modified_gmt")),
                updated_at=gmt(data.get("date_modified_gmt"), f"{where}.date_modified_gmt"),
            ),
            title=name,
            product_type=text(data.get("type")),
            status=text(data.get("status")),
            variants=tuple(variants),
            extra={
                "price": data.get("price"),
                "regular_price": data.get("regular_price"),
                "tax_class": data.get("tax_class"),
                "meta_data": meta(data.get("meta_data")),
            },
        )
    except (MappingError, ValidationError) as exc:
        raise ValidationFailed(f"woocommerce: {where}: {exc}", platform=PLATFORM) from None
