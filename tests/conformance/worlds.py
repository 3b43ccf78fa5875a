"""The built-in sources' worlds for the standard source checks (``ledgerbridge.testing.conformance``):
each emulator with a few orders, and how to change, break and deliver one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from pydantic import SecretStr

from ledgerbridge.contracts import ConnectorContext, WebhookRequest
from ledgerbridge.testing.conformance import Wrap, tampered_body
from ledgerbridge_api2cart.emulator import create_app as api2cart_app
from ledgerbridge_api2cart.emulator import create_state
from ledgerbridge_api2cart.settings import Api2CartSecrets, Api2CartSettings
from ledgerbridge_api2cart.source import Api2CartSource
from ledgerbridge_shopify.emulator import DEFAULT_TOKEN, WebhookSender
from ledgerbridge_shopify.emulator import create_app as shopify_app
from ledgerbridge_shopify.emulator.seed import ORDER_BASE
from ledgerbridge_shopify.emulator.webhooks import rest_order
from ledgerbridge_shopify.plugin import ShopifySecrets, ShopifySettings
from ledgerbridge_shopify.source import ShopifySource
from ledgerbridge_woocommerce.emulator import create_app as woo_app
from ledgerbridge_woocommerce.emulator import seed as woo_seed
from ledgerbridge_woocommerce.emulator.data import dates
from ledgerbridge_woocommerce.emulator.webhooks import Webhook
from ledgerbridge_woocommerce.settings import WooCommerceSecrets, WooCommerceSettings
from ledgerbridge_woocommerce.source import WooCommerceSource
from tests.api2cart.conftest import FakeClock as Api2CartClock
from tests.shopify.helpers import APP_SECRET, ScaledClock
from tests.woocommerce.conftest import DEFAULT_KEY, DEFAULT_SECRET, FAST
from tests.woocommerce.conftest import FakeClock as WooClock


def _transport(app: Any, wrap: Wrap | None) -> httpx.AsyncBaseTransport:
    inner = httpx.ASGITransport(app)
    return wrap(inner) if wrap else inner


class ShopifyWorld:
    def __init__(self) -> None:
        self.clock = ScaledClock()
        self.app = shopify_app(orders=7, customers=3, products=3, clock=self.clock.now)
        self.shop = self.app.shop

    def source(self, wrap: Wrap | None = None) -> ShopifySource:
        context = ConnectorContext(
            connection_id="c1",
            tenant_id="t1",
            settings=ShopifySettings(shop="emulated", base_url="http://emulated.test"),
            secrets=ShopifySecrets(
                access_token=SecretStr(DEFAULT_TOKEN),
                app_secret=SecretStr(APP_SECRET),
            ),
            transport=_transport(self.app, wrap),
            clock=self.clock,
        )
        return ShopifySource(context)

    def touch(self, external_id: str) -> None:
        self.shop.touch_order(int(external_id) - ORDER_BASE, note="changed")

    def break_record(self, external_id: str) -> None:
        record = dict(self.shop.orders.get(int(external_id)))
        total = record["totalPriceSet"]
        for side in ("shopMoney", "presentmentMoney"):
            amount = Decimal(str(total[side]["amount"])) + 10
            total[side] = {**total[side], "amount": str(amount)}
        self.shop.orders.change(int(external_id), record)

    def webhook(self, external_id: str) -> WebhookRequest:
        order = self.shop.orders.get(int(external_id))
        headers, body = WebhookSender(APP_SECRET).build("orders/updated", rest_order(order))
        return WebhookRequest(headers, body)

    tamper = staticmethod(tampered_body)


class WooCommerceWorld:
    SECRET = "whsec-conformance"

    def __init__(self) -> None:
        self.app = woo_app(woo_seed(orders=7))
        self.emulator = self.app.emulator

    def source(self, wrap: Wrap | None = None) -> WooCommerceSource:
        context = ConnectorContext(
            connection_id="woo-1",
            tenant_id="t1",
            settings=WooCommerceSettings(store_url="https://shop.test"),
            secrets=WooCommerceSecrets(
                consumer_key=DEFAULT_KEY, consumer_secret=DEFAULT_SECRET, webhook_secret=self.SECRET
            ),
            transport=_transport(self.app, wrap),
            clock=WooClock(),
        )
        return WooCommerceSource(context, policy=FAST)

    def touch(self, external_id: str) -> None:
        # What Emulator.touch_order does, without its (async) webhook notification.
        order = self.emulator.store.orders[int(external_id)]
        order.update(customer_note="changed", **dates("date_modified", self.emulator.now()))

    def break_record(self, external_id: str) -> None:
        order = self.emulator.store.orders[int(external_id)]
        order["total"] = str(Decimal(order["total"]) + 10)

    def webhook(self, external_id: str) -> WebhookRequest:
        hook = Webhook(1, "ledgerbridge", "order.updated", "https://hooks.test", self.SECRET)
        order = self.emulator.store.orders[int(external_id)]
        delivery = self.emulator.sender.delivery(hook, order)
        return WebhookRequest(delivery.headers, delivery.body)

    tamper = staticmethod(tampered_body)


class Api2CartWorld:
    API_KEY = "conformance-api-key"
    STORE_KEY = "conformance-store-key"
    TOKEN = "conformance-hook-token"

    def __init__(self) -> None:
        self.state = create_state(
            api_key=self.API_KEY, stores={self.STORE_KEY: ("Shopify", "USD")}, orders=7
        )
        self.app = api2cart_app(self.state)
        self.store = self.state.stores[self.STORE_KEY]

    def source(self, wrap: Wrap | None = None) -> Api2CartSource:
        context = ConnectorContext(
            connection_id="tenant-a/api2cart",
            tenant_id="tenant-a",
            settings=Api2CartSettings(
                base_url="http://api2cart.test/v1.1", cart=self.store.cart_id
            ),
            secrets=Api2CartSecrets(
                api_key=SecretStr(self.API_KEY),
                store_key=SecretStr(self.STORE_KEY),
                webhook_token=SecretStr(self.TOKEN),
            ),
            transport=_transport(self.app, wrap),
            clock=Api2CartClock(),
        )
        return Api2CartSource(context)

    def touch(self, external_id: str) -> None:
        newest = max(o["modified_at"]["value"] for o in self.store.orders.values())
        order = self.store.orders[external_id]
        order["modified_at"] = {**order["modified_at"], "value": _later(newest)}

    def break_record(self, external_id: str) -> None:
        order = self.store.orders[external_id]
        order["total"]["total"] = Decimal(str(order["total"]["total"])) + 10

    def webhook(self, external_id: str) -> WebhookRequest:
        headers = {
            "X-Webhook-Store-Id": "1",
            "X-Webhook-Action": "update",
            "X-Webhook-Entity": "order",
        }
        body = json.dumps({"order_id": external_id}).encode()
        return WebhookRequest(headers, body, path=f"/hooks/api2cart/tenant-a/{self.TOKEN}")

    def tamper(self, request: WebhookRequest) -> WebhookRequest:
        # API2Cart signs nothing: the URL's token is what authenticates a delivery.
        return replace(request, path=request.path.rsplit("/", 1)[0] + "/guessed-token")


def _later(stamp: str) -> str:
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z") + timedelta(hours=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


WORLDS = {
    "shopify": ShopifyWorld,
    "woocommerce": WooCommerceWorld,
    "api2cart": Api2CartWorld,
}
