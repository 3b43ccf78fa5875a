"""A Starlette app that behaves like ``/wp-json/wc/v3`` for everything the connector reads.

Collections honour ``modified_after``/``modified_before``/``after``/``before``
(site-local unless ``dates_are_gmt=true``), ``status``, ``include``,
``customer``, ``orderby``/``order``, ``page``/``per_page`` (max 100) and answer
with ``X-WP-Total``, ``X-WP-TotalPages`` and ``Link``.  Errors use WooCommerce's
``{code, message, data.status}``.  Switches on ``EmulatorConfig`` reproduce the
platform's awkward cases: a server that drops the Authorization header, a site
too old for ``modified_after``, a site without ``GET /refunds``, host throttling
(429/503 with or without ``Retry-After``) and HTML error pages with status 200.
Generic faults come from ``ledgerbridge.sandbox.FaultInjector`` around it all.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ledgerbridge.sandbox import FaultConfig, FaultInjector

from .auth import AuthError, Keys
from .data import SITE_OFFSET, StoreData, add_refund, dates, links, seed
from .webhooks import Webhook, WebhookSender

BASE = "/wp-json/wc/v3"
DEFAULT_KEY = "ck_emulator0000000000000000000000000000000"
DEFAULT_SECRET = "cs_emulator0000000000000000000000000000000"  # noqa: S105 - emulator's own


@dataclass
class EmulatorConfig:
    consumer_key: str = DEFAULT_KEY
    consumer_secret: str = DEFAULT_SECRET
    strip_authorization: bool = False
    ignore_modified_after: bool = False  # WooCommerce before the filter existed
    global_refunds: bool = True  # GET /refunds (WooCommerce 9.0+)
    throttle_next: int = 0  # answer the next N requests 429
    throttle_status: int = 429
    retry_after: str | None = "1"
    html_next: int = 0  # answer the next N requests with an HTML page and status 200
    slow_above_per_page: int | None = None  # pages of more items than this take slow_seconds
    slow_seconds: float = 1.0
    requests: list[str] = field(default_factory=list)  # "METHOD path?query" of each API call


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def respond(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, default=_json_default, ensure_ascii=False)
    return Response(body, status, headers=headers, media_type="application/json; charset=UTF-8")


def error(code: str, message: str, status: int) -> Response:
    return respond({"code": code, "message": message, "data": {"status": status}}, status)


def _date_param(request: Request, name: str) -> datetime | None:
    """A date filter as a UTC instant; without ``dates_are_gmt`` it is site-local time."""
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise AuthError("rest_invalid_param", f"Invalid parameter(s): {name}", 400) from None
    gmt = request.query_params.get("dates_are_gmt") in ("true", "1")
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    return parsed.replace(tzinfo=UTC) if gmt else (parsed - SITE_OFFSET).replace(tzinfo=UTC)


def _gmt(item: dict[str, Any], name: str) -> datetime:
    return datetime.fromisoformat(item[f"{name}_gmt"]).replace(tzinfo=UTC)


class Emulator:
    """The store behind the routes; tests change it through these methods while it runs."""

    def __init__(self, store: StoreData, config: EmulatorConfig) -> None:
        self.store = store
        self.config = config
        self.keys = Keys(
            keys={config.consumer_key: config.consumer_secret},
            strip_authorization=config.strip_authorization,
        )
        self.sender = WebhookSender()
        self.clock_offset = timedelta(0)

    # ----------------------------------------------------------------- test controls

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + self.clock_offset

    async def touch_order(self, oid: int, **changes: Any) -> dict[str, Any]:
        """Modify an order now (status, note...), as the admin would; fires order.updated."""
        order = self.store.orders[oid]
        order.update(changes)
        order.update(dates("date_modified", self.now()))
        await self.sender.notify("order.updated", order)
        return order

    async def refund_order(self, oid: int, kind: str = "partial") -> dict[str, Any]:
        order = self.store.orders[oid]
        refund = add_refund(self.store, order, kind, self.now())
        await self.sender.notify("order.updated", order)
        return refund

    async def delete_order(self, oid: int) -> None:
        """Permanent delete (``force=true``): gone, and ``order.deleted`` carries only the id."""
        self.store.orders.pop(oid)
        await self.sender.notify("order.deleted", {"id": oid})

    # ----------------------------------------------------------------- listing

    async def listing(
        self, request: Request, items: list[dict[str, Any]], *, dated: bool = True
    ) -> Response:
        q = request.query_params
        try:
            page = int(q.get("page", "1"))
            per_page = int(q.get("per_page", "10"))
        except ValueError:
            return error("rest_invalid_param", "Invalid parameter(s): page, per_page", 400)
        if not 1 <= per_page <= 100:
            return error(
                "rest_invalid_param",
                "Invalid parameter(s): per_page (per_page must be between 1 (inclusive) "
                "and 100 (inclusive))",
                400,
            )
        if page < 1:
            return error("rest_invalid_param", "Invalid parameter(s): page", 400)
        if dated:
            filters = [
                ("modified_after", "date_modified", 1),
                ("modified_before", "date_modified", -1),
                ("after", "date_created", 1),
                ("before", "date_created", -1),
            ]
            for param, field_name, direction in filters:
                if param.startswith("modified") and self.config.ignore_modified_after:
                    continue
                bound = _date_param(request, param)
                if bound is not None:
                    items = [
                        i
                        for i in items
                        if (
                            _gmt(i, field_name) > bound
                            if direction > 0
                            else _gmt(i, field_name) < bound
                        )
                    ]
        if q.get("include"):
            wanted = {int(x) for x in q["include"].split(",") if x.strip().isdigit()}
            items = [i for i in items if i["id"] in wanted]
        orderby = q.get("orderby", "date" if dated else "id")
        key = {
            "date": lambda i: (i.get("date_created_gmt") or "", i["id"]),
            "modified": lambda i: (i.get("date_modified_gmt") or "", i["id"]),
            "id": lambda i: (i["id"],),
            "include": lambda i: (i["id"],),
            "registered_date": lambda i: (i.get("date_created_gmt") or "", i["id"]),
            "name": lambda i: (str(i.get("last_name") or i.get("name") or ""), i["id"]),
        }.get(orderby)
        if key is None:
            return error("rest_invalid_param", "Invalid parameter(s): orderby", 400)
        items = sorted(items, key=key, reverse=q.get("order", "desc") == "desc")
        total = len(items)
        pages = max(1, -(-total // per_page)) if total else 0
        chunk = items[(page - 1) * per_page : page * per_page]
        if total and page > pages:
            return error(
                "rest_post_invalid_page_number",
                "The page number requested is larger than the number of pages available.",
                400,
            )
        base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
        params = [(k, v) for k, v in q.multi_items() if k not in ("page", "consumer_key",
                                                                  "consumer_secret")]  # fmt: skip
        params = [(k, v) for k, v in params if not k.startswith("oauth_")]

        def link(n: int, rel: str) -> str:
            return f'<{base}?{urlencode([*params, ("page", str(n))])}>; rel="{rel}"'

        rels = []
        if page > 1:
            rels.append(link(page - 1, "prev"))
        if page < pages:
            rels.append(link(page + 1, "next"))
        limit = self.config.slow_above_per_page
        if limit is not None and len(chunk) > limit:
            await asyncio.sleep(self.config.slow_seconds)  # a host struggling with big pages
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if rels:
            headers["Link"] = ", ".join(rels)
        return respond(chunk, headers=headers)

    # ----------------------------------------------------------------- routes

    async def orders(self, request: Request) -> Response:
        statuses = request.query_params.get("status", "any")
        wanted = {s.strip() for s in statuses.split(",")}
        items = list(self.store.orders.values())
        if "any" not in wanted:
            items = [o for o in items if o["status"] in wanted]
        else:
            items = [o for o in items if o["status"] not in ("trash", "checkout-draft")]
        if request.query_params.get("customer"):
            cid = int(request.query_params["customer"])
            items = [o for o in items if o["customer_id"] == cid]
        return await self.listing(request, items)

    async def order(self, request: Request) -> Response:
        order = self.store.orders.get(int(request.path_params["id"]))
        if order is None:
            return error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        return respond(order)

    async def order_refunds(self, request: Request) -> Response:
        oid = int(request.path_params["id"])
        if oid not in self.store.orders:
            return error("woocommerce_rest_shop_order_invalid_id", "Invalid order ID.", 404)
        return await self.listing(request, self.store.refunds.get(oid, []), dated=False)

    async def order_refund(self, request: Request) -> Response:
        oid, rid = int(request.path_params["id"]), int(request.path_params["rid"])
        for refund in self.store.refunds.get(oid, []):
            if refund["id"] == rid:
                return respond(refund)
        return error("woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID.", 404)

    async def all_refunds(self, request: Request) -> Response:
        if not self.config.global_refunds:
            return await self.no_route(request)
        items = [
            {**refund, "parent_id": oid}
            for oid, refunds in self.store.refunds.items()
            for refund in refunds
        ]
        # like core (prepare_objects_query unsets post_parent__in), ``parent`` is not a filter here
        for r in items:
            r.setdefault("date_modified_gmt", r["date_created_gmt"])
        return await self.listing(request, items)

    async def customers(self, request: Request) -> Response:
        items = list(self.store.customers.values())
        if request.query_params.get("email"):
            items = [c for c in items if c["email"] == request.query_params["email"]]
        return await self.listing(request, items, dated=False)

    async def customer(self, request: Request) -> Response:
        item = self.store.customers.get(int(request.path_params["id"]))
        if item is None:
            return error("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
        return respond(item)

    async def products(self, request: Request) -> Response:
        return await self.listing(request, list(self.store.products.values()))

    async def product(self, request: Request) -> Response:
        item = self.store.products.get(int(request.path_params["id"]))
        if item is None:
            return error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        return respond(item)

    async def variations(self, request: Request) -> Response:
        pid = int(request.path_params["id"])
        if pid not in self.store.products:
            return error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        return await self.listing(request, self.store.variations.get(pid, []))

    async def webhooks(self, request: Request) -> Response:
        if request.method == "GET":
            return respond([self._webhook_json(w) for w in self.sender.webhooks.values()])
        try:
            body = json.loads(await request.body())
            topic, url = str(body["topic"]), str(body["delivery_url"])
        except (ValueError, KeyError, TypeError):
            return error("rest_missing_callback_param", "Missing parameter(s): topic", 400)
        hook = Webhook(
            id=self.store.new_id(),
            name=str(body.get("name") or topic),
            topic=topic,
            delivery_url=url,
            secret=str(body.get("secret") or ""),
            status=str(body.get("status") or "active"),
        )
        self.sender.webhooks[hook.id] = hook
        await self.sender.post(hook, self.sender.ping(hook))  # core deliver_ping()
        return respond(self._webhook_json(hook), 201)

    def _webhook_json(self, hook: Webhook) -> dict[str, Any]:
        now = self.now()
        return {
            "id": hook.id,
            "name": hook.name,
            "status": hook.status,
            "topic": hook.topic,
            "resource": hook.resource,
            "event": hook.event,
            "hooks": [f"woocommerce_{hook.resource}_{hook.event}"],
            "delivery_url": hook.delivery_url,
            **dates("date_created", now),
            **dates("date_modified", now),
            "_links": links("webhooks", hook.id),
        }

    async def no_route(self, request: Request) -> Response:
        return error("rest_no_route", "No route was found matching the URL and request method", 404)


def catalog_routes(emulator: Emulator) -> list[Route]:
    """The catalog's batch writes (emulator/catalog.py)."""
    from . import catalog

    async def products_batch(request: Request) -> Response:
        return await catalog.products_batch(emulator, request)

    async def variations_batch(request: Request) -> Response:
        return await catalog.variations_batch(emulator, request)

    methods = ["POST", "PUT", "PATCH"]
    return [
        Route(BASE + "/products/batch", products_batch, methods=methods),
        Route(BASE + "/products/{id:int}/variations/batch", variations_batch, methods=methods),
    ]


