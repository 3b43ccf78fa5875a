"""A Starlette app that behaves like Shopify's GraphQL Admin API for what ledgerbridge reads.

``POST /admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token``;
queries are validated and executed by graphql-core against the shipped SDL
subset; each response carries ``extensions.cost`` and a leaky bucket throttles
with Shopify's own ``THROTTLED`` body (HTTP 200 by default, 429 if asked).
Bulk results are served from ``/_bulk/...`` without the token (on Shopify they
live on a signed storage URL).  Wrapped in ``FaultInjector`` for generic
faults (latency, 503s).
"""

from __future__ import annotations

import json
import re
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from graphql import GraphQLSyntaxError, execute_sync, parse, validate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ledgerbridge.sandbox import FaultConfig, FaultInjector

from . import controls
from .bulk import BulkOperations
from .cost import MAX_SINGLE_QUERY_COST, CostCalculator, LeakyBucket, actual_cost
from .resolvers import Resolver
from .schema import load_schema
from .seed import SeedConfig
from .shop import ShopData
from .webhooks import WebhookSender, rest_order

VERSION = re.compile(r"^(20\d\d-(01|04|07|10)|unstable)$")
ALL_SCOPES = frozenset({
    "read_orders", "read_all_orders", "read_customers", "read_products", "write_products",
    "write_inventory",
})  # fmt: skip
UNAUTHORIZED_MESSAGE = (
    "[API] Invalid API key or access token (unrecognized login or wrong password)"
)
DEFAULT_TOKEN = "shpat_emulator_token"  # noqa: S105 - the emulator's own well-known token


