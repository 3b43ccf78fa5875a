"""Exchange rates a source states: shop money against presentment money.

A storefront that sells in a currency other than its shop currency (Shopify's
``shopMoney`` / ``presentmentMoney``) states both amounts of the order; their ratio is
the rate the order was actually charged at. When the books are kept in the presentment
currency, that is the rate of the document -- better than any configured fallback.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ..canonical import Money, Order, Refund
from ..errors import ValidationFailed

# Zoho Books (and most ledgers) keep an exchange rate to 6 decimals; more digits would
# only restate the cent rounding of the two amounts the rate is taken from.
RATE_PLACES = Decimal("0.000001")


def stated_rates(order: Order) -> dict[str, Decimal]:
    """``{other currency: its units per 1 unit of order.currency}``, or ``{}``.

    For a shop-currency order the other is the presentment currency; for its presentment
    twin (``Order.presentment``, booked with ``book_in: presentment``) the shop currency,
    which the twin states as its ``presentment_total``."""
    return rate_between(order.presentment_total, order.totals.total)


def rate_between(other: Money | None, this: Money) -> dict[str, Decimal]:
    """``{other.currency: other / this}`` when both are positive amounts in two currencies."""
    if other is None or other.currency == this.currency or this.amount <= 0 or other.amount <= 0:
        return {}
    rate = (other.amount / this.amount).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    return {other.currency: rate}


def refund_rates(order: Order, refund: Refund) -> dict[str, Decimal]:
    """The rate ``refund`` itself states, for a refund-day rate: on a presentment twin,
    its credit against the same refund's credit in shop money (``booked_order`` keeps
    those); on an order as read, its credit in presentment money when the source states
    it (it does not: Shopify's refund twins come with the twin). ``{}`` when unknown."""
    stated = (order.extra.get("refund_rates") or {}).get(refund.source.external_id) or {}
    return {code: Decimal(rate) for code, rate in stated.items()}


def booked_order(order: Order, book_in: str) -> Order:
    """The order a pipeline books: the presentment twin with ``book_in: presentment`` when
    the source states one in another currency; else the order as read (shop money).

    The twin states the shop total as its ``presentment_total`` (so ``stated_rates`` of
    the twin is the rate to the shop currency), and each refund's own rate (its shop
    credit against its presentment credit) in ``extra['refund_rates']``."""
    twin = order.presentment
    if book_in != "presentment":
        return order
    paid_in = order.presentment_currency
    if twin is None and paid_in and paid_in != order.currency:
        # Never booked in the shop currency instead, quietly: the pipeline asked otherwise.
        problem = order.extra.get("presentment_problem") or (
            f"the source states no amounts in {paid_in}"
        )
        raise ValidationFailed(
            f"order {order.number} was paid in {paid_in} and this pipeline books in the "
            f"presentment currency (lookups.currencies.book_in), but {problem}",
            platform=order.source.platform,
        )
    if twin is None or twin.currency == order.currency:
        return order
    shop_refunds = {r.source.external_id: r for r in order.refunds}
    refund_rates: dict[str, dict[str, str]] = {}
    for refund in twin.refunds:
        shop = shop_refunds.get(refund.source.external_id)
        if shop is None or not (shop.lines or shop.shipping or shop.adjustment):
            continue
        rates = rate_between(shop.credit_total, refund.credit_total)
        if rates:
            refund_rates[refund.source.external_id] = {k: str(v) for k, v in rates.items()}
    return twin.model_copy(
        update={
            "presentment_currency": order.currency,
            "presentment_total": order.totals.total,
            "extra": {**twin.extra, "refund_rates": refund_rates},
        }
    )
