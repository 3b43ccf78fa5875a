"""API2Cart ``Order`` JSON -> canonical ``Order`` (pure functions, no I/O; field by field in
``docs/connectors/api2cart.md``).

The stated totals come from ``total``, else legacy ``totals``, read per cart (``CART_TOTALS``).
The part of ``total_discount`` not on lines or shipping becomes one unallocated order
discount, the part of ``total_tax`` not on lines or shipping an order-level tax line named as
such.  Anything the cart does not report stays ``None`` or is flagged in
``extra["api2cart"]``: the mapper never invents an amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import (
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
    Refund,
    ShippingLine,
    SourceRef,
    TaxLine,
)
from ledgerbridge.canonical.money import parse_amount
from ledgerbridge.contracts.readers import money as _money
from ledgerbridge.contracts.readers import obj, text
from ledgerbridge.contracts.synthesized import money_returned, paid_in_full
from ledgerbridge.contracts.vocabulary import Vocabulary
from ledgerbridge.errors import ValidationFailed

from .envelope import PLATFORM
from .fields import (
    address,
    amount,
    in_order,
    objects_in,
    record,
    required,
    rows,
    timestamp,
    timestamp_text,
)
from .refunds import listed_at, refunds_of
from .shipments import SHIPPED, fulfilments
from .statuses import StatusBook
from .transactions import paid_through
from .transactions import payments as transaction_payments

ZERO = Decimal(0)
_UNKNOWN = FinancialStatus.UNKNOWN

# ``additional_fields.financial_status``, where a cart reports one (any case).
FINANCIAL = Vocabulary(
    normalise=str.lower,
    words={s.value: s for s in FinancialStatus if s is not _UNKNOWN}
    | {"unpaid": FinancialStatus.PENDING},
)
# Money came in in full: paid, or paid and then (partly) given back -- the refunds are
# separate documents (credit notes), so the payment is still the whole total.
_RECEIVED_IN_FULL = {
    FinancialStatus.PAID,
    FinancialStatus.PARTIALLY_REFUNDED,
    FinancialStatus.REFUNDED,
}


# How a cart's totals add up, where it has been observed (the evidence per cart is in
# docs/connectors/api2cart.md, "Per-cart totals"): whether ``subtotal`` already has the order
# discount off.  Any other cart gets the generic reading (subtotal before discounts,
# ``total_discount`` covering all of them) and its orders say "assumed"; numbers that then do
# not add up are a ``TotalsMismatch`` -- never patched.
CART_TOTALS = {"EtsyAPIv3": True, "AmazonSP": False}


@dataclass(frozen=True)
class StoreScope:
    """What the mapper needs to know about the store an order came from."""

    store: str
    cart: str | None
    statuses: StatusBook


@dataclass(frozen=True)
class StatedTotals:
    """The order's own totals, from ``total`` or (fallback) legacy ``totals``."""

    origin: str  # "total" | "totals"
    total: Decimal
    subtotal: Decimal | None
    shipping: Decimal | None
    shipping_discount: Decimal
    shipping_tax: Decimal
    tax: Decimal | None
    discount: Decimal | None
    wrapping: Decimal
    paid: Decimal | None


# Each stated figure's key in ``total`` ("+": inside its ``additional_fields``) and in the
# legacy ``totals`` (None: not there); ``total`` is read first, ``totals`` as the fallback.
_TOTALS_KEYS: dict[str, tuple[str, str | None]] = {
    "total": ("total", "total"),
    "subtotal": ("subtotal_ex_tax", "subtotal"),
    "shipping": ("shipping_ex_tax", "shipping"),
    "shipping_discount": ("+shipping_discount_ex_tax", None),
    "shipping_tax": ("+shipping_tax", None),
    "tax": ("total_tax", "tax"),
    "discount": ("total_discount", "discount"),
    "wrapping": ("wrapping_ex_tax", None),
    "paid": ("total_paid", None),
}


