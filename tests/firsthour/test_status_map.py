"""Every source takes ``status_map`` (one setting name): a store's own status -- a
WooCommerce plugin's ``awaiting-shipment`` -- can be given a meaning and posted, where
before it parked "until the status is mapped" with no setting to map it."""

from __future__ import annotations

import anyio
import pytest

from ledgerbridge.canonical import EntityType, OrderStatus
from ledgerbridge.contracts import ConnectorKind
from ledgerbridge.engine.planner import plan_order
from ledgerbridge.errors import ValidationFailed
from ledgerbridge.mapping import load_mapping
from ledgerbridge.plugins import get_registry
from ledgerbridge_shopify.emulator import create_app as shopify_app
from ledgerbridge_woocommerce.emulator import create_app as woo_app
from ledgerbridge_woocommerce.emulator import seed as woo_seed
from tests.shopify.helpers import ScaledClock
from tests.shopify.helpers import make_source as shopify_source
from tests.woocommerce.conftest import make_source as woo_source


def _custom_status_order(status_map):
    store = woo_seed(orders=18)
    order_id = next(k for k, o in store.orders.items() if o["status"] == "awaiting-shipment")
    source = woo_source(woo_app(store), status_map=status_map)

    async def fetch():
        try:
            return await source.fetch(EntityType.ORDER, str(order_id))
        finally:
            await source.aclose()

    return anyio.run(fetch)


def test_woocommerce_status_map_gives_a_plugin_status_its_meaning():
    assert _custom_status_order({}).status is OrderStatus.UNKNOWN
    order = _custom_status_order({"awaiting-shipment": "open"})
    assert order.status is OrderStatus.OPEN
    assert order.extra["status"] == "awaiting-shipment"  # the store's own word is kept


def test_an_unmapped_status_names_the_setting_that_maps_it():
    order = _custom_status_order({})
    runtime = load_mapping("mappings/woocommerce-to-zohobooks.yaml")
    with pytest.raises(ValidationFailed, match=r"status_map: \{awaiting-shipment: open\}"):
        plan_order(order, runtime)


def test_shopify_takes_the_same_setting():
    clock = ScaledClock()
    app = shopify_app(orders=3, clock=clock.now)

    async def fetch(status_map):
        source = shopify_source(app=app, clock=clock, status_map=status_map)
        try:
            return await source.fetch(EntityType.ORDER, "5000000001")
        finally:
            await source.aclose()

    assert anyio.run(fetch, {}).status is OrderStatus.OPEN
    assert anyio.run(fetch, {"open": "on_hold"}).status is OrderStatus.ON_HOLD


def test_every_source_names_it_status_map():
    # The built-in sources; a third-party plugin (the tinyshop example, when another test
    # has installed it) decides for itself.
    builtin = {"shopify", "woocommerce", "api2cart"}
    registry = get_registry().connectors.values()
    sources = [s for s in registry if s.kind is ConnectorKind.SOURCE and s.name in builtin]
    assert {s.name for s in sources} == builtin
    for spec in sources:
        field = spec.settings_model.model_fields.get("status_map")
        assert field is not None, f"{spec.name} has no status_map setting"
        with pytest.raises(ValueError, match="status_map"):
            spec.settings_model.model_validate(
                {**_required(spec.name), "status_map": {"x": "not-a-status"}}
            )


def _required(name: str) -> dict[str, str]:
    return {
        "shopify": {"shop": "acme"},
        "woocommerce": {"store_url": "https://shop.example.com"},
        "api2cart": {"cart": "Woocommerce"},
    }.get(name, {})
