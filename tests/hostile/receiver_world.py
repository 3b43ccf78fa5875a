"""A fresh receiver world for hostile-input tests: a config with one WooCommerce source
(webhook secret known) and one Zoho Books target, on a brand-new SQLite store.

Nothing here is contacted over the network: the receiver only verifies, parses and
stores deliveries, so the platform addresses may point nowhere.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from ledgerbridge.http.signatures import hmac_sha256

REPO = Path(__file__).resolve().parents[2]
HOOK_SECRET = "hostile-hook-secret"
SHOPIFY_SECRET = "hostile-shopify-secret"
API2CART_TOKEN = "hostile-api2cart-token"

CONFIG = """\
version: 1
database: "{database}"
tenants:
  - id: west
    connections:
      shop:
        platform: woocommerce
        settings: {{store_url: "http://127.0.0.1:9", allow_http: true, currency: USD}}
        secrets: {{consumer_key: ck_x, consumer_secret: cs_x, webhook_secret: {hook}}}
      books:
        platform: zohobooks
        settings: {{organization_id: "123", data_center: com}}
        secrets: {{client_id: id, client_secret: sec, refresh_token: tok}}
    pipelines:
      - id: west-orders
        source: shop
        target: books
        mapping: woocommerce-to-zohobooks
  - id: north
    connections:
      shop:
        platform: shopify
        settings: {{shop: hostile, base_url: "http://127.0.0.1:9"}}
        secrets: {{access_token: shpat_x, app_secret: {shopify}}}
      books:
        platform: zohobooks
        settings: {{organization_id: "456", data_center: com}}
        secrets: {{client_id: id, client_secret: sec, refresh_token: tok}}
    pipelines:
      - id: north-orders
        source: shop
        target: books
        mapping: shopify-to-zohobooks
  - id: cart
    connections:
      shop:
        platform: api2cart
        settings: {{base_url: "http://127.0.0.1:9/v1.1", cart: EtsyAPIv3}}
        secrets: {{api_key: k, store_key: s, webhook_token: {token}}}
      books:
        platform: zohobooks
        settings: {{organization_id: "789", data_center: com}}
        secrets: {{client_id: id, client_secret: sec, refresh_token: tok}}
    pipelines:
      - id: cart-orders
        source: shop
        target: books
        mapping: api2cart-to-zohobooks
"""


@dataclass
class World:
    directory: Path
    config_path: Path
    database_url: str
    env: dict[str, str]

    @property
    def database_path(self) -> Path:
        return self.directory / "state.db"


def make_world(directory: Path) -> World:
    directory.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{directory / 'state.db'}"
    config_path = directory / "ledgerbridge.yaml"
    config_path.write_text(
        CONFIG.format(
            database=database_url, hook=HOOK_SECRET, shopify=SHOPIFY_SECRET, token=API2CART_TOKEN
        )
    )
    config_path.chmod(0o600)
    env = dict(os.environ)
    env.pop("LEDGERBRIDGE_SECRET_KEY_FILE", None)
    env.pop("LEDGERBRIDGE_CONFIG", None)
    env["LEDGERBRIDGE_SECRET_KEY"] = Fernet.generate_key().decode()
    return World(directory, config_path, database_url, env)


def woo_delivery(
    order_id: Any, delivery_id: str, *, body: bytes | None = None
) -> tuple[bytes, dict[str, str]]:
    """A correctly signed WooCommerce ``order.updated`` delivery."""
    if body is None:
        body = json.dumps(
            {"id": order_id, "status": "processing", "date_modified_gmt": "2026-01-02T03:04:05"}
        ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Delivery-ID": delivery_id,
        "X-WC-Webhook-Signature": hmac_sha256(HOOK_SECRET, body),
    }
    return body, headers


def shopify_delivery(body: bytes, delivery_id: str) -> tuple[str, bytes, dict[str, str]]:
    """A correctly signed Shopify ``orders/updated`` delivery: (path, body, headers)."""
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Webhook-Id": delivery_id,
        "X-Shopify-Hmac-Sha256": hmac_sha256(SHOPIFY_SECRET, body),
    }
    return "/webhooks/north/shop", body, headers


def api2cart_delivery(body: bytes) -> tuple[str, bytes, dict[str, str]]:
    """An API2Cart ``order.update`` delivery to the callback URL holding the token."""
    headers = {
        "Content-Type": "application/json",
        "X-Webhook-Entity": "order",
        "X-Webhook-Action": "update",
        "X-Webhook-Store-Id": "1",
    }
    return f"/webhooks/cart/shop/{API2CART_TOKEN}", body, headers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(world: World, port: int) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "ledgerbridge", "serve", "--port", str(port)]
    return subprocess.Popen(
        [*argv, "-c", str(world.config_path)],
        env=world.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def wait_listening(port: int, timeout: float = 30.0) -> None:
    """Until the port accepts connections (not until the receiver is ready)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing listens on port {port}") from None
            time.sleep(0.05)


def health(url: str) -> int | None:
    try:
        return httpx.get(url + "/health", timeout=2).status_code
    except httpx.HTTPError:
        return None