def stated_totals(raw: Mapping[str, Any], order_id: str) -> StatedTotals:
    for column, origin in enumerate(("total", "totals")):
        block = raw.get(origin)
        if not isinstance(block, dict) or block.get("total") is None:
            continue
        more = record(
            block.get("additional_fields"), in_order(order_id, f"{origin}.additional_fields")
        )
        values: dict[str, Any] = {}
        for name, keys in _TOTALS_KEYS.items():
            spec = keys[column]
            if spec is None:
                values[name] = None
                continue
            source, key = (more, spec[1:]) if spec.startswith("+") else (block, spec)
            values[name] = amount(source.get(key), in_order(order_id, f"{origin}.{key}"))
        for name in ("shipping_discount", "shipping_tax", "wrapping"):
            values[name] = values[name] or ZERO
        if values["total"] is None:  # a blank "" total: refused naming the field
            where = in_order(order_id, f"{origin}.total")
            values["total"] = parse_amount(block["total"], where, platform=PLATFORM)
        return StatedTotals(origin=origin, **values)
    raise ValidationFailed(
        in_order(
            order_id,
            "neither `total` nor `totals` carries a total; the request must ask "
            "for both (params/response_fields)",
        ),
        platform=PLATFORM,
    )


def _lines(raw: Mapping[str, Any], order_id: str, currency: str) -> list[OrderLine]:
    lines: list[OrderLine] = []
    items = rows(raw.get("order_products"), in_order(order_id, "order_products"))
    components: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if parent := text(item.get("parent_order_product_id")):
            components.setdefault(parent, []).append(item)
    for index, item in enumerate(items):
        if text(item.get("parent_order_product_id")):
            continue  # a component of a configurable/bundle line: priced on its parent
        where = f"order_products[{index}]"

        def num(key: str, label: str | None = None) -> Decimal | None:
            return amount(item.get(key), in_order(order_id, f"{where}.{label or key}"))  # noqa: B023

        line_id = text(item.get("order_product_id")) or str(index)
        price, quantity = num("price"), num("quantity")
        if price is None or quantity is None:
            raise ValidationFailed(
                in_order(order_id, f"{where} has no price or quantity"), platform=PLATFORM
            )
        discount = num("discount_amount")
        tax = num("tax_value_after_discount", "tax_value")
        if tax is None:
            tax = num("tax_value")
        rate = num("tax_percent")
        tax_rate = rate / 100 if rate is not None else None
        total_price = item.get("total_price")
        extra: dict[str, Any] = {
            "additional_fields": item.get("additional_fields") or {},
            "options": item.get("options") or [],
            "total_price": str(total_price) if total_price is not None else None,
        }
        if line_id in components:
            extra["components"] = components[line_id]
        lines.append(
            OrderLine(
                line_id=line_id,
                title=text(item.get("name")) or text(item.get("model")) or f"Line {line_id}",
                quantity=quantity,
                unit_price=_money(price, currency),
                discount=_money(discount, currency) if discount else None,
                taxes=(TaxLine(title="Tax", rate=tax_rate, amount=_money(tax, currency)),)
                if tax
                else (),
                sku=text(item.get("model")),
                product_id=text(item.get("product_id")),
                variant_id=text(item.get("variant_id")),
                extra=extra,
            )
        )
    return lines


def _discounts(
    raw: Mapping[str, Any],
    order_id: str,
    stated: StatedTotals,
    lines: list[OrderLine],
    currency: str,
    notes: dict[str, Any],
) -> list[OrderDiscount]:
    """The unallocated remainder of ``total_discount`` as one discount -- or as the listed
    ``discounts[]`` when they add up to it exactly; with no remainder, the listed ones are
    kept (allocated) for reference."""
    listed = objects_in(raw.get("discounts"), in_order(order_id, "discounts"))
    allocated = sum((line.discount.amount for line in lines if line.discount), ZERO)
    remainder = (stated.discount or ZERO) - allocated - stated.shipping_discount
    codes = [text(d.get("code")) for d in listed]
    if remainder < 0:
        notes["discount_note"] = (
            f"line and shipping discounts ({allocated + stated.shipping_discount}) exceed "
            f"the stated total_discount ({stated.discount})"
        )
        remainder = ZERO
    values = [amount(d.get("value"), "discounts[].value") or ZERO for d in listed]
    if remainder > 0 and sum(values, ZERO) != remainder:
        return [
            OrderDiscount(
                amount=_money(remainder, currency),
                code=",".join(c for c in codes if c) or None,
                title="Order discount",
                kind="code" if any(codes) else "automatic",
                allocated=False,
            )
        ]
    unallocated = remainder > 0  # the listed discounts are the remainder, zeros included
    return [
        OrderDiscount(
            amount=_money(value, currency),
            code=code,
            title=text(d.get("type")),
            allocated=not unallocated,
        )
        for d, code, value in zip(listed, codes, values, strict=True)
        if value or unallocated
    ]


