"""The catalog scenario's platforms, inside their emulator processes: what each one holds,
what each catalog write request sets, the merchant's edits, and each platform's throttle.

``python -m bench.chaos.serve PLATFORM --catalog`` serves one of them behind the control
surface (faults and kills, as for orders) and a **write journal** outside it: every catalog
write request as the platform received it -- the variant, field and value each one sets
(read from the request body), the HTTP status, and whether its answer reached the worker
(a lost response or a kill on that write does not).  The verdict (``catalog_verify``) reads
the journal and the platform's own records, never the sync's store.

A row of ``catalog``: ``{id, product_id, sku, price, stock, name, status}``, canonical text
(price a plain decimal, stock a whole number, status ``active``/``inactive``), read straight
from the emulator's records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from ledgerbridge.sandbox.control import ControlSurface

Row = dict[str, str | None]
Write = tuple[str, str, str | None]  # key (variant, or product:ID), field, canonical value
Parse = Callable[[str, str, bytes], "list[Write] | None"]
SCOPE = "catalog"  # each storefront emulator serves one book


def price(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return format(Decimal(str(value)).normalize(), "f")


def stock(value: Any) -> str | None:
    return None if value is None else str(int(Decimal(str(value))))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


class Journal:
    """ASGI middleware outside the control surface: each catalog write request, as sent.

    ``delivered`` is False when the worker never got the answer (``lose_response``, or a
    kill right after the write committed: the surface drops the connection); ``applied``
    is the platform's own verdict (2xx, and no platform error in the body: Shopify's
    ``errors``, API2Cart's ``return_code``).  A lost answer's write was committed -- the
    surface only loses answers after the platform committed -- so it counts as applied.
    """

    def __init__(self, surface: ControlSurface, parse: Parse) -> None:
        self.surface, self.parse = surface, parse
        self.entries: list[dict[str, Any]] = []
        surface.exporters["writes"] = lambda q: self.entries[int(q.get("since", "0")) :]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/_sandbox/"):
            await self.surface(scope, receive, send)
            return
        messages, more = [], True
        while more:
            message = await receive()
            messages.append(message)
            more = bool(message.get("more_body"))
        body = b"".join(m.get("body", b"") for m in messages)
        replay = iter(messages)

        async def again() -> Any:
            return next(replay, {"type": "http.disconnect"})

        writes = self.parse(scope.get("method", "GET"), path, body)
        if writes is None:
            await self.surface(scope, again, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        entry: dict[str, Any] = {
            "t": time.time(), "scope": query.get("organization_id", SCOPE), "path": path,
            "writes": writes, "status": 0, "delivered": False, "applied": False,
        }  # fmt: skip
        self.entries.append(entry)
        answer: list[bytes] = []

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer.append(message.get("body", b""))
            await send(message)

        try:
            await self.surface(scope, again, watch)
            entry["delivered"] = True
        finally:
            entry["t_end"] = time.time()
            entry["applied"] = 200 <= entry["status"] < 300 and not _refused(b"".join(answer))


def _refused(body: bytes) -> bool:
    data = _json(body)
    if not isinstance(data, dict):
        return False
    return bool(data.get("errors")) or data.get("return_code", 0) not in (0, None)


# ---------------------------------------------------------------------------- Shopify


def shopify(products: int, seed: int) -> Journal:
    from ledgerbridge_shopify.emulator import catalog as cat
    from ledgerbridge_shopify.emulator.app import create_app
    from ledgerbridge_shopify.emulator.seed import PRODUCT_BASE

    app = create_app(
        orders=1, customers=1, products=products, seed=seed, bucket_size=10_000,
        restore_rate=1_000,
    )  # fmt: skip
    shop = app.shop

    def rows(_: Any = None) -> list[Row]:
        out = []
        for n in range(shop.config.products):
            product = shop.products.get(PRODUCT_BASE + n)
            for v in product["variants"] if product else []:
                out.append({
                    "id": v["id"], "product_id": product["id"], "sku": v.get("sku") or None,
                    "price": price(v["price"]), "stock": stock(v.get("inventoryQuantity")),
                    "name": product["title"],
                    "status": "active" if product["status"] == "ACTIVE" else "inactive",
                    "item": v["inventoryItem"]["id"],
                })  # fmt: skip
        return out

    def parse(method: str, path: str, body: bytes) -> list[Write] | None:
        data = _json(body) if method == "POST" and path.endswith("/graphql.json") else None
        if not isinstance(data, dict) or "mutation" not in str(data.get("query", ""))[:40]:
            return None
        items = {r["item"]: r["id"] for r in rows()}
        out: list[Write] = []
        for name, value in (data.get("variables") or {}).items():
            if name.startswith("v") and isinstance(value, list):  # productVariantsBulkUpdate
                for v in value:
                    if "price" in v:
                        out.append((v["id"], "price", price(v["price"])))
                    if "taxable" in v:
                        out.append((v["id"], "tax", str(v["taxable"]).lower()))
            elif name == "input":  # inventorySetQuantities
                for q in value.get("quantities", []):
                    key = items.get(q.get("inventoryItemId"), q.get("inventoryItemId"))
                    out.append((str(key), "stock", stock(q.get("quantity"))))
            elif name == "product":  # productUpdate: product-level fields
                fields = {"title": "name", "descriptionHtml": "description", "status": "status"}
                for k, f in fields.items():
                    if k in value:
                        v = value[k]
                        v = ("active" if v == "ACTIVE" else "inactive") if k == "status" else v
                        out.append((f"product:{value['id']}", f, v))
        return out

    def classify(method: str, path: str, query: dict[str, str], body: bytes) -> Any:
        data = _json(body) if method == "POST" and path.endswith("/graphql.json") else None
        text = str(data.get("query", "")) if isinstance(data, dict) else ""
        if not text.lstrip().startswith("mutation"):
            return None
        for field, kind in (
            ("productVariantsBulkUpdate", "variants"),
            ("inventorySetQuantities", "stock"),
            ("productUpdate", "product"),
        ):
            if field in text:
                return SCOPE, kind
        return SCOPE, "other"

    def edit(body: dict[str, Any]) -> dict[str, Any]:
        """The admin's product page: a new title (moves ``updatedAt``, shopify.md §5.3)."""
        pid = int(str(body["product_id"]).rsplit("/", 1)[1])
        product = cat._copy(shop.products.get(pid))
        product["title"] = body["name"]
        cat._touch(shop, pid, product)
        return {"ok": True}

    # shopify.md §4 and "Throttling": THROTTLED, "sometimes with HTTP 200" (the stricter case)
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": None}},
    }
    surface = ControlSurface(
        app, classify, responders={"throttle": (200, json.dumps(throttled).encode())},
        exporters={"catalog": rows}, actions={"edit": edit}, seed=seed, peek_body=True,
    )  # fmt: skip
    return Journal(surface, parse)


