"""API2Cart ``Order`` JSON -> canonical ``Order`` (pure functions, no I/O).

Field by field (see ``docs/connectors/api2cart.md``):

* lines: ``order_products[]`` -- ``model`` is the SKU, ``price`` is per unit
  before discount and tax, ``discount_amount`` is the line's allocated
  discount, ``tax_value_after_discount`` (else ``tax_value``) the line's tax;
* stated totals: ``total`` first, ``totals`` (legacy) as fallback, read per
  cart through ``totals.py``;
* the part of ``total_discount`` not allocated to lines or shipping becomes
  one unallocated order discount; the part of ``total_tax`` not on lines or
  shipping becomes an order-level tax line (named as such);
* status through the store's status list (``statuses.py``);
* ``refunds[]`` (else ``status.refund_info``) become canonical refunds (``refunds.py``);
* payments: ``order.transaction.list`` is not read; an order whose money came in
  in full (financial status paid, partially refunded or refunded) gets one
  synthesized payment of its total (``_received_in_full``).

Anything the cart does not report stays ``None`` or is flagged in
``extra["api2cart"]`` -- the mapper never invents an amount.
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
from ledgerbridge.contracts.readers import money as _money
from ledgerbridge.contracts.readers import obj, text
from ledgerbridge.contracts.synthesized import money_returned, paid_in_full
from ledgerbridge.contracts.vocabulary import Vocabulary
from ledgerbridge.errors import ValidationFailed

from .envelope import PLATFORM
from .fields import address, amount, in_order, rows, timestamp, timestamp_text
from .refunds import refunds_of
from .shipments import SHIPPED, fulfilments
from .statuses import StatusBook
from .totals import TotalsSemantics, semantics_for
from .transactions import paid_through
from .transactions import payments as transaction_payments

ZERO = Decimal(0)

# ``additional_fields.financial_status``, where a cart reports one (any case).
FINANCIAL = Vocabulary(
    normalise=str.lower,
    words={
        "pending": FinancialStatus.PENDING,
        "unpaid": FinancialStatus.PENDING,
        "authorized": FinancialStatus.AUTHORIZED,
        "partially_paid": FinancialStatus.PARTIALLY_PAID,
        "paid": FinancialStatus.PAID,
        "partially_refunded": FinancialStatus.PARTIALLY_REFUNDED,
        "refunded": FinancialStatus.REFUNDED,
        "voided": FinancialStatus.VOIDED,
    },
)


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


_where = in_order


# Where each stated figure is read, by the block it comes from (``total`` first, legacy
# ``totals`` as fallback); "+" marks a key inside the block's ``additional_fields``.
_TOTALS_KEYS: dict[str, dict[str, str]] = {
    "total": {
        "total": "total",
        "subtotal": "subtotal_ex_tax",
        "shipping": "shipping_ex_tax",
        "shipping_discount": "+shipping_discount_ex_tax",
        "shipping_tax": "+shipping_tax",
        "tax": "total_tax",
        "discount": "total_discount",
        "wrapping": "wrapping_ex_tax",
        "paid": "total_paid",
    },
    "totals": {
        "total": "total",
        "subtotal": "subtotal",
        "shipping": "shipping",
        "tax": "tax",
        "discount": "discount",
    },
}
_ZERO_WHEN_ABSENT = ("shipping_discount", "shipping_tax", "wrapping")


def stated_totals(raw: Mapping[str, Any], order_id: str) -> StatedTotals:
    for origin, keys in _TOTALS_KEYS.items():
        block = raw.get(origin)
        if not isinstance(block, dict) or block.get("total") is None:
            continue
        more = block.get("additional_fields") or {}
        values: dict[str, Any] = {"paid": None}
        for name, spec in keys.items():
            source, key = (more, spec[1:]) if spec.startswith("+") else (block, spec)
            values[name] = amount(source.get(key), _where(order_id, f"{origin}.{key}"))
        for name in _ZERO_WHEN_ABSENT:
            values[name] = values.get(name) or ZERO
        assert values["total"] is not None
        return StatedTotals(origin=origin, **values)
    raise ValidationFailed(
        _where(
            order_id,
            "neither `total` nor `totals` carries a total; the request must ask "
            "for both (params/response_fields)",
        ),
        platform=PLATFORM,
    )


def _lines(raw: Mapping[str, Any], order_id: str, currency: str) -> list[OrderLine]:
    lines: list[OrderLine] = []
    items = rows(raw.get("order_products"), _where(order_id, "order_products"))
    components: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        parent = text(item.get("parent_order_product_id"))
        if parent:
            components.setdefault(parent, []).append(item)
    for index, item in enumerate(items):
        if text(item.get("parent_order_product_id")):
            continue  # a component of a configurable/bundle line: priced on its parent
        where = f"order_products[{index}]"
        line_id = text(item.get("order_product_id")) or str(index)
        price = amount(item.get("price"), _where(order_id, f"{where}.price"))
        quantity = amount(item.get("quantity"), _where(order_id, f"{where}.quantity"))
        if price is None or quantity is None:
            raise ValidationFailed(
                _where(order_id, f"{where} has no price or quantity"), platform=PLATFORM
            )
        discount = amount(item.get("discount_amount"), _where(order_id, f"{where}.discount_amount"))
        tax = amount(item.get("tax_value_after_discount"), _where(order_id, f"{where}.tax_value"))
        if tax is None:
            tax = amount(item.get("tax_value"), _where(order_id, f"{where}.tax_value"))
        rate = amount(item.get("tax_percent"), _where(order_id, f"{where}.tax_percent"))
        taxes = (
            (
                TaxLine(
                    title="Tax",
                    rate=rate / 100 if rate is not None else None,
                    amount=_money(tax, currency),
                ),
            )
            if tax
            else ()
        )
        extra: dict[str, Any] = {
            "additional_fields": item.get("additional_fields") or {},
            "options": item.get("options") or [],
            "total_price": str(item.get("total_price"))
            if item.get("total_price") is not None
            else None,
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
                taxes=taxes,
                sku=text(item.get("model")),
                product_id=text(item.get("product_id")),
                variant_id=text(item.get("variant_id")),
                extra=extra,
            )
        )
    return lines


def _discounts(
    raw: Mapping[str, Any],
    stated: StatedTotals,
    lines: list[OrderLine],
    currency: str,
    notes: dict[str, Any],
) -> list[OrderDiscount]:
    """The unallocated remainder of ``total_discount``; listed discounts kept for reference."""
    listed = [d for d in raw.get("discounts") or [] if isinstance(d, dict)]
    allocated = sum((line.discount.amount for line in lines if line.discount), ZERO)
    remainder = (stated.discount or ZERO) - allocated - stated.shipping_discount
    codes = [text(d.get("code")) for d in listed]
    found: list[OrderDiscount] = []
    if remainder < 0:
        notes["discount_note"] = (
            f"line and shipping discounts ({allocated + stated.shipping_discount}) exceed "
            f"the stated total_discount ({stated.discount})"
        )
        remainder = ZERO
    listed_sum = sum((amount(d.get("value"), "discounts[].value") or ZERO for d in listed), ZERO)
    if remainder > 0 and listed and listed_sum == remainder:
        for d, code in zip(listed, codes, strict=True):
            value = amount(d.get("value"), "discounts[].value") or ZERO
            found.append(
                OrderDiscount(
                    amount=_money(value, currency),
                    code=code,
                    title=text(d.get("type")),
                    allocated=False,
                )
            )
        return found
    if remainder > 0:
        found.append(
            OrderDiscount(
                amount=_money(remainder, currency),
                code=",".join(c for c in codes if c) or None,
                title="Order discount",
                kind="code" if any(codes) else "automatic",
                allocated=False,
            )
        )
    for d, code in zip(listed, codes, strict=True):
        value = amount(d.get("value"), "discounts[].value") or ZERO
        if remainder == 0 and value:
            found.append(
                OrderDiscount(amount=_money(value, currency), code=code, title=text(d.get("type")))
            )
    return found


def _financial(
    raw: Mapping[str, Any], stated: StatedTotals, refunds: tuple[Refund, ...]
) -> FinancialStatus:
    refunded = sum((r.stated_amount.amount for r in refunds if r.stated_amount is not None), ZERO)
    if refunded > 0:
        return (
            FinancialStatus.REFUNDED
            if refunded >= stated.total
            else FinancialStatus.PARTIALLY_REFUNDED
        )
    named = FINANCIAL.known(text((raw.get("additional_fields") or {}).get("financial_status")))
    if named is not None:
        return named
    if stated.paid is not None:
        if stated.paid >= stated.total:
            return FinancialStatus.PAID
        return FinancialStatus.PARTIALLY_PAID if stated.paid > 0 else FinancialStatus.PENDING
    return FinancialStatus.UNKNOWN


# Money came in in full: paid, or paid and then (partly) given back -- the refunds are
# separate documents (credit notes), so the payment is still the whole total.
_RECEIVED_IN_FULL = frozenset(
    {FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED, FinancialStatus.REFUNDED}
)


def _received_in_full(
    order_id: str,
    financial: FinancialStatus,
    total: Decimal,
    currency: str,
    gateway: str | None,
) -> tuple[Payment, ...]:
    """The payment of an order paid in full, synthesized from its financial status.

    API2Cart's ``order.transaction.list`` is not read (its support varies by cart, §7.5),
    so the fallback is the order itself: its financial status, its total and
    ``payment_method.name``. The order then carries exactly one payment whose id
    ``{order_id}:paid`` does not depend on anything that changes between reads or edits,
    so the engine records it once however often the order is re-read.

    A partially paid or pending order gets none: the connector cannot know what part was
    posted before, so recording a partial amount now and the full amount later would count
    the money twice. Its payment is recorded when the order reads as paid. The ``Order``
    JSON carries no paid time (``finished_time`` is completion, not payment), so
    ``processed_at`` stays ``None`` and the engine uses the order's own time. A zero total
    has nothing to pay.
    """
    if financial not in _RECEIVED_IN_FULL or total <= 0:
        return ()
    return (paid_in_full(order_id, _money(total, currency), gateway=gateway),)


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
    currency = text(currency_obj.get("iso3")) or text(currency_obj.get("id"))
    if currency is None:
        raise ValidationFailed(
            _where(order_id, "no currency (the `currency` field must be requested explicitly)"),
            platform=PLATFORM,
        )
    currency = currency.upper()
    created = timestamp(raw.get("create_at"), _where(order_id, "create_at"))
    if created is None:
        raise ValidationFailed(
            _where(order_id, "no create_at (it must be requested explicitly)"), platform=PLATFORM
        )
    modified = timestamp(raw.get("modified_at"), _where(order_id, "modified_at"))
    semantics: TotalsSemantics = semantics_for(scope.cart)
    stated = stated_totals(raw, order_id)
    notes: dict[str, Any] = {
        "cart": scope.cart,
        "totals_semantics": "known" if semantics.known else "assumed",
        "totals_origin": stated.origin,
        "legacy_totals": raw.get("totals"),
    }
    legacy = obj(raw.get("totals"))
    legacy_total = amount(legacy.get("total"), _where(order_id, "totals.total"))
    if stated.origin == "total" and legacy_total is not None and legacy_total != stated.total:
        # Reported, not resolved: `total` is read, the disagreement travels with the order.
        notes["totals_disagree"] = {"total": str(stated.total), "totals": str(legacy_total)}
    lines = _lines(raw, order_id, currency)
    discounts = _discounts(raw, stated, lines, currency, notes)

    shipping_lines: list[ShippingLine] = []
    if stated.shipping:
        method = obj(raw.get("shipping_method"))
        shipping_lines.append(
            ShippingLine(
                title=text(method.get("name")) or "Shipping",
                price=_money(stated.shipping, currency),
                discount=_money(stated.shipping_discount, currency)
                if stated.shipping_discount
                else None,
                taxes=(TaxLine(title="Shipping tax", amount=_money(stated.shipping_tax, currency)),)
                if stated.shipping_tax
                else (),
            )
        )
    tax_lines: list[TaxLine] = []
    line_tax = sum((t.amount.amount for line in lines for t in line.taxes), ZERO)
    if stated.tax is None:
        notes["tax_reported"] = False
    else:
        rest = stated.tax - line_tax - (stated.shipping_tax if shipping_lines else ZERO)
        if rest > 0:
            tax_lines.append(
                TaxLine(title="Tax (not itemised by the cart)", amount=_money(rest, currency))
            )
        elif rest < 0:
            notes["tax_note"] = f"line taxes {line_tax} exceed the stated total tax {stated.tax}"
    fees = (
        [FeeLine(name="Gift wrapping", amount=_money(stated.wrapping, currency), kind="wrapping")]
        if stated.wrapping
        else []
    )
    subtotal = stated.subtotal
    if subtotal is not None and semantics.subtotal_net_of_discount and stated.discount:
        notes["subtotal_net_of_discount"] = str(subtotal)
        subtotal = subtotal + stated.discount

    status_raw = obj(raw.get("status"))
    status = scope.statuses.resolve(text(status_raw.get("id")), text(status_raw.get("name")))
    notes["status"] = {"id": status_raw.get("id"), "name": status_raw.get("name")}
    source_status = text(status_raw.get("id")) or text(status_raw.get("name"))
    if status is OrderStatus.UNKNOWN:
        notes["status_unknown"] = True
    refunds = refunds_of(raw, scope.store, order_id, currency, {ln.line_id: ln for ln in lines})
    cust = obj(raw.get("customer"))
    email = text(cust.get("email"))
    payment = obj(raw.get("payment_method"))
    gateway = text(payment.get("name"))
    financial = _financial(raw, stated, refunds)
    read = transaction_payments(order_id, raw, currency, notes)  # read_transactions
    payments = read if read is not None else _received_in_full(
        order_id, financial, stated.total, currency, gateway
    )  # fmt: skip
    if payments and read is None:  # derived from the financial status (above)
        notes["payment_synthesized"] = {"from": "financial_status",
                                        "external_id": payments[0].external_id}  # fmt: skip
    if any(p.is_money_in for p in payments):
        # Money taken as received gives the refunds' money back too (``money_returned``):
        # without it a credit note would stay open as customer credit while the cash left.
        refunds = money_returned(refunds, paid_through(payments, gateway))
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
        "source_status": source_status,
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
        "fees": tuple(fees),
        "totals": OrderTotals(
            total=_money(stated.total, currency),
            subtotal=_money(subtotal, currency) if subtotal is not None else None,
            discounts=_money(stated.discount, currency) if stated.discount is not None else None,
            shipping=_money(stated.shipping, currency) if stated.shipping is not None else None,
            tax=_money(stated.tax, currency) if stated.tax is not None else None,
        ),
        "refunds": refunds,
        "payments": payments,
        "fulfilments": fulfilments(
            str(raw.get("order_id") or raw.get("id")), raw.get(SHIPPED) or []
        ),
        "payment_gateways": (gateway,) if gateway else (),
        "note": text(raw.get("comment")),
        "source_name": scope.cart,
        # Transactions read: the synthesized payment (``_received_in_full``) of an order
        # posted before ``read_transactions`` was on is the same money (engine/superseded.py).
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
    data = order_data(raw, scope)
    return Order.model_validate(data, context=dict(validation_context or {}))
