"""A WooCommerce order paid with a gift card, WooCommerce emulator -> Zoho Books emulator.

WooCommerce's REST order says how it was paid only in ``payment_method`` (the gateway id,
docs/platforms/woocommerce.md §8.1); gift cards are extensions.  One that registers itself
as the order's payment method is a gateway id like any other, so the mapping's
``lookups.payment_methods`` entry for that id sends the money to the gift-card liability
account instead of cash.  Books read from the Zoho emulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from .harness import woocommerce_to_zoho
from .shopify_scenarios import run
from .test_woocommerce_triggers import find, invoices_of, orders

pytestmark = pytest.mark.usefixtures("secret_key")


def test_an_order_paid_by_a_gift_card_gateway_lands_in_the_liability_account(tmp_path: Path):
    with woocommerce_to_zoho(tmp_path, orders=12) as h:
        liability = "9" * 18
        h.org.accounts[liability] = {
            "account_id": liability, "account_name": "Gift Card Liability", "account_code": "",
            "account_type": "other_current_liability", "is_active": True, "parent_account_id": "",
        }  # fmt: skip
        body = h.mapping_path.read_text()
        anchor = "  payment_methods:\n    entries:\n"
        assert anchor in body
        h.mapping_path.write_text(body.replace(anchor, anchor + (
            f'      gift_card: {{payment_mode: others, account_id: "{liability}"}}\n'
        )))  # fmt: skip
        card, cash = find(h, "processing"), None
        cash = next(
            oid for oid, o in orders(h).items()
            if o["status"] == "processing" and o["payment_method"] == "stripe" and oid != card
        )  # fmt: skip
        orders(h)[card].update(payment_method="gift_card", payment_method_title="Gift card")
        run(h)
        by_ref = {}
        for oid in (card, cash):
            [invoice] = invoices_of(h, orders(h)[oid]["number"])
            pays = [
                p for p in h.org.payments.values()
                if any(a["invoice_id"] == invoice["invoice_id"] for a in p["invoices"])
            ]  # fmt: skip
            by_ref[oid] = [(p["account_id"], Decimal(str(p["amount"]))) for p in pays]
            assert Decimal(str(invoice["balance"])) == 0
        assert by_ref[card] == [(liability, Decimal(orders(h)[card]["total"]))]
        assert by_ref[cash] == [
            (h.account_id("Stripe Clearing"), Decimal(orders(h)[cash]["total"]))
        ]