# ---------------------------------------------------------------------------- WooCommerce


HOST_429 = b'{"code": "too_many_requests", "message": "Too Many Requests"}'


def woocommerce(products: int, seed: int) -> Journal:
    from ledgerbridge_woocommerce.emulator.app import BASE, create_app
    from ledgerbridge_woocommerce.emulator.data import dates, product
    from ledgerbridge_woocommerce.emulator.data import seed as woo_seed

    store = woo_seed(orders=2, seed_value=seed)
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for pid in sorted(store.products)[products:]:  # a smaller shop: its first products
        del store.products[pid]
        store.variations.pop(pid, None)
    for k in range(max(0, products - len(store.products))):  # simple products with a SKU
        pid = 2000 + k
        store.products[pid] = product(
            pid, f"Chaos widget {k}", f"CW-{k:04d}", Decimal(500 + 37 * k % 4000) / 100,
            start - timedelta(days=30),
        )  # fmt: skip
    app = create_app(store=store)
    emulator = app.emulator

    def status(value: Any) -> str:
        return "active" if value == "publish" else "inactive"

    def one(row: dict[str, Any], parent: dict[str, Any], st: Any) -> Row:
        managed = row.get("manage_stock") and row.get("stock_quantity") is not None
        return {
            "id": str(row["id"]), "product_id": str(parent["id"]), "sku": row.get("sku") or None,
            "price": price(row.get("regular_price") or row.get("price")),
            "stock": stock(row["stock_quantity"]) if managed else None,
            "name": parent["name"], "status": status(st),
        }  # fmt: skip

    def rows(_: Any = None) -> list[Row]:
        out = []
        for p in store.products.values():
            if p["type"] == "variable":
                out += [one(v, p, v.get("status")) for v in store.variations.get(p["id"], [])]
            else:
                out.append(one(p, p, p.get("status")))
        return out

    fields = {"regular_price": "price", "stock_quantity": "stock", "name": "name",
              "status": "status", "tax_status": "tax", "description": "description"}  # fmt: skip

    def parse(method: str, path: str, body: bytes) -> list[Write] | None:
        if method != "POST" or not path.endswith("/batch") or not path.startswith(BASE):
            return None
        data = _json(body)
        out: list[Write] = []
        for change in (data or {}).get("update", []) if isinstance(data, dict) else []:
            for k, f in fields.items():
                if k in change:
                    v = change[k]
                    v = {"price": price, "stock": stock, "status": status}.get(f, str)(v)
                    out.append((str(change.get("id")), f, v))
        return out

    def classify(method: str, path: str, query: dict[str, str]) -> Any:
        if method == "POST" and path == f"{BASE}/products/batch":
            return SCOPE, "batch"
        if (
            method == "POST"
            and path.startswith(f"{BASE}/products/")
            and path.endswith("/variations/batch")
        ):
            return SCOPE, "variations"
        return None

    def edit(body: dict[str, Any]) -> dict[str, Any]:
        """The admin's product page: a new name (moves ``date_modified``)."""
        row = store.products[int(body["product_id"])]
        row.update(name=body["name"], **dates("date_modified", emulator.now()))
        return {"ok": True}

    surface = ControlSurface(
        app, classify,
        # woocommerce.md §"Rate limits": none in core; hosts and WAFs answer 429
        responders={"throttle": (429, HOST_429)},
        exporters={"catalog": rows}, actions={"edit": edit}, seed=seed,
    )  # fmt: skip
    return Journal(surface, parse)


