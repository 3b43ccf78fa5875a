"""A WooCommerce refund -> canonical ``Refund`` (pure).  Refund lines are negative in
WooCommerce; canonical ones are positive and point at the original line through
``_refunded_item_id``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import Money, Payment, Refund, RefundLine, SourceRef, TaxLine
from ledgerbridge.contracts.synthesized import paid_back

from .fields import PLATFORM, TaxRates, amount, gmt, gross, meta, rows, text


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
        value = -gross(item, at, inclusive)
        refunded_item = meta(item.get("meta_data"), f"{at}.meta_data").get("_refunded_item_id")
        lines.append(
            RefundLine(
                line_id=str(refunded_item) if refunded_item not in (None, "") else None,
                quantity=abs(amount(item.get("quantity"), f"{at}.quantity")),
                subtotal=Money(amount=value, currency=currency),
                taxes=rates.taxes(item.get("taxes"), currency, at, sign=-1),
                sku=text(item.get("sku"), f"{at}.sku"),
                title=text(item.get("name"), f"{at}.name"),
            )
        )
    shipping = Decimal(0)
    shipping_taxes: list[TaxLine] = []
    for i, ship in enumerate(rows(data.get("shipping_lines"), f"{where}.shipping_lines")):
        at = f"{where}.shipping_lines[{i}]"
        shipping -= gross(ship, at, inclusive)
        shipping_taxes += rates.taxes(ship.get("taxes"), currency, at, sign=-1)
    fees = Decimal(0)
    for i, fee in enumerate(rows(data.get("fee_lines"), f"{where}.fee_lines")):
        fees -= gross(fee, f"{where}.fee_lines[{i}]", True)  # a fee's tax is always refunded
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
        reason=text(data.get("reason"), f"{where}.reason"),
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
        # ``refunded_payment``: the gateway paid the money back (not only a credit note).
        transactions = (
            paid_back(
                f"refund:{data.get('id')}",
                Money(amount=stated, currency=currency),
                gateway=text(
                    order.get("payment_method"), f"order {order.get('id')}.payment_method"
                ),
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
                "meta_data": meta(data.get("meta_data"), f"{where}.meta_data"),
                "refunded_by": data.get("refunded_by"),
                "refunded_payment": data.get("refunded_payment"),
                "order_id": str(order.get("id")),
            },
        }
    )