def _financial(
    raw: Mapping[str, Any], order_id: str, stated: StatedTotals, refunds: tuple[Refund, ...]
) -> FinancialStatus:
    refunded = sum((r.stated_amount.amount for r in refunds if r.stated_amount is not None), ZERO)
    if refunded > 0:
        if refunded >= stated.total:
            return FinancialStatus.REFUNDED
        return FinancialStatus.PARTIALLY_REFUNDED
    more = record(raw.get("additional_fields"), in_order(order_id, "additional_fields"))
    named = FINANCIAL.known(text(more.get("financial_status")))
    if named is not None:
        return named
    if stated.paid is None:
        return _UNKNOWN
    if stated.paid >= stated.total:
        return FinancialStatus.PAID
    return FinancialStatus.PARTIALLY_PAID if stated.paid > 0 else FinancialStatus.PENDING


def _customer(raw: Mapping[str, Any], scope: StoreScope, email: str | None) -> Customer | None:
    cust = raw.get("customer")
    if not isinstance(cust, dict) or not text(cust.get("id")):
        return None  # marketplace orders (AmazonSP) carry no buyer identity
    return Customer(
        source=SourceRef(platform=PLATFORM, store=scope.store, external_id=str(cust["id"])),
        email=email,
        first_name=text(cust.get("first_name")),
        last_name=text(cust.get("last_name")),
        phone=text(cust.get("phone")),
        extra={"additional_fields": cust.get("additional_fields") or {}},
    )