def _json(payload: Any, status: int = 200) -> Response:
    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(type(value).__name__)

    return Response(
        json.dumps(payload, default=default, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
    )


class ShopifyEmulator(FaultInjector):
    """The ASGI app plus handles tests use: the shop's data, bucket, bulk runs and counters."""

    shop: ShopData
    bucket: LeakyBucket
    bulk: BulkOperations
    stats: Counter[str]
    throttle_next: int
    throttle_status: int
    oauth: OAuthTokens
    rest_orders: dict[str, dict[str, Any]]  # REST orders served by orders/{id}.json
    rest_transactions: dict[str, list[dict[str, Any]]]


class OAuthTokens:
    """Expiring offline tokens: 60-minute access tokens, refresh tokens replaced on every use."""

    def __init__(
        self, client_id: str, client_secret: str, ttl: float, scopes: frozenset[str]
    ) -> None:
        self.client_id, self.client_secret, self.ttl, self.scopes = (
            client_id,
            client_secret,
            ttl,
            scopes,
        )
        self.access: dict[str, float] = {}  # token -> wall-clock expiry
        self.refresh: set[str] = set()
        self.exchanges = 0

    def issue_refresh_token(self) -> str:
        token = f"shprt_{uuid.uuid4().hex}"
        self.refresh.add(token)
        return token

    def expire_access_tokens(self) -> None:
        self.access = dict.fromkeys(self.access, 0.0)

    def valid(self, token: str) -> bool:
        return self.access.get(token, 0.0) > time.time()

    def exchange(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        old = form.get("refresh_token", "")
        if old not in self.refresh:
            return 400, {"error": "invalid_grant"}
        self.refresh.discard(old)  # rotation: a refresh token works once
        self.exchanges += 1
        access = f"shpat_exp_{uuid.uuid4().hex}"
        self.access[access] = time.time() + self.ttl
        return 200, {
            "access_token": access,
            "expires_in": int(self.ttl),
            "refresh_token": self.issue_refresh_token(),
            "scope": ",".join(sorted(self.scopes)),
        }


def create_app(
    *,
    orders: int = 200,
    customers: int = 40,
    products: int = 20,
    seed: int = 7,
    currency: str = "USD",
    tokens: dict[str, frozenset[str]] | None = None,
    bucket_size: float = 1000.0,
    restore_rate: float = 50.0,
    clock: Callable[[], float] = time.monotonic,
    throttle_status: int = 200,
    interleave: int = 0,
    faults: FaultConfig | None = None,
    data_dir: Path | None = None,
    shop_name: str = "emulated",
    client_id: str = "emulator-client-id",
    client_secret: str = "emulator-client-secret",  # noqa: S107 - the emulator's own
    token_ttl: float = 3600.0,
) -> ShopifyEmulator:
    """Build an emulated shop. ``clock`` drives the bucket (pass a scaled clock in tests)."""
    schema = load_schema()
    shop = ShopData(
        SeedConfig(
            orders=orders, customers=customers, products=products, seed=seed, currency=currency
        )
    )
    token_scopes = tokens if tokens is not None else {DEFAULT_TOKEN: ALL_SCOPES}
    bucket = LeakyBucket(maximum=bucket_size, restore_rate=restore_rate, clock=clock)
    calculator = CostCalculator(schema)
    resolver = Resolver(shop)
    # created on the first bulk operation only
    directory = data_dir or Path(tempfile.gettempdir()) / f"shopify-emulator-{uuid.uuid4().hex}"
    bulk = BulkOperations(schema, resolver, directory, interleave=interleave)
    stats: Counter[str] = Counter()
    oauth = OAuthTokens(client_id, client_secret, token_ttl, ALL_SCOPES)
    documents: dict[str, tuple[Any, list[Any]]] = {}  # the connector sends the same few queries
    costs: dict[tuple[str, tuple[tuple[str, int], ...]], int] = {}

    async def graphql_endpoint(request: Request) -> Response:
        stats["requests"] += 1
        if not VERSION.match(request.path_params["version"]):
            return _json({"errors": "Not Found"}, 404)
        presented = request.headers.get("x-shopify-access-token", "")
        scopes = token_scopes.get(presented) or (oauth.scopes if oauth.valid(presented) else None)
        if scopes is None:
            stats["unauthorized"] += 1
            return _json({"errors": UNAUTHORIZED_MESSAGE}, 401)
        if "json" not in request.headers.get("content-type", ""):
            return _json({"errors": "Content-Type must be application/json"}, 400)
        try:
            body = json.loads(await request.body())
            query, variables = body["query"], body.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return _json({"errors": "Bad Request: the body must be JSON with a query"}, 400)
        prepared = documents.get(query)
        if prepared is None:
            try:
                document = parse(query)
            except GraphQLSyntaxError as exc:
                return _json({"errors": [exc.formatted]})
            prepared = (document, [e.formatted for e in validate(schema, document)])
            if len(documents) < 256:
                documents[query] = prepared
        document, invalid = prepared
        if invalid:
            return _json({"errors": invalid})
        cost_key = (
            query,
            tuple(sorted((k, v) for k, v in variables.items() if isinstance(v, int))),
        )
        requested = costs.get(cost_key)
        if requested is None:
            requested = costs[cost_key] = calculator.requested(document, variables)
        if requested > MAX_SINGLE_QUERY_COST:
            return _json(
                {
                    "errors": [
                        {
                            "message": f"Query cost is {requested}, which exceeds the single query "
                            f"max cost limit ({MAX_SINGLE_QUERY_COST}).",
                            "extensions": {
                                "code": "MAX_COST_EXCEEDED",
                                "cost": requested,
                                "maxCost": MAX_SINGLE_QUERY_COST,
                            },
                        }
                    ]
                }
            )
        app_state = emulator
        if app_state.throttle_next > 0 or not bucket.take(requested):
            app_state.throttle_next = max(0, app_state.throttle_next - 1)
            stats["throttled"] += 1
            return _json(
                {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": {
                        "cost": {
                            "requestedQueryCost": requested,
                            "actualQueryCost": None,
                            "throttleStatus": bucket.status(),
                        }
                    },
                },
                app_state.throttle_status,
            )
        context = {
            "scopes": scopes,
            "bulk_ops": bulk,
            "base_url": str(request.base_url),
            "shop_name": shop_name,
            "shop_domain": f"{shop_name}.myshopify.com",
        }
        result = execute_sync(
            schema,
            document,
            variable_values=variables,
            context_value=context,
            field_resolver=resolver,
            operation_name=body.get("operationName"),
        )
        actual = min(requested, actual_cost(result.data)) if result.data else 0
        bucket.give_back(requested - actual)
        stats["cost"] += actual
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        payload["extensions"] = {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": bucket.status(),
            }
        }
        return _json(payload)

    async def bulk_file(request: Request) -> Response:
        name = request.path_params["name"]
        path = directory / name
        if not re.fullmatch(r"bulk-\d+\.jsonl", name) or not path.exists():
            return _json({"errors": "Not Found"}, 404)
        return FileResponse(path, media_type="application/jsonl")

    async def send_webhook(request: Request) -> Response:
        """Sandbox helper: ``{"address", "secret", "topic", "order": n}`` -> a signed delivery."""
        body = await request.json()
        order = shop.orders.get(shop.seeder.order_id(int(body["order"])))
        if order is None:
            return JSONResponse({"error": "no such order"}, 404)
        sender = WebhookSender(body["secret"], f"{shop_name}.myshopify.com")
        response = sender.send(
            body["address"], body.get("topic", "orders/updated"), rest_order(order)
        )
        return JSONResponse({"status": response.status_code})

    rest_orders: dict[str, dict[str, Any]] = {}
    rest_transactions: dict[str, list[dict[str, Any]]] = {}

    def _rest_auth(request: Request) -> Response | None:
        if not VERSION.match(request.path_params["version"]):
            return _json({"errors": "Not Found"}, 404)
        presented = request.headers.get("x-shopify-access-token", "")
        if token_scopes.get(presented) is None and not oauth.valid(presented):
            # REST answers a bad token with 401 and a string ``errors`` (facts doc §3.2)
            return _json({"errors": "[API] Invalid API key or access token"}, 401)
        return None

    async def rest_order_endpoint(request: Request) -> Response:
        """``GET /admin/api/{v}/orders/{id}.json`` (REST Admin, legacy; facts doc §1.3):
        only the REST orders put in ``emulator.rest_orders`` (e.g. published samples),
        served as they were given; 404 ``{"errors": "Not Found"}`` otherwise."""
        refused = _rest_auth(request)
        if refused is not None:
            return refused
        stats["requests"] += 1
        order = rest_orders.get(request.path_params["id"])
        if order is None:
            return _json({"errors": "Not Found"}, 404)
        return _json({"order": order})

    async def rest_order_transactions(request: Request) -> Response:
        """``GET /admin/api/{v}/orders/{id}/transactions.json`` (facts doc §8.3)."""
        refused = _rest_auth(request)
        if refused is not None:
            return refused
        ident = request.path_params["id"]
        if ident not in rest_orders:
            return _json({"errors": "Not Found"}, 404)
        return _json({"transactions": rest_transactions.get(ident, [])})

    async def access_token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        status, payload = oauth.exchange(form)
        return _json(payload, status)

    app = Starlette(
        routes=[
            Route("/admin/oauth/access_token", access_token, methods=["POST"]),
            Route("/admin/api/{version}/graphql.json", graphql_endpoint, methods=["POST"]),
            Route("/admin/api/{version}/orders/{id}.json", rest_order_endpoint, methods=["GET"]),
            Route(
                "/admin/api/{version}/orders/{id}/transactions.json",
                rest_order_transactions,
                methods=["GET"],
            ),
            Route("/_bulk/{name}", bulk_file, methods=["GET"]),
            Route("/_emulator/webhooks", send_webhook, methods=["POST"]),
            *controls.routes(shop),
        ]
    )
    emulator = ShopifyEmulator(app, faults or FaultConfig())
    emulator.shop = shop
    emulator.bucket = bucket
    emulator.bulk = bulk
    emulator.stats = stats
    emulator.throttle_next = 0
    emulator.throttle_status = throttle_status
    emulator.oauth = oauth
    emulator.rest_orders = rest_orders
    emulator.rest_transactions = rest_transactions
    return emulator
