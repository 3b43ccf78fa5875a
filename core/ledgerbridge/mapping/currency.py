"""Exchange rates a source states: shop money against presentment money.

A storefront that sells in a currency other than its shop currency (Shopify's
``shopMoney`` / ``presentmentMoney``) states both amounts of the order; their ratio is
the rate the order was actually charged at. When the books are kept in the presentment
currency, that is the rate of the document -- better than any configured fallback.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ..canonical import Order

# Zoho Books (and most ledgers) keep an exchange rate to 6 decimals; more digits would
# only restate the cent rounding of the two amounts the rate is taken from.
RATE_PLACES = Decimal("0.000001")


def stated_rates(order: Order) -> dict[str, Decimal]:
    """``{presentment currency: units per 1 shop-currency unit}``, or ``{}``."""
    presented = order.presentment_total
    shop_total = order.totals.total.amount
    if (
        presented is None
        or presented.currency == order.currency
        or shop_total <= 0
        or presented.amount <= 0
    ):
        return {}
    rate = (presented.amount / shop_total).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    return {presented.currency: rate}