def order_data(raw: Mapping[str, Any], scope: StoreScope) -> dict[str, Any]:
    """The canonical order as a dict, before validation (``map_order`` validates it)."""
    order_id = text(raw.get("order_id")) or text(raw.get("id"))
    if order_id is None:
        raise ValidationFailed("API2Cart order without order_id or id", platform=PLATFORM)
    currency_obj = obj(raw.get("currency"))
    found = text(currency_obj.get("iso3")) or text(currency_obj.get("id"))
    currency = required(
        found, order_id, "currency (the `currency` field must be requested explicitly)"
    ).upper()

    def money(value: Decimal) -> Money:
        return _money(value, currency)

    created = timestamp(raw.get("create_at"), in_order(order_id, "create_at"))
    created = required(created, order_id, "create_at (it must be requested explicitly)")
    modified = timestamp(raw.get("modified_at"), in_order(order_id, "modified_at"))
    stated = stated_totals(raw, order_id)
    notes: dict[str, Any] = {
        "cart": scope.cart,
        "totals_semantics": "known" if (scope.cart or "") in CART_TOTALS else "assumed",
        "totals_origin": stated.origin,
        "legacy_totals": raw.get("totals"),
    }
    legacy_total = amount(obj(raw.get("totals")).get("total"), in_order(order_id, "totals.total"))
    if stated.origin == "total" and legacy_total is not None and legacy_total != stated.total:
        # Reported, not resolved: `total` is read, the disagreement travels with the order.
        notes["totals_disagree"] = {"total": str(stated.total), "totals": str(legacy_total)}
    lines = _lines(raw, order_id, currency)
    discounts = _discounts(raw, order_id, stated, lines, currency, notes)
    shipping_lines = []
    if stated.shipping:
        shipping_lines.append(
            ShippingLine(
                title=text(obj(raw.get("shipping_method")).get("name")) or "Shipping",
                price=money(stated.shipping),
                discount=money(stated.shipping_discount) if stated.shipping_discount else None,
                taxes=(TaxLine(title="Shipping tax", amount=money(stated.shipping_tax)),)
                if stated.shipping_tax
                else (),
            )
        )
    tax_lines = []
    line_tax = sum((t.amount.amount for line in lines for t in line.taxes), ZERO)
    if stated.tax is None:
        notes["tax_reported"] = False
    else:
        rest = stated.tax - line_tax - (stated.shipping_tax if shipping_lines else ZERO)
        if rest > 0:
            tax_lines.append(TaxLine(title="Tax (not itemised by the cart)", amount=money(rest)))
        elif rest < 0:
            notes["tax_note"] = f"line taxes {line_tax} exceed the stated total tax {stated.tax}"
    subtotal = stated.subtotal
    if subtotal is not None and CART_TOTALS.get(scope.cart or "") and stated.discount:
        notes["subtotal_net_of_discount"] = str(subtotal)
        subtotal = subtotal + stated.discount

    status_raw = obj(raw.get("status"))
    status_id, status_name = text(status_raw.get("id")), text(status_raw.get("name"))
    status = scope.statuses.resolve(status_id, status_name)
    notes["status"] = {"id": status_raw.get("id"), "name": status_raw.get("name")}
    if status is OrderStatus.UNKNOWN:
        notes["status_unknown"] = True
    refunds = refunds_of(raw, scope.store, order_id, currency, {ln.line_id: ln for ln in lines})
    email = text(obj(raw.get("customer")).get("email"))
    gateway = text(obj(raw.get("payment_method")).get("name"))
    financial = _financial(raw, order_id, stated, refunds)
    read = transaction_payments(order_id, raw, currency, notes)  # ``read_transactions``
    payments: tuple[Payment, ...] = read if read is not None else ()
    # Without transactions the order's own financial status is the evidence: paid in full
    # gives one payment ``{order_id}:paid`` of the total, stable across re-reads and edits,
    # so the engine records it once.  A partially paid or pending order gets none: what part
    # was posted before is unknown, and booking a part now and the whole later would count
    # the money twice.  No paid time is reported (``finished_time`` is completion), so the
    # engine uses the order's own time.
    if read is None and financial in _RECEIVED_IN_FULL and stated.total > 0:
        payments = (paid_in_full(order_id, money(stated.total), gateway=gateway),)
        notes["payment_synthesized"] = {
            "from": "financial_status",
            "external_id": payments[0].external_id,
        }
    if any(p.is_money_in for p in payments):
        # Money taken as received gives the refunds' money back too (``money_returned``):
        # without it a credit note would stay open as customer credit while the cash left.
        paths = [in_order(order_id, path) for path in listed_at(refunds)]
        refunds = money_returned(refunds, paid_through(payments, gateway), paths, platform=PLATFORM)
    notes.update(
        store_id=raw.get("store_id"),
        order_details_url=raw.get("order_details_url"),
        bundles=raw.get("bundles") or [],
        total_paid=str(stated.paid) if stated.paid is not None else None,
    )
    return {
        "source": SourceRef(
            platform=PLATFORM,
            store=scope.store,
            external_id=order_id,
            version=timestamp_text(raw.get("modified_at")),
            updated_at=modified,
        ),
        "number": order_id,
        "currency": currency,
        "status": status,
        "source_status": status_id or status_name,
        "financial_status": financial,
        "created_at": created,
        "updated_at": modified,
        "processed_at": created,
        "email": email,
        "customer": _customer(raw, scope, email),
        "billing_address": address(raw.get("billing_address"), email),
        "shipping_address": address(raw.get("shipping_address")),
        "lines": tuple(lines),
        "discounts": tuple(discounts),
        "tax_lines": tuple(tax_lines),
        "shipping_lines": tuple(shipping_lines),
        "fees": (FeeLine(name="Gift wrapping", amount=money(stated.wrapping), kind="wrapping"),)
        if stated.wrapping
        else (),
        "totals": OrderTotals(
            total=money(stated.total),
            subtotal=money(subtotal) if subtotal is not None else None,
            discounts=money(stated.discount) if stated.discount is not None else None,
            shipping=money(stated.shipping) if stated.shipping is not None else None,
            tax=money(stated.tax) if stated.tax is not None else None,
        ),
        "refunds": refunds,
        "payments": payments,
        "fulfilments": fulfilments(
            str(raw.get("order_id") or raw.get("id")), raw.get(SHIPPED) or []
        ),
        "payment_gateways": (gateway,) if gateway else (),
        "note": text(raw.get("comment")),
        "source_name": scope.cart,
        # Transactions read: the synthesized payment of an order posted before
        # ``read_transactions`` was on is the same money (engine/superseded.py).
        "superseded_payment_ids": (f"{order_id}:paid",) if read is not None else (),
        "extra": {
            "additional_fields": raw.get("additional_fields") or {},
            "custom_fields": raw.get("custom_fields") or {},
            "api2cart": notes,
        },
    }


def map_order(
    raw: Mapping[str, Any],
    scope: StoreScope,
    validation_context: Mapping[str, Any] | None = None,
) -> Order:
    """A canonical, reconciled order; whatever cannot be read raises, and the core guard
    (``mapped``, ``guarded``) parks the order naming the field."""
    return Order.model_validate(order_data(raw, scope), context=dict(validation_context or {}))
