"""A TinyShop that runs on loopback: seeded orders, token check, pagination, signed webhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ledgerbridge.http import hmac_sha256

TOKEN = "tinyshop-demo-token"  # noqa: S105 - the emulator's own fake credential
WEBHOOK_SECRET = "tinyshop-webhook-secret"  # noqa: S105


def seed_orders(count: int = 7) -> list[dict[str, Any]]:
    """Orders that add up: items + shipping, taxed at one rate."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    orders = []
    for n in range(1, count + 1):
        items = [
            {"sku": f"BOOK-{n % 3}", "name": f"Book {n % 3}", "qty": 1 + n % 2, "price": "12.50"}
        ]
        shipping = Decimal("4.90") if n % 2 else Decimal(0)
        rate = Decimal("0.07")
        net = sum((Decimal(i["price"]) * i["qty"] for i in items), Decimal(0))
        tax = (net * rate).quantize(Decimal("0.01"), ROUND_HALF_UP) + (shipping * rate).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
        stamp = (start + timedelta(hours=n)).isoformat()
        orders.append(
            {
                "id": str(1000 + n),
                "number": f"TS-{1000 + n}",
                "currency": "EUR",
                "created_at": stamp,
                "updated_at": stamp,
                "email": f"reader{n}@example.com",
                "paid": n % 3 != 0,
                "items": items,
                "shipping": str(shipping),
                "tax_rate": str(rate),
                "total": str(net + shipping + tax),
            }
        )
    return orders


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac_sha256(secret, body)


def create_app(orders: list[dict[str, Any]] | None = None) -> Starlette:
    data = {o["id"]: o for o in (orders if orders is not None else seed_orders())}

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    async def list_orders(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        since = request.query_params.get("updated_since")
        page = int(request.query_params.get("page", 1))
        per_page = int(request.query_params.get("per_page", 50))
        rows = sorted(
            (o for o in data.values() if since is None or o["updated_at"] > since),
            key=lambda o: o["updated_at"],
        )
        pages = max(1, -(-len(rows) // per_page))
        chunk = rows[(page - 1) * per_page : page * per_page]
        return JSONResponse({"orders": chunk, "page": page, "pages": pages})

    async def get_order(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        order = data.get(request.path_params["id"])
        if order is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(order)

    app = Starlette(
        routes=[
            Route("/api/orders", list_orders, methods=["GET"]),
            Route("/api/orders/{id}", get_order, methods=["GET"]),
        ]
    )
    app.state.orders = data
    return app


def webhook_body(order: dict[str, Any]) -> bytes:
    return json.dumps({"id": order["id"], "updated_at": order["updated_at"]}).encode()