def create_app(
    store: StoreData | None = None,
    config: EmulatorConfig | None = None,
    faults: FaultConfig | None = None,
) -> FaultInjector:
    """The emulator wrapped in the shared FaultInjector. ``app.emulator`` reaches the store."""
    emulator = Emulator(store or seed(), config or EmulatorConfig())
    routes = [
        Route(BASE + "/orders", emulator.orders),
        Route(BASE + "/orders/{id:int}", emulator.order),
        Route(BASE + "/orders/{id:int}/refunds", emulator.order_refunds),
        Route(BASE + "/orders/{id:int}/refunds/{rid:int}", emulator.order_refund),
        Route(BASE + "/refunds", emulator.all_refunds),
        Route(BASE + "/customers", emulator.customers),
        Route(BASE + "/customers/{id:int}", emulator.customer),
        Route(BASE + "/products", emulator.products),
        Route(BASE + "/products/{id:int}", emulator.product),
        Route(BASE + "/products/{id:int}/variations", emulator.variations),
        *catalog_routes(emulator),
        Route(BASE + "/webhooks", emulator.webhooks, methods=["GET", "POST"]),
    ]
    inner = Starlette(routes=routes)

    async def no_route(request: Request, exc: Exception) -> Response:
        return await emulator.no_route(request)

    inner.add_exception_handler(404, no_route)
    inner.add_exception_handler(405, no_route)
    from . import controls

    sandbox = Starlette(routes=controls.routes(emulator))  # /_emulator/: the admin's stand-in

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        request = Request(scope, receive)
        if request.url.path.startswith(controls.PREFIX + "/"):  # never throttled or faulted
            await sandbox(scope, receive, send)
            return
        cfg = emulator.config
        cfg.requests.append(f"{request.method} {request.url.path}?{request.url.query}")
        if cfg.throttle_next > 0:
            cfg.throttle_next -= 1
            headers = {"Retry-After": cfg.retry_after} if cfg.retry_after else {}
            response: Response = Response(
                "Too Many Requests", cfg.throttle_status, headers=headers, media_type="text/plain"
            )
        elif cfg.html_next > 0:
            cfg.html_next -= 1
            response = HTMLResponse(
                "<html><body>Briefly unavailable for maintenance.</body></html>"
            )
        elif request.url.path.startswith(BASE):
            try:
                emulator.keys.check(request)
            except AuthError as exc:
                response = error(exc.code, exc.message, exc.status)
            else:
                await inner(scope, receive, send)
                return
        else:
            response = await emulator.no_route(request)
        await response(scope, receive, send)

    wrapped = FaultInjector(app, faults)
    wrapped.emulator = emulator  # type: ignore[attr-defined]
    return wrapped
