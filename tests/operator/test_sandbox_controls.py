"""The sandboxes' HTTP controls, as docs/quickstart-sandbox.md uses them with curl: edit an
order in a store emulator and the invoice written for it in Zoho Books -> `conflicts` lists
it by the order's number; fire a signed WooCommerce webhook at `serve` -> it is stored in
the inbox (a wrong secret is refused); edits the sandboxes do not make are refused whole."""

from __future__ import annotations

import json
from typing import Any

import httpx

from demo.world import WOO_HOOK_SECRET
from ledgerbridge.exitcodes import ExitCode
from ledgerbridge_shopify.emulator.seed import ORDER_BASE

from .conftest import Operator
from .test_webhooks_and_run import free_port, pending, up, wait_until


def post(url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, content=json.dumps(body), timeout=10)


def test_a_conflict_made_by_hand_is_listed_by_the_order_number(operator: Operator) -> None:
    world = operator.world
    operator.cli("sync", "west-orders", code=ExitCode.PARKED)  # (the PayPal order parks)
    org = world.org("west")
    invoice = next(i for i in org.invoices.values() if i["status"] not in ("paid", "void"))
    oid = invoice["custom_field_hash"]["cf_source_order_id"]
    number = world.woo.emulator.store.orders[int(oid)]["number"]

    edited = post(
        f"{world.urls['zohobooks']}/_emulator/invoices/{invoice['invoice_id']}",
        {"organization_id": org.organization_id, "notes": "edited by the accountant"},
    )
    assert edited.status_code == 200, edited.text
    assert invoice["notes"] == "edited by the accountant"
    changed = post(
        f"{world.urls['woocommerce']}/_emulator/orders/{oid}", {"customer_note": "changed"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["order"]["customer_note"] == "changed"

    operator.cli("sync", "west-orders", code=ExitCode.PARKED)
    assert invoice["notes"] == "edited by the accountant", "the accountant's edit stays"
    [row] = operator.json("conflicts")
    assert row["number"] == number and row["external_id"] == oid and row["order"] == number
    assert row["target_id"] == invoice["invoice_id"] and row["pipeline"] == "west-orders"
    assert row["fields"] and row["tenant"] == "west"
    listed = operator.cli("conflicts").stdout
    assert f"order {number}" in listed, listed


def test_edits_the_sandboxes_do_not_make_are_refused(operator: Operator) -> None:
    urls = operator.world.urls
    org = operator.world.org("north")
    shop = f"{urls['shopify']}/_emulator/orders/{ORDER_BASE + 3}"
    assert post(shop, {"name": "#9"}).status_code == 400  # the platform sets it
    assert "lineItems" in post(shop, {"lineItems": []}).json()["error"]  # not a plain field
    assert post(shop, {"no_such_field": 1}).status_code == 400
    assert post(f"{urls['shopify']}/_emulator/orders/1", {"note": "x"}).status_code == 404

    woo = operator.world.woo.emulator.store.orders
    oid = next(iter(woo))
    before = woo[oid]["date_modified_gmt"]
    done = post(f"{urls['woocommerce']}/_emulator/orders/{oid}", {"customer_note": "by hand"})
    assert done.status_code == 200, done.text
    assert woo[oid]["customer_note"] == "by hand" and woo[oid]["date_modified_gmt"] > before
    edit = f"{urls['woocommerce']}/_emulator/orders/{oid}"
    assert post(edit, {"total": "1.00"}).json() == {
        "error": "'total' is computed from the lines, not edited"
    }
    assert post(edit, {"line_items": []}).status_code == 400
    assert post(f"{urls['woocommerce']}/_emulator/orders/999999", {"x": 1}).status_code == 404

    store_key, cart = next(iter(operator.world.api2cart.emulator.state.stores.items()))
    order_id, order = next(iter(cart.orders.items()))
    stamp = order["modified_at"]["value"]
    done = post(
        f"{urls['api2cart']}/_emulator/orders/{order_id}",
        {"store_key": store_key, "comment": "by hand"},
    )
    assert done.status_code == 200, done.text
    assert order["comment"] == "by hand" and order["modified_at"]["value"] != stamp
    no_store = post(f"{urls['api2cart']}/_emulator/orders/{order_id}", {"comment": "x"})
    assert no_store.status_code == 404

    invoice_url = f"{urls['zohobooks']}/_emulator/invoices/none"
    missing = post(invoice_url, {"organization_id": org.organization_id, "notes": "x"})
    assert missing.status_code == 404
    operator.cli("sync", "north-orders")
    some = next(iter(org.invoices))
    refused = post(
        f"{urls['zohobooks']}/_emulator/invoices/{some}",
        {"organization_id": org.organization_id, "total": 1},
    )
    assert refused.status_code == 400 and "'total'" in refused.json()["error"]


def test_a_signed_woocommerce_webhook_fired_by_hand_reaches_the_inbox(
    operator: Operator,
) -> None:
    world = operator.world
    oid = next(iter(world.woo.emulator.store.orders))
    port = free_port()
    receiver = f"http://127.0.0.1:{port}"
    server = operator.popen("serve", "--port", str(port))
    try:
        wait_until(lambda: up(receiver))
        fire = f"{world.urls['woocommerce']}/_emulator/webhooks"
        target = f"{receiver}/webhooks/west/shop"
        forged = post(fire, {"order": oid, "delivery_url": target, "secret": "not-the-secret"})
        assert forged.status_code == 200 and forged.json()["status"] == 401
        assert pending(operator) == 0
        sent = post(
            fire,
            {"topic": "order.updated", "order": oid, "delivery_url": target,
             "secret": WOO_HOOK_SECRET},
        )  # fmt: skip
        assert sent.status_code == 200, sent.text
        assert sent.json()["status"] == 200 and sent.json()["topic"] == "order.updated"
        wait_until(lambda: pending(operator) == 1)
        assert post(fire, {"topic": "coupon.updated", "order": oid}).status_code == 400
        assert post(fire, {"order": oid, "delivery_url": target}).status_code == 400
        assert post(fire, {"order": 999999, "delivery_url": target}).status_code == 404
    finally:
        server.terminate()
        server.wait(timeout=10)
