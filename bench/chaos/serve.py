"""One emulator as a long-lived process on loopback, behind the chaos control surface.

``python -m bench.chaos.serve zohobooks --port 8901 --state books.pickle``
``python -m bench.chaos.serve shopify --port 8902 --orders 200 --seed 7``
``python -m bench.chaos.serve shopify --port 8902 --catalog --products 40`` (the catalog
scenario: catalog writes faulted, killed and journalled, ``catalog_platforms``)

The chaos driver starts one per platform; their state lives here, in this
process, so it outlives every worker the harness kills.  The shops also export
their orders' totals as the platform itself states them (``/_sandbox/export/orders``),
read from each platform's own field -- the side a merchant's accountant compares.
"""

from __future__ import annotations

import argparse
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from ledgerbridge.sandbox.control import ControlSurface

# Credentials the sources' emulators accept (their own fakes, as in the demo).
API2CART_KEY = "chaos-api2cart-key"
API2CART_STORE = "chaos-store-key"
PAYPAL_GATEWAY = "ppcp-gateway"  # a gateway the WooCommerce mapping does not name: a genuine park


def _no_writes(method: str, path: str, query: dict[str, str]) -> None:
    return None  # the sources are only read


def _shopify(orders: int, seed: int) -> tuple[Any, Callable[[dict[str, str]], Any]]:
    from ledgerbridge_shopify.emulator.app import create_app

    # Shopify Plus bucket (10,000 points, 1,000 a second), as in the demo: the harness
    # measures exactly-once, not the source's query-cost pacing.
    app = create_app(
        orders=orders, customers=40, products=20, seed=seed, bucket_size=10_000, restore_rate=1_000
    )
    shop = app.shop

    def export(_: dict[str, str]) -> dict[str, Any]:
        rows = {}
        for n in range(shop.orders.count):
            order = shop.orders.get(shop.orders.base + n)
            if order is None:
                continue
            money = order["totalPriceSet"]["shopMoney"]  # the order total, shop currency
            rows[str(shop.orders.base + n)] = {
                "currency": order["currencyCode"],
                "total": money["amount"],
            }
        return rows

    return app, export


def _woocommerce(orders: int, seed: int) -> tuple[Any, Callable[[dict[str, str]], Any]]:
    from ledgerbridge_woocommerce.emulator.app import create_app
    from ledgerbridge_woocommerce.emulator.data import seed as woo_seed

    store = woo_seed(orders=orders, seed_value=seed)
    paid = [o for o in store.orders.values() if o.get("payment_method") == "stripe"]
    target = next((o for o in paid if o["status"] == "processing" and not o.get("refunds")), None)
    if target is not None:  # the merchant just enabled PayPal; the mapping does not name it
        target["payment_method"], target["payment_method_title"] = PAYPAL_GATEWAY, "PayPal"
    app = create_app(store=store)

    def export(_: dict[str, str]) -> dict[str, Any]:
        return {
            str(k): {"currency": o["currency"], "total": str(o["total"])}  # WC's order total
            for k, o in store.orders.items()
        }

    return app, export


def _api2cart(orders: int, seed: int) -> tuple[Any, Callable[[dict[str, str]], Any]]:
    from ledgerbridge_api2cart.emulator import create_app, create_state

    state = create_state(
        api_key=API2CART_KEY,
        stores={API2CART_STORE: ("EtsyAPIv3", "EUR")},
        orders=orders,
        seed=seed,
    )
    app = create_app(state)

    def export(_: dict[str, str]) -> dict[str, Any]:
        rows = {}
        for store in state.stores.values():
            for key, order in store.orders.items():  # order.info's total.total
                rows[str(key)] = {
                    "currency": order["currency"]["iso3"],
                    "total": str(order["total"]["total"]),
                }
        return rows

    return app, export


def build(
    platform: str,
    *,
    orders: int,
    seed: int,
    state: Path | None,
    catalog: bool = False,
    products: int = 0,
) -> Any:
    if catalog:
        from . import catalog_platforms as cp

        if platform == "zohobooks":
            return cp.zohobooks(build(platform, orders=orders, seed=seed, state=state))
        if platform == "api2cart":
            return cp.api2cart(products, seed, API2CART_KEY, API2CART_STORE)
        maker = {"shopify": cp.shopify, "woocommerce": cp.woocommerce}[platform]
        return maker(products, seed)
    if platform == "zohobooks":
        from ledgerbridge_zohobooks.emulator import EmulatorLimits
        from ledgerbridge_zohobooks.emulator import create_app as zoho_app
        from ledgerbridge_zohobooks.emulator.control import controlled

        assert state is not None, "--state: the pickled Zoho Books state the driver prepared"
        books = pickle.loads(state.read_bytes())
        # A generous plan: every worker paces itself to Zoho's 100 a minute; limits are
        # not what the harness measures (429s are injected on purpose instead).
        limits = EmulatorLimits(per_minute=1_000_000, default_daily=10_000_000)
        app = zoho_app(books, limits=limits)
        app.emulator.limits.daily = {}
        return controlled(app, seed=seed)
    makers = {"shopify": _shopify, "woocommerce": _woocommerce, "api2cart": _api2cart}
    app, export = makers[platform](orders, seed)
    return ControlSurface(app, _no_writes, exporters={"orders": export}, seed=seed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos.serve", description=__doc__)
    parser.add_argument("platform", choices=("zohobooks", "shopify", "woocommerce", "api2cart"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--state", type=Path)
    parser.add_argument("--catalog", action="store_true", help="the catalog scenario's surface")
    parser.add_argument("--products", type=int, default=0, help="catalog: products in the shop")
    args = parser.parse_args(argv)
    app = build(
        args.platform, orders=args.orders, seed=args.seed, state=args.state,
        catalog=args.catalog, products=args.products,
    )  # fmt: skip
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="error", access_log=False)


if __name__ == "__main__":
    main()
