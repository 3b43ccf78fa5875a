"""How each cart's order totals add up -- known per cart, assumed otherwise.

API2Cart returns two totals objects (``total`` newer, ``totals`` legacy) whose
meaning differs by cart and is undocumented.  What has been observed is
encoded here, one row per cart, with the evidence; the mapper reads ``total``
first and falls back to ``totals``.  A cart not in the table uses the generic
reading and the order says so (``extra["api2cart"]["totals_semantics"] ==
"assumed"``); if the numbers then do not add up, the order is reported as a
``TotalsMismatch`` -- never patched.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TotalsSemantics:
    cart: str
    known: bool
    subtotal_net_of_discount: bool = False
    """``subtotal`` already has the order discount taken off (total = subtotal + shipping)."""
    legacy_totals: bool = True
    """Whether the cart fills the legacy ``totals`` object at all."""
    evidence: str = ""


CART_TOTALS: dict[str, TotalsSemantics] = {
    "EtsyAPIv3": TotalsSemantics(
        cart="EtsyAPIv3",
        known=True,
        subtotal_net_of_discount=True,
        evidence="order 4130825825: subtotal 175.50 + shipping 19.99 = total 195.49, "
        "with discount 19.50 already taken off a 195.00 line",
    ),
    "AmazonSP": TotalsSemantics(
        cart="AmazonSP",
        known=True,
        legacy_totals=False,
        evidence="order 111-2392565-0194613: totals is null; total.subtotal_ex_tax 39.90 + "
        "total_tax 3.09 = total 42.99",
    ),
}


def semantics_for(cart: str | None) -> TotalsSemantics:
    """The row for ``cart`` (API2Cart ``cart_id``), or the generic assumption."""
    if cart and cart in CART_TOTALS:
        return CART_TOTALS[cart]
    return TotalsSemantics(
        cart=cart or "unknown",
        known=False,
        evidence="generic reading: subtotal is before discounts; total_discount covers "
        "line, shipping and order discounts",
    )
