"""API2Cart's own mock dataset orders (AmazonSP, Etsy), served verbatim by the emulator,
through the real connector, engine and mapping into the Zoho Books emulator.

An order posts to the cent -- the document total is the payload's ``total.total`` (or
legacy ``totals.total``), its tax ``total.total_tax`` -- after the mapping advice it is
parked with, if any, is followed; an order the default ``params`` left without totals
is parked naming what is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .books import api2cart_to_zoho, booked, cases, dec, load, post_following_advice
from .corpus import ENTRIES, Entry

pytestmark = [pytest.mark.usefixtures("secret_key")]

A2C = [e for e in ENTRIES if e.platform == "api2cart"]
CARTS = {"a2c-amazon": "AmazonSP", "a2c-etsy": "EtsyAPIv3"}


def _cart(entry: Entry) -> str:
    return next(cart for prefix, cart in CARTS.items() if entry.name.startswith(prefix))


def _stated_total(order: dict[str, Any]) -> Any:
    return (order.get("total") or {}).get("total") or (order.get("totals") or {}).get("total")


@pytest.mark.parametrize("entry", cases(A2C))
def test_mock_dataset_order_posts_to_the_cent(entry: Entry, tmp_path: Path) -> None:
    order = load(entry)
    currency = (order.get("currency") or {}).get("iso3") or "USD"
    with api2cart_to_zoho(tmp_path, _cart(entry), currency) as h:
        h.extra["store"].orders[str(order["order_id"])] = order
        record, _followed = post_following_advice(h, str(order["order_id"]))
        assert record.state == "synced", (record.state, record.reason, record.missing_key)
        books = booked(h, str(order["order_id"]))
        assert dec(books.document["total"]) == dec(_stated_total(order))
        tax = (order.get("total") or {}).get("total_tax")
        if tax is not None:
            assert books.tax_total() == dec(tax)
