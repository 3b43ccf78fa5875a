"""Hostile webhook deliveries and the receiver's property.

One configuration with a Shopify, a WooCommerce and an API2Cart connection (each
with its webhook secret) and a SQLite store; ``Delivery`` is one request and what
it is (``kind``) so that the outcome can be judged:

* ``signed``     -- authentic, well-formed: stored (or duplicate), 2xx;
* ``unsigned``/``missigned`` -- must never be stored (401);
* ``bad-id``     -- authentic, but the id is not an id: must never be stored (4xx);
* ``nested``     -- authentic, deeply nested JSON: 400, not 500;
* ``unknown``    -- unknown tenant or connection, path tricks: 404 (or 401);
* ``oversize``   -- over the body limit: 413.

The property (``judge``): no 5xx (503 only while the store is not ready), and
nothing stored that should not be.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHOPIFY_SECRET = "shpss_fuzz_app_secret_5f1c0d2e"
WOO_SECRET = "whsec-fuzz-woo-8a41c7"
A2C_TOKEN = "a2c-fuzz-token-93be1f"
SECRETS = (SHOPIFY_SECRET, WOO_SECRET, A2C_TOKEN)

CONFIG = """\
version: 1
database: {database}
tenants:
  - id: acme
    connections:
      shop:
        platform: shopify
        settings: {{shop: acme-fuzz}}
        secrets: {{access_token: "shpat_fuzz_token_0b7e", app_secret: "{shopify}"}}
      woo:
        platform: woocommerce
        settings: {{store_url: "https://woo.example", currency: USD}}
        secrets:
          consumer_key: ck_fuzz_4d2a
          consumer_secret: cs_fuzz_9e8f
          webhook_secret: "{woo}"
      cart:
        platform: api2cart
        settings: {{base_url: "https://api.api2cart.example/v1.1", cart: Shopify}}
        secrets:
          api_key: a2c-fuzz-api-key-77aa
          store_key: a2c-fuzz-store-key-1c3d
          webhook_token: "{a2c}"
