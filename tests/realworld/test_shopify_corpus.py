"""Shopify's published REST orders (client-library fixtures, documentation examples) as
``orders/create`` webhook deliveries: the real receiver verifies and stores the hint, the
engine re-reads the order through REST (``fetch_api: rest``: the order and its
transactions, as the emulator serves the published JSON) and posts it to the Zoho Books
emulator.

Each order posts to the cent -- the invoice total is the payload's ``total_price`` and
its tax ``total_tax``; each refund's credit note is what the refund's lines, shipping
and adjustments give back -- after the mapping advice it is parked with, if any, is
followed.  Shopify's own sample order #1001 does not add up and is refused (parked, its
reason naming the contradiction); cancelled before ever being posted, it is skipped.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from .books import (
    ZERO,
    assert_held,
    booked,
    cases,
    dec,
    deliver,
    load,
    post_following_advice,
    shopify_rest_to_zoho,
)
from .corpus import ENTRIES, Entry, raw_payload

pytestmark = [pytest.mark.usefixtures("secret_key")]

SHOPIFY = [e for e in ENTRIES if e.platform == "shopify"]


def _shop(obj: dict[str, Any], field: str) -> Decimal:
    bag = (obj.get(f"{field}_set") or {}).get("shop_money")
    return dec(bag["amount"] if bag else obj.get(field))


def refund_credit(refund: dict[str, Any]) -> Decimal:
    """What a REST refund gives back, from its own lines, shipping and adjustments."""
    credit = ZERO
    for item in refund.get("refund_line_items") or []:
        credit += _shop(item, "subtotal") + _shop(item, "total_tax")
    for ship in refund.get("refund_shipping_lines") or []:
        credit += _shop(ship, "subtotal_amount") + _shop(ship, "tax_amount")
    for adj in refund.get("order_adjustments") or []:
        credit -= _shop(adj, "amount") + _shop(adj, "tax_amount")
    return credit


@pytest.mark.parametrize("entry", cases(SHOPIFY))
def test_published_order_posts_to_the_cent(entry: Entry, tmp_path: Path) -> None:
    order = load(entry)
    ident = str(order["id"])
    with shopify_rest_to_zoho(tmp_path) as h:
        h.source_app.rest_orders[ident] = order
        record, _followed = post_following_advice(
            h, ident, first=lambda h: deliver(h, "orders/create", raw_payload(entry))
        )
        if entry.expect != "post":
            assert_held(h, record, entry, order["name"])
            return
        assert record.state == "synced", (record.state, record.reason, record.missing_key)
        books = booked(h, order["name"])
        assert dec(books.document["total"]) == _shop(order, "total_price")
        assert books.tax_total() == _shop(order, "total_tax")
        credits = [refund_credit(r) for r in order.get("refunds") or []]
        assert sorted(dec(n["total"]) for n in books.notes) == sorted(c for c in credits if c)
        assert sum(books.payments, ZERO) == ZERO  # no transactions were published with it
