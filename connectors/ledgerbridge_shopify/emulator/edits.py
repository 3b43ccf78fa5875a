"""Order edits as the Shopify admin makes them (``orderEditBegin`` ... ``orderEditCommit``).

The emulator has no edit mutations; tests and the sandbox apply an edit's *result* to a
stored order with these functions (then ``ShopData.orders.change``):

- removing units: the line keeps ``quantity``, ``taxLines`` and ``discountAllocations``
  (they include removed units), ``currentQuantity`` drops (refdata shopify-graphql-schema
  2025-01, LineItem field descriptions) while ``refundableQuantity`` stays (its
  description excludes refunded units only);
- adding a line: a new ``LineItem``.

The order's ``totalPriceSet``, ``subtotalPriceSet`` and ``totalTaxSet`` follow the edit
(``shopify.md`` §8.5: edits show in the totals; the stricter reading of "before returns",
which excludes removals); ``Order.taxLines`` keeps the line taxes' sum, removed units
included, like the lines' own ``taxLines``.
"""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .seed import gid

CENT = Decimal("0.01")


def _amount(bag: dict[str, Any]) -> Decimal:
    return Decimal(bag["shopMoney"]["amount"])


def _bag(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": str(amount), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def _shift_totals(order: dict[str, Any], net: Decimal, tax: Decimal) -> None:
    cur = order["currencyCode"]
    included = order["taxesIncluded"]
    for field, delta in (
        ("subtotalPriceSet", net),
        ("totalTaxSet", tax),
        ("totalPriceSet", net + (Decimal(0) if included else tax)),
    ):
        order[field] = _bag(_amount(order[field]) + delta, cur)


def remove_units(order: dict[str, Any], index: int, units: int) -> dict[str, Any]:
    """``order`` after an edit removed ``units`` of line ``index``."""
    edited = copy.deepcopy(order)
    line = edited["lineItems"][index]
    qty = Decimal(line["quantity"])
    if units > int(line["currentQuantity"]):
        raise ValueError("cannot remove more units than remain")
    before = qty - (int(line["refundableQuantity"]) - int(line["currentQuantity"]))
    after = before - units

    def part(amount: Decimal, kept: Decimal) -> Decimal:
        return (amount * kept / qty).quantize(CENT, rounding=ROUND_HALF_UP)

    gross = _amount(line["originalUnitPriceSet"]) * qty
    discount = _amount(line["totalDiscountSet"])
    tax = sum((_amount(t["priceSet"]) for t in line["taxLines"]), Decimal(0))
    net_change = (part(gross, after) - part(discount, after)) - (
        part(gross, before) - part(discount, before)
    )
    tax_change = part(tax, after) - part(tax, before)
    line["currentQuantity"] = int(line["currentQuantity"]) - units
    _shift_totals(edited, net_change, tax_change)
    return edited


def add_line(
    order: dict[str, Any], title: str, price: Decimal, quantity: int, tax_rate: Decimal
) -> dict[str, Any]:
    """``order`` after an edit added ``quantity`` of a new product at ``price``."""
    edited = copy.deepcopy(order)
    cur = edited["currencyCode"]
    oid = int(edited["legacyResourceId"])
    template = edited["lineItems"][0]
    net = price * quantity
    if edited["taxesIncluded"]:
        tax = (net - net / (1 + tax_rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        tax = (net * tax_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    title_of_tax = (template["taxLines"] or [{"title": "Tax"}])[0]["title"]
    line = {
        **copy.deepcopy(template),
        "id": gid("LineItem", oid * 100 + 90 + len(edited["lineItems"])),
        "sku": f"EDIT-{len(edited['lineItems'])}",
        "name": title,
        "title": title,
        "quantity": quantity,
        "currentQuantity": quantity,
        "refundableQuantity": quantity,
        "isGiftCard": False,
        "taxable": True,
        "originalUnitPriceSet": _bag(price, cur),
        "totalDiscountSet": _bag(Decimal(0), cur),
        "discountAllocations": [],
        "taxLines": [
            {
                "title": title_of_tax,
                "rate": tax_rate,
                "ratePercentage": tax_rate * 100,
                "priceSet": _bag(tax, cur),
            }
        ]
        if tax
        else [],
    }
    edited["lineItems"].append(line)
    if tax:
        for order_tax in edited["taxLines"]:
            if order_tax["title"] == title_of_tax and Decimal(str(order_tax["rate"])) == tax_rate:
                order_tax["priceSet"] = _bag(_amount(order_tax["priceSet"]) + tax, cur)
                break
        else:
            edited["taxLines"].append(copy.deepcopy(line["taxLines"][0]))
    _shift_totals(edited, net, tax)
    return edited
