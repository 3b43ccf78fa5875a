"""A Starlette app that answers like API2Cart v1.1 for what the connector uses.

``/v1.1/{method}.json`` with the envelope (``return_code`` + HTTP 200 for
errors too), header auth, the default-``params`` trap, ``response_fields``,
``rounding_precision``, server-side cursors that must be sent alone, return
codes on demand (``state.inject``) and generic faults (``FaultInjector``).

This module is the dispatch: authentication, injected answers, the parameter checks every
method shares, then the method's handler (``orders``, ``products``, ``cart``); what the
emulator holds is in ``state``, the envelope in ``envelope``, list pages in ``paging``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledgerbridge.sandbox import FaultConfig, FaultInjector

from . import cart, controls, orders, products
from .envelope import envelope, render
from .params import ALLOWED, read_int
from .seed import StoreData
from .state import (
    DEFAULT_API_KEY,
    DEFAULT_STORES,
    A2CError,
    EmulatorState,
    create_state,
)

Handler = Callable[[EmulatorState, StoreData, str, dict[str, str], Any], Any]

HANDLERS: dict[str, Handler] = {
    "order.list": orders.order_list,
    "order.info": orders.order_info,
    "order.status.list": orders.order_status_list,
    "customer.list": cart.customer_list,
    "product.list": products.product_list,
    "product.child_item.list": products.child_list,
    "cart.info": cart.cart_info,
    "webhook.list": cart.webhook_list,
    "webhook.create": cart.webhook_create,
    "product.update": products.product_update,
    "product.variant.update": products.variant_update,
    "order.shipment.list": orders.shipment_list,
    "order.transaction.list": orders.transaction_list,
}


class Api2CartEmulator:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.handlers = dict(HANDLERS)

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
            precision = read_int(params, "rounding_precision", precision)
            if not 1 <= precision <= 6:
                raise A2CError(109, "rounding_precision must be between 1 and 6")
            body = await request.json() if request.method in ("POST", "PUT") else None
            return render(handler(self.state, store, store_key, params, body))
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


__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_STORES",
    "Api2CartEmulator",
    "EmulatorState",
    "create_app",
    "create_state",
    "envelope",
    "render",
]