"""


def write_config(root: Path, database: str | None = None) -> Path:
    """``ledgerbridge.yaml`` for the three connections; the store in ``root``."""
    database = database or f"sqlite:///{root / 'fuzz.db'}"
    path = root / "ledgerbridge.yaml"
    path.write_text(
        CONFIG.format(database=database, shopify=SHOPIFY_SECRET, woo=WOO_SECRET, a2c=A2C_TOKEN)
    )
    return path


@dataclass
class Delivery:
    kind: str
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    external_id: Any = None

    @property
    def storable(self) -> bool:
        return self.kind == "signed"


def _b64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify(body: bytes, *, secret: str | None = SHOPIFY_SECRET, kind: str = "signed") -> Delivery:
    headers = {
        "content-type": "application/json",
        "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-03-01T10:00:00Z",
    }
    if secret is not None:
        headers["X-Shopify-Hmac-Sha256"] = _b64_hmac(secret, body)
    return Delivery(kind, "/webhooks/acme/shop", body, headers)


def woocommerce(body: bytes, *, secret: str | None = WOO_SECRET, kind: str = "signed") -> Delivery:
    headers = {
        "content-type": "application/json",
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Delivery-ID": str(uuid.uuid4()),
    }
    if secret is not None:
        headers["X-WC-Webhook-Signature"] = _b64_hmac(secret, body)
    return Delivery(kind, "/webhooks/acme/woo", body, headers)


def api2cart(body: bytes, *, token: str = A2C_TOKEN, kind: str = "signed") -> Delivery:
    headers = {
        "content-type": "application/json",
        "X-Webhook-Store-Id": "1",
        "X-Webhook-Action": "update",
        "X-Webhook-Entity": "order",
    }
    return Delivery(kind, f"/webhooks/acme/cart/{token}", body, headers)


PLATFORMS = {"shopify": shopify, "woocommerce": woocommerce, "api2cart": api2cart}


def order_body(platform: str, external_id: Any, stamp: str = "2026-03-01T10:00:00") -> bytes:
    if platform == "shopify":
        data: dict[str, Any] = {"id": external_id, "updated_at": stamp + "Z"}
    elif platform == "woocommerce":
        data = {"id": external_id, "date_modified_gmt": stamp, "status": "processing"}
    else:
        data = {"order_id": external_id, "modified_at": {"value": stamp + "+0000"}}
    return dumps(data)


def dumps(data: Any) -> bytes:
    try:
        return json.dumps(data, default=str).encode()
    except ValueError:  # a 5,000-digit int: JSON has no limit, Python's str() has
        return json.dumps(data, default=str).encode()


def nested_body(platform: str, depth: int) -> bytes:
    key = "order_id" if platform == "api2cart" else "id"
    return b'{"' + key.encode() + b'": 1, "x": ' + b"[" * depth + b"]" * depth + b"}"


BAD_IDS: list[Any] = [
    {"x": 1},
    True,
    False,
    "nan",
    float("nan"),
    "",
    " ",
    [1],
    None,
    10**5000,
    "9" * 5000,
    "x" * 100_000,
    "a\x00b",
    "../../etc/passwd\n",
    -1.5,
]
"""Ids that are not ids: wrong JSON types, ``nan``, 5,000 digits, 100,000 characters."""

CLEARLY_BAD_IDS: list[Any] = [
    {"x": 1},
    True,
    False,
    None,
    [1],
    float("nan"),
    10**5000,
    "9" * 5000,
    "x" * 100_000,
]
"""The ids no validation may let through (wrong JSON type, NaN, over 200 characters); the
others above (blank, control characters, a path) are judged by ``valid_stored_id``."""


def bad_id_body(platform: str, value: Any) -> bytes:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4000:
        key = "order_id" if platform == "api2cart" else "id"
        return b'{"' + key.encode() + b'": ' + b"9" * 5000 + b"}"
    if isinstance(value, float):  # NaN and floats as JSON numbers, not strings
        key = "order_id" if platform == "api2cart" else "id"
        return f'{{"{key}": {json.dumps(value)}}}'.encode()
    return order_body(platform, value)


PATH_TRICKS = [
    "/webhooks/acme/nope",
    "/webhooks/nobody/shop",
    "/webhooks/acme/../nobody/shop",
    "/webhooks/%2e%2e/acme/shop",
    "/webhooks/acme/shop%2f..%2fwoo",
    "/webhooks/acme/shop/../../../etc/passwd",
    "/webhooks/ACME/SHOP",
    "/webhooks/acme/shop/extra/segments",
    "/webhooks/acme/" + "a" * 5000,
    "/webhooks/acme/%00",
    "/webhooks/acme/%ff%fe",
    "/webhooks/acme/cart/wrong-token",
    "/webhooks/acme/cart/" + A2C_TOKEN + "x",
    "/webhooks//shop",
    "/webhooks/nobody/woo/" + "z" * 300 + "?x=" + "y" * 2000,
]


def forged(platform: str, body: bytes, kind: str, rng: random.Random) -> Delivery:
    """A delivery without a signature (``unsigned``) or with a wrong one (``missigned``)."""
    if platform == "api2cart":
        if kind == "unsigned":
            delivery = api2cart(body, kind=kind)
            delivery.path = "/webhooks/acme/cart"
            return delivery
        return api2cart(body, token=rng.choice(["x", A2C_TOKEN[:-1], "guess"]), kind=kind)
    make = shopify if platform == "shopify" else woocommerce
    if kind == "unsigned":
        return make(body, secret=None, kind=kind)
    delivery = make(
        body, secret=rng.choice(["guess", SECRETS[0] + "x", SECRETS[1][:-1]]), kind=kind
    )
    if rng.random() < 0.3:  # the right secret, but the body altered after signing
        delivery = make(body, kind=kind)
        delivery.body = body.replace(b"10:", b"11:") + b" "
    return delivery


def random_delivery(rng: random.Random, counter: int) -> Delivery:
    """One delivery of a random kind (mostly the interesting ones)."""
    platform = rng.choice(list(PLATFORMS))
    kind = rng.choices(
        ["signed", "unsigned", "missigned", "bad-id", "nested", "unknown", "oversize", "garbage"],
        weights=[30, 10, 15, 15, 5, 10, 3, 12],
    )[0]
    oid = str(1000 + counter)
    if kind == "signed":
        return PLATFORMS[platform](
            order_body(platform, oid, f"2026-03-01T10:{counter % 60:02d}:00")
        )
    if kind in ("unsigned", "missigned"):
        return forged(platform, order_body(platform, oid), kind, rng)
    if kind == "bad-id":
        value = rng.choice(BAD_IDS)
        d = PLATFORMS[platform](bad_id_body(platform, value))
        d.kind, d.external_id = "bad-id", value
        return d
    if kind == "nested":
        d = PLATFORMS[platform](nested_body(platform, rng.choice([5_000, 100_000])))
        d.kind = "nested"
        return d
    if kind == "unknown":
        d = PLATFORMS[platform](order_body(platform, oid))
        d.kind, d.path = "unknown", rng.choice(PATH_TRICKS)
        return d
    if kind == "oversize":
        d = PLATFORMS[platform](b'{"id": 1, "pad": "' + b"x" * (2 * 1024 * 1024 + 10) + b'"}')
        d.kind = "oversize"
        return d
    # garbage: signed, but the body is not an order at all
    body = rng.choice(
        [
            b"",
            b"null",
            b"[]",
            b"\xff\xfe\x00",
            b"{",
            b'"x"',
            b"1e999999",
            b"{}",
            b"a: b",
        ]
    )
    d = PLATFORMS[platform](body)
    d.kind = "garbage"
    return d


def judge(
    delivery: Delivery, status: int, stored_ids: list[str], *, ready: bool = True
) -> list[str]:
    """What is wrong with this outcome (empty: the property holds).

    ``stored_ids`` are the ids the inbox gained through this delivery.
    """
    problems = []
    if status >= 500 and not (status == 503 and not ready):
        problems.append(f"5xx:{status}")
    if stored_ids and delivery.kind in ("unsigned", "missigned", "unknown", "oversize"):
        problems.append(f"accepted-bad:{delivery.kind}")
    if delivery.kind in ("unsigned", "missigned") and 200 <= status < 300:
        problems.append(f"accepted-bad:{delivery.kind} answered {status}")
    for ident in stored_ids:
        if not valid_stored_id(ident):
            problems.append(f"stored-bad:{ident[:30]!r}")
    if delivery.kind == "nested" and status != 400:
        problems.append(f"nested answered {status}")
    return problems


def valid_stored_id(ident: str) -> bool:
    """A stored external id: a platform id of 1-200 printable characters, not a stand-in
    for a JSON value (``True``, ``nan``, ``{'x': 1}``)."""
    if not (0 < len(ident) <= 200) or not ident.isprintable() or ident != ident.strip():
        return False
    if ident.lower() in ("true", "false", "none", "null", "nan", "inf", "-inf", "infinity"):
        return False
    return not ident.startswith(("{", "["))
