"""Shopify fulfilments and order edits in canonical terms (connector mapping only)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ledgerbridge.canonical import FulfilmentStatus
from ledgerbridge_shopify import mapping_graphql
from ledgerbridge_shopify.emulator.edits import remove_units
from ledgerbridge_shopify.emulator.seed import SeedConfig, Seeder
from ledgerbridge_shopify.fulfilments import rest_fulfilments
from tests.conftest import REFDATA

FIXTURE = REFDATA / "shopify-examples" / "rest_fixture_order.json"


@pytest.mark.skipif(not FIXTURE.exists(), reason="../shared/refdata is absent")
def test_a_failed_rest_fulfilment_is_not_a_shipment():
    data = json.loads(FIXTURE.read_text())
    [f] = rest_fulfilments(data.get("order", data))
    assert f["status"] == "cancelled" and f["lines"][0]["quantity"] == Decimal(1)


def _as_read(raw: dict) -> dict:
    """A seeded order as the GraphQL answer nests it: connections hold ``nodes``."""
    out = dict(raw)
    for key in ("lineItems", "shippingLines", "discountApplications"):
        out[key] = {"nodes": raw[key]}
    out["fulfillments"] = [
        {**f, "fulfillmentLineItems": {"nodes": f["fulfillmentLineItems"]}}
        for f in raw["fulfillments"]
    ]
    return out


def _plain(seeder: Seeder) -> int:
    return next(
        n for n in range(200)
        if (o := seeder.order(n))["fulfillments"] and not o["refunds"]
        and o["lineItems"][0]["quantity"] >= 2
    )  # fmt: skip


def test_graphql_fulfilments_and_an_edit_that_removed_units():
    seeder = Seeder(SeedConfig(orders=200))
    n = _plain(seeder)
    raw = seeder.order(n)
    order = mapping_graphql.order(_as_read(raw), "shop", {})
    [shipped] = order.fulfilments
    assert shipped.status is FulfilmentStatus.SHIPPED
    assert {f.line_id: f.quantity for f in shipped.lines} == {
        line.line_id: line.quantity for line in order.lines
    }
    edited = mapping_graphql.order(_as_read(remove_units(raw, 0, 1)), "shop", {})  # not held
    before, after = order.lines[0], edited.lines[0]
    assert after.quantity == before.quantity - 1
    assert edited.totals.total.amount < order.totals.total.amount
    assert sum(t.amount.amount for t in after.taxes) < sum(t.amount.amount for t in before.taxes)