# ---------------------------------------------------------------------------- API2Cart


def api2cart(products: int, seed: int, api_key: str, store_key: str) -> Journal:
    import random

    from ledgerbridge_api2cart.emulator import create_app, create_state
    from ledgerbridge_api2cart.emulator.seed import _product, stamp

    state = create_state(
        api_key=api_key, stores={store_key: ("EtsyAPIv3", "EUR")}, orders=2, seed=seed
    )
    store = state.stores[store_key]
    rng = random.Random(seed)
    base = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for key in sorted(store.products)[products:]:  # a smaller store: its first products
        del store.products[key]
    for key in [k for k, c in store.children.items() if c["parent_id"] not in store.products]:
        del store.children[key]
    for number in range(len(store.products), products):
        product, children = _product(rng, store, number, base + timedelta(minutes=11 * number))
        store.products[product["id"]] = product
        for child in children:
            store.children[child["id"]] = child
    app = create_app(state)

    def status(row: dict[str, Any], parent: dict[str, Any]) -> str:
        own = row.get("status")
        if own is not None:
            return "active" if own in ("enabled", "active", True) else "inactive"
        return "active" if parent.get("avail_sale", True) else "inactive"

    def rows(_: Any = None) -> list[Row]:
        out: list[Row] = []
        kids: dict[str, list[dict[str, Any]]] = {}
        for c in store.children.values():
            kids.setdefault(c["parent_id"], []).append(c)
        for p in store.products.values():
            for c in kids.get(p["id"], []) or [p]:
                out.append({
                    "id": str(c["id"]), "product_id": str(p["id"]),
                    "sku": c.get("sku") or c.get("u_sku") or c.get("u_model") or None,
                    "price": price(c.get("default_price", c.get("price"))),
                    "stock": stock(c.get("quantity")), "name": p.get("name"),
                    "status": status(c, p),
                })  # fmt: skip
        return out

    def parse(method: str, path: str, body: bytes) -> list[Write] | None:
        name = path.rsplit("/", 1)[-1]
        if method != "PUT" or name not in ("product.update.json", "product.variant.update.json"):
            return None
        data = _json(body)
        if not isinstance(data, dict):
            return []
        key = str(data.get("id"))
        out: list[Write] = []
        for k, f, norm in (
            ("price", "price", price), ("quantity", "stock", stock), ("name", "name", str),
            ("avail", "status", lambda v: "active" if v else "inactive"),
            ("available_for_sale", "status", lambda v: "active" if v else "inactive"),
            ("taxable", "tax", lambda v: str(v).lower()), ("description", "description", str),
        ):  # fmt: skip
            if k in data:
                out.append((key, f, norm(data[k])))
        return out

    def classify(method: str, path: str, query: dict[str, str]) -> Any:
        name = path.rsplit("/", 1)[-1]
        if method == "PUT" and name == "product.update.json":
            return SCOPE, "product"
        if method == "PUT" and name == "product.variant.update.json":
            return SCOPE, "variant"
        return None

    def edit(body: dict[str, Any]) -> dict[str, Any]:
        """The store's admin: a new product name (moves ``modified_at``)."""
        row = store.products[str(body["product_id"])]
        row["name"] = body["name"]
        row["modified_at"] = stamp(datetime.now(UTC))
        return {"ok": True}

    # api2cart.md §4 and the return codes: 7, "store request limit exceeded", in an HTTP 200
    limited = {"return_code": 7, "return_message": "Store request limit exceeded"}
    surface = ControlSurface(
        app, classify, responders={"throttle": (200, json.dumps(limited).encode())},
        exporters={"catalog": rows}, actions={"edit": edit}, seed=seed,
    )  # fmt: skip
    return Journal(surface, parse)


