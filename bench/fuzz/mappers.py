"""The platform examples as fuzz targets, and the property every mapping must keep.

Each target is one vendor example (``../shared/refdata``) and the function a source
runs on such a record -- the core mapping guard around the connector's mapper, as
``changes()`` does.  The property (``violation``): the result is a ``Change`` with
either a canonical record (an order's totals reconcile) or a ``SyncError`` with a
reason -- never an exception, never both, never neither, and with an id and a
version the store can keep.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.contracts import Change
from ledgerbridge.contracts.guard import MAX_ID_LENGTH, MAX_VERSION_LENGTH, mapped, record_id
from ledgerbridge.errors import SyncError

from . import mutations

REPO = Path(__file__).resolve().parents[2]


def refdata_dir() -> Path:
    """``$LEDGERBRIDGE_REFDATA`` or ``../shared/refdata`` beside the repository."""
    return Path(os.environ.get("LEDGERBRIDGE_REFDATA") or REPO.parent / "shared" / "refdata")


@dataclass(frozen=True)
class Target:
    """One example and how a source maps it.  ``depth`` 1: ``doc`` wraps the payloads
    (``{"order": ..., "refunds": [...]}``) and only what is inside them is mutated."""

    platform: str
    name: str
    doc: Any
    run: Callable[[Any], Change]
    depth: int = 0

    def paths(self) -> list[mutations.Path]:
        return [p for p in mutations.paths(self.doc) if len(p) > self.depth]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def woocommerce_targets(root: Path) -> list[Target]:
    from ledgerbridge_woocommerce.catalog import map_customer, map_product
    from ledgerbridge_woocommerce.source import order_change

    base = root / "woocommerce-examples"

    def order(doc: Any) -> Change:
        return order_change(doc["order"], doc["refunds"], "example.com")

    def customer(doc: Any) -> Change:
        return mapped(
            EntityType.CUSTOMER,
            record_id(doc.get("id")),
            None,
            lambda: map_customer(doc, "example.com"),
            platform="woocommerce",
        )

    def product(doc: Any) -> Change:
        return mapped(
            EntityType.PRODUCT,
            record_id(doc["product"].get("id")),
            None,
            lambda: map_product(doc["product"], "example.com", doc["variations"], currency="USD"),
            platform="woocommerce",
        )

    listed = _json(base / "orders_list.json")
    return [
        Target(
            "woocommerce",
            "order 727",
            {"order": _json(base / "order_retrieve.json"), "refunds": []},
            order,
            depth=1,
        ),
        Target(
            "woocommerce",
            "order 723 with refunds",
            {"order": listed[1], "refunds": _json(base / "order_refunds_list.json")},
            order,
            depth=1,
        ),
        Target("woocommerce", "customer 25", _json(base / "customer_retrieve.json"), customer),
        Target(
            "woocommerce",
            "product with variation",
            {
                "product": _json(base / "product_retrieve.json"),
                "variations": [_json(base / "product_variation_retrieve.json")],
            },
            product,
            depth=1,
        ),
    ]


def api2cart_targets(root: Path) -> list[Target]:
    from ledgerbridge_api2cart.mapper import StoreScope
    from ledgerbridge_api2cart.source import order_change
    from ledgerbridge_api2cart.statuses import StatusBook

    base = root / "api2cart-examples"

    def runner(cart: str, statuses: list[tuple[str, str]]) -> Callable[[Any], Change]:
        book = StatusBook.from_list([{"id": i, "name": n} for i, n in statuses], {})
        scope = StoreScope(store="shop-1", cart=cart, statuses=book)
        return lambda doc: order_change(doc, scope)

    amazon = runner("AmazonSP", [("Shipped", "Shipped"), ("Unshipped", "Unshipped")])
    etsy = runner("EtsyAPIv3", [("completed", "Completed"), ("paid", "Paid")])
    targets = [
        Target(
            "api2cart",
            "amazon order.info",
            _json(base / "amazonsp__order.info__order-id-111-2392565-0194613.response.json")[
                "result"
            ],
            amazon,
        ),
        Target(
            "api2cart",
            "etsy order.info",
            _json(base / "etsyapiv3__order.info__order-id-4130825825.response.json")["result"],
            etsy,
        ),
    ]
    listed = _json(base / "amazonsp__order.list__count-2__page1.response.json")["result"]["order"]
    targets += [
        Target("api2cart", f"amazon order.list[{i}]", doc, amazon) for i, doc in enumerate(listed)
    ]
    return targets


def shopify_targets(root: Path) -> list[Target]:
    from ledgerbridge_shopify import mapping_rest
    from ledgerbridge_shopify.mapping_common import loads

    base = root / "shopify-examples"

    def order(doc: Any) -> Change:
        return mapped(
            EntityType.ORDER,
            record_id(doc.get("id")),
            doc.get("updated_at"),
            lambda: mapping_rest.order(doc, "apple"),
            platform="shopify",
        )

    def customer(doc: Any) -> Change:
        return mapped(
            EntityType.CUSTOMER,
            record_id(doc.get("id")),
            doc.get("updated_at"),
            lambda: mapping_rest.customer(doc, "apple"),
            platform="shopify",
        )

    def fixture(name: str) -> Any:
        return loads((base / name).read_bytes())

    return [
        Target(
            "shopify",
            "partially refunded order",
            fixture("rest_fixture_orders_partially_refunded_full.json")["orders"][0],
            order,
        ),
        Target("shopify", "order", fixture("rest_fixture_order.json")["order"], order),
        Target("shopify", "customer", fixture("rest_fixture_customer.json")["customer"], customer),
    ]


LOADERS = {
    "shopify": shopify_targets,
    "woocommerce": woocommerce_targets,
    "api2cart": api2cart_targets,
}


def targets(platform: str, root: Path | None = None) -> list[Target]:
    """The examples of ``platform``; ``FileNotFoundError`` when the reference data is absent."""
    root = root or refdata_dir()
    folder = root / f"{platform}-examples"
    if not folder.is_dir():
        raise FileNotFoundError(f"reference data {folder} is not present")
    return LOADERS[platform](root)


def mutated(target: Target, rng: Any, count: int) -> tuple[Any, list[str]]:
    """``target.doc`` with ``count`` random mutations (``rng``: a ``random.Random``)."""
    doc, described = target.doc, []
    for _ in range(count):
        candidates = [p for p in mutations.paths(doc) if len(p) > target.depth]
        if not candidates:
            break
        path = rng.choice(candidates)
        op = rng.choice(mutations.OPS) if rng.random() < 0.3 else "replace"
        value = rng.choice(mutations.HOSTILE)
        doc = mutations.apply(doc, path, op, value)
        described.append(mutations.describe(path, op, value))
    return doc, described


def violation(target: Target, doc: Any) -> str | None:
    """What is wrong with mapping ``doc`` through ``target`` -- None when the property holds.

    A crash (an exception out of the guarded mapping) is reported as ``crash: <type>``.
    """
    try:
        change = target.run(doc)
    except Exception as exc:
        return f"crash: {type(exc).__name__}: {str(exc)[:200]}"
    if not isinstance(change, Change):
        return f"not a Change: {type(change).__name__}"
    if len(change.external_id) > MAX_ID_LENGTH or not change.external_id:
        return f"external id of {len(change.external_id)} characters"
    if change.version is not None and len(change.version) > MAX_VERSION_LENGTH:
        return f"version of {len(change.version)} characters"
    if (change.record is None) == (change.error is None):
        return "exactly one of record and error must be set"
    if change.error is not None:
        if not isinstance(change.error, SyncError):
            return f"error of type {type(change.error).__name__}"
        if not change.error.message:
            return "parked without a reason"
        return None
    record = change.record
    if isinstance(record, Order):
        result = record.reconciliation()
        if not result.ok:
            return f"totals do not reconcile: {result.computed} vs {result.stated}"
    return None
