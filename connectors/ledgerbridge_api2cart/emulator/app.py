"""A Starlette app that answers like API2Cart v1.1 for what the connector uses.

``/v1.1/{method}.json`` with the envelope (``return_code`` + HTTP 200 for
errors too), header auth, the default-``params`` trap, ``response_fields``,
``rounding_precision``, server-side cursors that must be sent alone, return
codes on demand (``state.inject``) and generic faults (``FaultInjector``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledgerbridge.sandbox import FaultConfig, FaultInjector

from . import controls, shipments, transactions
from .fieldspec import apply_params, apply_response_fields
from .seed import USER_DEFINED, StoreData, seed_store

DEFAULT_ORDER_PARAMS = "order_id,customer,totals,address,items,bundles,status"
MAX_COUNT = 250
_DEC = re.compile(r'"__dec__(-?[0-9.E+-]+)__"')


class A2CError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Injection:
    code: int
    remaining: int
    methods: frozenset[str] | None = None
    message: str = "injected"


@dataclass
class Cursor:
    method: str
    store_key: str
    ids: list[str]
    offset: int
    count: int
    fields: dict[str, str]


@dataclass
class EmulatorState:
    """What the emulator holds; tests change it while it runs."""

    api_keys: set[str]
    stores: dict[str, StoreData]
    default_precision: int = 2
    injections: list[Injection] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    cursors: dict[str, Cursor] = field(default_factory=dict)
    idempotency: dict[str, dict[str, Any]] = field(default_factory=dict)
    _serial: int = 0

    def inject(
        self, code: int, times: int = 1, methods: Iterable[str] | None = None, message: str = ""
    ) -> None:
        """Answer the next ``times`` matching calls with ``return_code`` ``code``."""
        self.injections.append(
            Injection(
                code,
                times,
                frozenset(methods) if methods else None,
                message or f"injected return_code {code}",
            )
        )

    def calls(self, method: str) -> list[dict[str, str]]:
        return [params for name, params in self.requests if name == method]

    def next_token(self) -> str:
        self._serial += 1
        digest = hashlib.sha256(f"cursor:{self._serial}".encode()).digest() * 3
        return base64.b64encode(digest[:59]).decode()  # contains '+', '/' and '='


# ---------------------------------------------------------------------- rendering


def _plain(value: Any, quantum: Decimal, places: int) -> Any:
    """Amounts rounded half-up to ``places`` decimals and marked for exact rendering."""
    kind = type(value)
    if kind is dict:
        return {k: _plain(v, quantum, places) for k, v in value.items()}
    if kind is list:
        return [_plain(v, quantum, places) for v in value]
    if kind is Decimal:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places:
            value = value.quantize(quantum, ROUND_HALF_UP)
        return f"__dec__{value}__"
    return value


def envelope(
    result: Any, *, code: int = 0, message: str = "", pagination: Any = None, precision: int = 2
) -> dict[str, Any]:
    body: dict[str, Any] = {"return_code": code, "return_message": message}
    if pagination is not None:
        body["pagination"] = pagination
    body["result"] = result
    rendered: dict[str, Any] = _plain(body, Decimal(1).scaleb(-precision), precision)
    return rendered


def render(body: dict[str, Any]) -> Response:
    """JSON with amounts written as exact numbers (never through float)."""
    text = _DEC.sub(lambda m: m.group(1), json.dumps(body, ensure_ascii=False))
    return Response(text, media_type="application/json")


# ---------------------------------------------------------------------- helpers


def _bool(params: dict[str, str], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if value not in ("true", "false", "1", "0"):
        raise A2CError(109, f"Parameter '{name}' must be boolean")
    return value in ("true", "1")


def _int(params: dict[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not value.lstrip("-").isdigit():
        raise A2CError(109, f"Parameter '{name}' must be integer")
    return int(value)


def _when(text: str, name: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise A2CError(109, f"Parameter '{name}' has a wrong date format") from None


def _stamp(record: dict[str, Any], name: str) -> datetime:
    return datetime.strptime(record[name]["value"], "%Y-%m-%dT%H:%M:%S%z")


ALLOWED: dict[str, set[str]] = {
    "order.list": {
        "start", "count", "page_cursor", "ids", "order_ids", "modified_from", "modified_to",
        "created_from", "created_to", "is_deleted", "sort_by", "sort_direction", "params",
        "response_fields", "exclude", "rounding_precision", "allow_user_defined_order_statuses",
    },
    "order.info": {
        "id", "order_id", "params", "response_fields", "exclude", "rounding_precision",
        "allow_user_defined_order_statuses",
    },
    "order.status.list": {"allow_user_defined_order_statuses", "response_fields", "action"},
    "customer.list": {
        "start", "count", "page_cursor", "ids", "modified_from", "modified_to", "include_guests",
        "sort_by", "sort_direction", "params", "response_fields", "exclude",
    },
    "product.list": {
        "start", "count", "page_cursor", "product_ids", "modified_from", "modified_to",
        "sort_by", "sort_direction", "params", "response_fields", "exclude",
    },
    "product.child_item.list": {
        "start", "count", "page_cursor", "product_id", "product_ids", "params",
        "response_fields", "exclude",
    },
    "cart.info": {"params", "response_fields", "exclude"},
    "webhook.list": {"start", "count", "entity", "action", "active", "ids", "params"},
    "webhook.create": set(),
    "product.update": set(),  # a PUT: its parameters are in the JSON body (catalog.py)
    "product.variant.update": set(),
    "order.shipment.list": shipments.ALLOWED,
    "order.transaction.list": transactions.ALLOWED,
}  # fmt: skip


class Api2CartEmulator:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.handlers: dict[str, Callable[[StoreData, str, dict[str, str], Any], Any]] = {
            "order.list": self.order_list,
            "order.info": self.order_info,
            "order.status.list": self.order_status_list,
            "customer.list": self.customer_list,
            "product.list": self.product_list,
            "product.child_item.list": self.child_list,
            "cart.info": self.cart_info,
            "webhook.list": self.webhook_list,
            "webhook.create": self.webhook_create,
            "product.update": self.product_update,
            "product.variant.update": self.variant_update,
            "order.shipment.list": self.shipment_list,
            "order.transaction.list": self.transaction_list,
        }

    async def endpoint(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = dict(request.query_params)
        self.state.requests.append((method, params))
        precision = self.state.default_precision
        try:
            store_key, store = self._authenticate(request)
            handler = self.handlers.get(method)
            if handler is None:
                raise A2CError(3, f"Method '{method}' is not specified or not supported")
            for injection in self.state.injections:
                if injection.remaining > 0 and (
                    injection.methods is None or method in injection.methods
                ):
                    injection.remaining -= 1
                    raise A2CError(injection.code, injection.message)
            unknown = set(params) - ALLOWED[method]
            if unknown:
                raise A2CError(109, f"Unknown parameter(s): {', '.join(sorted(unknown))}")
            precision = _int(params, "rounding_precision", precision)
            if not 1 <= precision <= 6:
                raise A2CError(109, "rounding_precision must be between 1 and 6")
            body = await request.json() if request.method in ("POST", "PUT") else None
            return render(handler(store, store_key, params, body))
        except ValueError as exc:  # a malformed response_fields tree
            return render(envelope(None, code=109, message=str(exc)))
        except A2CError as exc:
            result: Any = None if exc.code == 109 else {}
            return render(envelope(result, code=exc.code, message=exc.message))

    def _authenticate(self, request: Request) -> tuple[str, StoreData]:
        if request.headers.get("x-api-key") not in self.state.api_keys:
            raise A2CError(2, "Incorrect API Key")
        store_key = request.headers.get("x-store-key", "")
        if store_key not in self.state.stores:
            raise A2CError(101, "Store not found")
        return store_key, self.state.stores[store_key]

    # ------------------------------------------------------------------ lists

    def _page(
        self,
        method: str,
        store_key: str,
        params: dict[str, str],
        ids: Callable[[], list[str]],
        lookup: Callable[[str], dict[str, Any] | None],
        result_key: str,
        count_key: str,
        default_params: str,
    ) -> dict[str, Any]:
        if "page_cursor" in params:
            if len(params) > 1:
                raise A2CError(109, "page_cursor can't be used with any other filtering parameter")
            cursor = self.state.cursors.get(params["page_cursor"])
            if cursor is None or cursor.method != method or cursor.store_key != store_key:
                raise A2CError(109, "Parameter 'page_cursor' is incorrect")
            fields = cursor.fields
        else:
            count = _int(params, "count", 10)
            if count > MAX_COUNT:
                raise A2CError(111, f"Max allowed count={MAX_COUNT}")
            fields = {k: params[k] for k in ("params", "response_fields", "exclude") if k in params}
            if "rounding_precision" in params:
                fields["rounding_precision"] = params["rounding_precision"]
            cursor = Cursor(
                method, store_key, ids(), _int(params, "start", 0), max(count, 1), fields
            )
        chunk = cursor.ids[cursor.offset : cursor.offset + cursor.count]
        items = [item for item in (lookup(i) for i in chunk) if item is not None]
        nxt = None
        if cursor.offset + cursor.count < len(cursor.ids):
            token = self.state.next_token()
            self.state.cursors[token] = Cursor(
                method, store_key, cursor.ids, cursor.offset + cursor.count, cursor.count, fields
            )
            nxt = quote(token, safe="")
        precision = int(fields.get("rounding_precision", self.state.default_precision))
        if "response_fields" not in fields:
            items = [
                apply_params(item, fields.get("params", default_params), fields.get("exclude"))
                for item in items
            ]
        body = envelope(
            {count_key: len(cursor.ids), result_key: items},
            pagination={"previous": None, "next": nxt},
            precision=precision,
        )
        if "response_fields" in fields:
            body = apply_response_fields(body, fields["response_fields"])
        return body

    @staticmethod
    def _filtered(
        records: Iterable[dict[str, Any]],
        params: dict[str, str],
        stamp_field: str,
        sortable: dict[str, Callable[[dict[str, Any]], Any]],
        default_sort: str,
    ) -> list[dict[str, Any]]:
        chosen = list(records)
        if "modified_from" in params:
            since = _when(params["modified_from"], "modified_from")
            chosen = [r for r in chosen if _stamp(r, stamp_field) >= since]
        if "modified_to" in params:
            until = _when(params["modified_to"], "modified_to")
            chosen = [r for r in chosen if _stamp(r, stamp_field) <= until]
        sort_by = params.get("sort_by", default_sort)
        if sort_by not in sortable:
            raise A2CError(109, f"Parameter 'sort_by' has a wrong value '{sort_by}'")
        direction = params.get("sort_direction", "asc")
        if direction not in ("asc", "desc"):
            raise A2CError(109, "Parameter 'sort_direction' has a wrong value")
        return sorted(chosen, key=sortable[sort_by], reverse=direction == "desc")

    def order_list(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        def ids() -> list[str]:
            pool = store.deleted if _bool(params, "is_deleted", False) else store.orders
            wanted = params.get("order_ids") or params.get("ids")
            records = [o for o in pool.values() if not wanted or o["order_id"] in wanted.split(",")]
            ordered = self._filtered(
                records,
                params,
                "modified_at",
                {
                    "order_id": lambda o: o["order_id"],
                    "modified_at": lambda o: (_stamp(o, "modified_at"), o["order_id"]),
                    "create_at": lambda o: (_stamp(o, "create_at"), o["order_id"]),
                },
                "order_id",
            )
            return [o["order_id"] for o in ordered]

        user_defined = _bool(params, "allow_user_defined_order_statuses", False)
        return self._page(
            "order.list",
            store_key,
            params,
            ids,
            lambda i: self._order_view(store, i, user_defined),
            "order",
            "orders_count",
            DEFAULT_ORDER_PARAMS,
        )

    @staticmethod
    def _order_view(store: StoreData, order_id: str, user_defined: bool) -> dict[str, Any] | None:
        order = store.orders.get(order_id) or store.deleted.get(order_id)
        if order is None:
            return None
        if order["status"]["id"] in USER_DEFINED and not user_defined:
            order = {**order, "status": {**order["status"], "id": "", "name": ""}}
        return order

    def order_info(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        order_id = params.get("order_id") or params.get("id")
        if not order_id:
            raise A2CError(114, "Parameter 'order_id' or 'id' is required.")
        order = self._order_view(
            store, order_id, _bool(params, "allow_user_defined_order_statuses", False)
        )
        if order is None or order_id in store.deleted:
            raise A2CError(112, f"Order with id {order_id} not found")
        precision = _int(params, "rounding_precision", self.state.default_precision)
        if "response_fields" in params:
            return apply_response_fields(
                envelope(order, precision=precision), params["response_fields"]
            )
        view = apply_params(
            order, params.get("params", DEFAULT_ORDER_PARAMS), params.get("exclude")
        )
        return envelope(view, precision=precision)

    def shipment_list(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        order_id = params.get("order_id")
        if not order_id:
            raise A2CError(114, "Parameter 'order_id' is required.")
        if order_id not in store.orders:
            raise A2CError(112, f"Order with id {order_id} not found")
        return envelope(shipments.shipment_list(store, order_id))

    def transaction_list(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        # order_ids is required (refdata api2cart-openapi /order.transaction.list.json);
        # a missing one answers 114 like order.shipment.list's order_id.
        if not params.get("order_ids"):
            raise A2CError(114, "Parameter 'order_ids' is required.")
        count = _int(params, "count", 10)
        if count > MAX_COUNT:  # "Max allowed count=250" (the spec's count parameter)
            raise A2CError(111, f"Max allowed count={MAX_COUNT}")
        return envelope(transactions.transaction_list(store, params))

    def order_status_list(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        user_defined = _bool(params, "allow_user_defined_order_statuses", False)
        statuses = [s for s in store.statuses if user_defined or s["id"] not in USER_DEFINED]
        return envelope({"cart_order_statuses": statuses})

    def customer_list(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        def ids() -> list[str]:
            guests = _bool(params, "include_guests", False)
            wanted = params.get("ids")
            records = [
                c
                for c in store.customers.values()
                if (guests or not c["is_guest"]) and (not wanted or c["id"] in wanted.split(","))
            ]
            ordered = self._filtered(
                records,
                params,
                "modified_time",
                {
                    "created_time": lambda c: (_stamp(c, "created_time"), c["id"]),
                    "modified_time": lambda c: (_stamp(c, "modified_time"), c["id"]),
                    "id": lambda c: c["id"],
                },
                "created_time",
            )
            return [c["id"] for c in ordered]

        return self._page(
            "customer.list",
            store_key,
            params,
            ids,
            store.customers.get,
            "customer",
            "customers_count",
            "id,email,first_name,last_name",
        )

    def product_list(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        def ids() -> list[str]:
            wanted = params.get("product_ids")
            records = [
                p for p in store.products.values() if not wanted or p["id"] in wanted.split(",")
            ]
            ordered = self._filtered(
                records,
                params,
                "modified_at",
                {
                    "id": lambda p: p["id"],
                    "modified_at": lambda p: (_stamp(p, "modified_at"), p["id"]),
                },
                "id",
            )
            return [p["id"] for p in ordered]

        return self._page(
            "product.list",
            store_key,
            params,
            ids,
            store.products.get,
            "product",
            "products_count",
            "id,name,description,price,categories_ids",
        )

    def child_list(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        def ids() -> list[str]:
            wanted = set((params.get("product_ids") or params.get("product_id") or "").split(","))
            return [c["id"] for c in store.children.values() if c["parent_id"] in wanted]

        return self._page(
            "product.child_item.list",
            store_key,
            params,
            ids,
            store.children.get,
            "children",
            "total_count",
            "force_all",
        )

    def product_update(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        from . import catalog

        try:
            return envelope(catalog.product_update(store.products, body))
        except catalog.Refused as exc:
            raise A2CError(exc.code, exc.message) from None

    def variant_update(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        from . import catalog

        try:
            return envelope(catalog.variant_update(store.products, store.children, body))
        except catalog.Refused as exc:
            raise A2CError(exc.code, exc.message) from None

    def cart_info(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        return envelope(
            {
                "name": store.cart_id,
                "url": "https://store.example.com",
                "version": "1.0",
                "default_rounding_precision": self.state.default_precision,
            }
        )

    def webhook_list(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        hooks = [
            h
            for h in store.webhooks.values()
            if all(params.get(k) in (None, h[k]) for k in ("entity", "action"))
        ]
        return envelope({"webhook": hooks})

    def webhook_create(
        self, store: StoreData, store_key: str, params: dict[str, str], body: Any
    ) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise A2CError(109, "A JSON body is required")
        for name in ("entity", "action", "callback"):
            if not body.get(name):
                raise A2CError(114, f"Parameter '{name}' is required.")
        key = body.get("idempotency_key")
        if key and f"{store_key}:{key}" in self.state.idempotency:
            return self.state.idempotency[f"{store_key}:{key}"]
        webhook_id = max(store.webhooks, default=0) + 1
        store.webhooks[webhook_id] = {
            "id": webhook_id,
            "entity": body["entity"],
            "action": body["action"],
            "callback": body["callback"],
            "label": body.get("label"),
            "active": body.get("active", True),
        }
        answer = envelope({"id": webhook_id})
        if key:
            self.state.idempotency[f"{store_key}:{key}"] = answer
        return answer


DEFAULT_API_KEY = "sandbox-api-key"
DEFAULT_STORES = {
    "sandbox-store-shopify": ("Shopify", "USD"),
    "sandbox-store-etsy": ("EtsyAPIv3", "EUR"),
    "sandbox-store-amazon": ("AmazonSP", "USD"),
    "sandbox-store-woo": ("WoocommerceApi", "GBP"),
}


def create_state(
    *,
    api_key: str = DEFAULT_API_KEY,
    stores: dict[str, tuple[str, str]] | None = None,
    orders: int = 25,
    seed: int = 1,
    tax_rates: tuple[Decimal, ...] = (Decimal("0.08"), Decimal("0.2")),
) -> EmulatorState:
    return EmulatorState(
        api_keys={api_key},
        stores={
            key: seed_store(cart, currency=currency, orders=orders, seed=seed, tax_rates=tax_rates)
            for key, (cart, currency) in (stores or DEFAULT_STORES).items()
        },
    )


def create_app(
    state: EmulatorState | None = None, faults: FaultConfig | None = None
) -> FaultInjector:
    """The emulator as an ASGI app (``state`` and ``faults`` stay changeable while it runs)."""
    emulator = Api2CartEmulator(state or create_state())
    app = Starlette(
        routes=[
            Route("/v1.1/{method}.json", emulator.endpoint, methods=["GET", "POST", "PUT"]),
            *controls.routes(emulator.state),
        ]
    )
    app.state.emulator = emulator
    injector = FaultInjector(app, faults or FaultConfig())
    injector.emulator = emulator  # type: ignore[attr-defined]
    return injector