# ---------------------------------------------------------------------------- Zoho Books


def zohobooks(surface: ControlSurface) -> Journal:
    """The Zoho Books surface (``controlled``) with the catalog's export, edits and journal."""
    from ledgerbridge_zohobooks.emulator.app import API
    from ledgerbridge_zohobooks.emulator.resources import _now

    state = surface.emulator.state  # type: ignore[union-attr]

    def rows(q: dict[str, str]) -> list[Row]:
        org = state.organizations[q.get("scope", "")]
        out: list[Row] = []
        for i in org.items.values():
            tracked = i.get("item_type") == "inventory"
            out.append({
                "id": str(i["item_id"]), "product_id": str(i["item_id"]),
                "sku": i.get("sku") or None, "price": price(i.get("rate")),
                "stock": stock(i.get("stock_on_hand")) if tracked else None,
                "name": i.get("name"), "status": i.get("status", "active"),
            })  # fmt: skip
        return out

    def parse(method: str, path: str, body: bytes) -> list[Write] | None:
        rest = path.removeprefix(API)
        parts = rest.strip("/").split("/")
        if not path.startswith(API) or parts[0] != "items" or len(parts) < 2:
            return None
        if method == "POST" and len(parts) == 3 and parts[2] in ("active", "inactive"):
            return [(parts[1], "status", parts[2])]
        if method != "PUT" or len(parts) != 2:
            return None
        data = _json(body)
        out: list[Write] = []
        for k, f, norm in (("name", "name", str), ("rate", "price", price),
                           ("description", "description", str)):  # fmt: skip
            if isinstance(data, dict) and k in data:
                out.append((parts[1], f, norm(data[k])))
        return out

    def edit(body: dict[str, Any]) -> dict[str, Any]:
        """The web app's item page: a new rate, or stock moved by an adjustment."""
        item = state.organizations[body["org"]].items[body["item_id"]]
        if "price" in body:
            item["rate"] = Decimal(body["price"])
        if "stock" in body:
            item["stock_on_hand"] = Decimal(body["stock"])
        item["last_modified_time"] = _now()
        return {"ok": True}

    surface.exporters["catalog"] = rows
    surface.actions["edit_item"] = edit
    return Journal(surface, parse)
