"""Regressions from hostile-input fuzzing of the mappers: each payload once crashed a run.

``line_items[0] = 7`` (AttributeError), ``tax_lines[0].tax_total = "sNaN"``
(decimal.InvalidOperation) and ``line_items[1].total = "1e999999999"`` (Overflow)
escaped the WooCommerce and API2Cart sources, which guarded only ``ValidationFailed``.
Now every source maps each record under the core guard and amounts are read by the
core edge reader: the poisoned record becomes a parked change naming the field, and
the rest of the page is read.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import anyio
import pytest

from ledgerbridge.canonical import EntityType, Money
from ledgerbridge.canonical.money import parse_amount
from ledgerbridge.contracts.guard import guarded, mapped
from ledgerbridge.errors import ValidationFailed
from ledgerbridge_woocommerce.emulator import EmulatorConfig, create_app, seed
from tests.woocommerce.conftest import make_source as woo_source

# ---------------------------------------------------------------------------- the edge reader


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("sNaN", "not a finite number"),
        ("NaN", "not a finite number"),
        ("-Infinity", "not a finite number"),
        (Decimal("sNaN"), "not a finite number"),
        ("1e999999999", "out of range"),
        (10**5000, "out of range"),
        ("1000000000000000", "out of range"),
        ("1e-999999999", "more than 20 decimal places"),
        ("1" * 5000, "longer than 64 characters"),
        (7.5, "a float"),
        (True, "not an amount"),
        (None, "not an amount"),
        ({"x": 1}, "a dict, not an amount"),
        (["1"], "a list, not an amount"),
        ("12,00", "not a decimal number"),
    ],
    ids=lambda v: str(v)[:20] if not isinstance(v, int) or v < 10**20 else "huge-int",
)
def test_parse_amount_refuses_hostile_values_naming_the_field(value: Any, problem: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_amount(value, "order 7.line_items[1].total", platform="woocommerce")
    message = str(caught.value)
    assert message.startswith("order 7.line_items[1].total is ") and problem in message
    assert caught.value.details["field"] == "order 7.line_items[1].total"
    assert len(message) < 200  # a 5,000-digit value is not echoed back whole


@pytest.mark.parametrize("value", ["12.34", 12, Decimal("-0.01"), " 5 ", "999999999999999.99"])
def test_parse_amount_keeps_real_amounts_exact(value: Any) -> None:
    assert parse_amount(value, "x") == Decimal(str(value).strip())


@pytest.mark.parametrize("value", ["sNaN", Decimal("NaN"), "Infinity", Decimal("1e999999999")])
def test_the_canonical_model_refuses_non_finite_and_absurd_amounts(value: Any) -> None:
    with pytest.raises(ValueError, match="finite|range"):
        Money(amount=value, currency="USD")


# ---------------------------------------------------------------------------- the guard


def test_the_guard_parks_an_unforeseen_exception_with_its_type_and_field_path() -> None:
    def mapper(data: dict[str, Any]) -> Any:
        for i, item in enumerate(data["line_items"]):
            at = f"order 9.line_items[{i}]"
            assert at
            item.get("total")  # AttributeError on an int
        raise AssertionError("unreachable")

    change = mapped(
        EntityType.ORDER,
        "9",
        "v1",
        lambda: mapper({"line_items": [{"total": "1"}, 7]}),
        platform="woocommerce",
    )
    assert change.record is None and isinstance(change.error, ValidationFailed)
    assert change.error.details == {"exception": "AttributeError", "field": "order 9.line_items[1]"}
    assert "woocommerce order 9 could not be mapped at order 9.line_items[1]: AttributeError" in (
        change.error.message
    )
    with (
        pytest.raises(ValidationFailed, match="ZeroDivisionError"),
        guarded("woocommerce", EntityType.ORDER, "9"),
    ):
        _ = 1 / 0


def test_a_loops_leftover_path_local_does_not_name_a_failure_after_the_loop() -> None:
    """``at`` still holds the last line's path after the loop; a failure reading another
    field later in the same frame is not that line's (the guard falls back to the path of
    the frame that called it, here ``where``)."""

    def mapper(data: dict[str, Any], where: str) -> Any:
        for i, item in enumerate(data["line_items"]):
            at = f"{where}.line_items[{i}]"
            item.get("total")
        assert at
        return data["billing"].get("city")  # AttributeError: the billing, not a line

    def order(data: dict[str, Any]) -> Any:
        where = "order 9"
        return mapper(data, where)

    change = mapped(
        EntityType.ORDER,
        "9",
        "v1",
        lambda: order({"line_items": [{"total": "1"}], "billing": 7}),
        platform="woocommerce",
    )
    assert isinstance(change.error, ValidationFailed)
    assert change.error.details == {"exception": "AttributeError", "field": "order 9"}


# ---------------------------------------------------------------------------- WooCommerce

POISONS = {
    "line_items[0] = 7": (
        lambda o: o["line_items"].__setitem__(0, 7),
        "line_items[0] is not an object",
    ),
    'tax_lines[0].tax_total = "sNaN"': (
        lambda o: o["tax_lines"][0].__setitem__("tax_total", "sNaN"),
        "tax_lines[0].tax_total is 'sNaN', not a finite number",
    ),
    'line_items[1].total = "1e999999999"': (
        lambda o: o["line_items"][1].__setitem__("total", "1e999999999"),
        "line_items[1].total is '1e999999999', out of range",
    ),
}


async def _read(source: Any) -> list[Any]:
    try:
        return [c async for p in source.changes(EntityType.ORDER, None) for c in p.changes]
    finally:
        await source.aclose()


@pytest.mark.parametrize("poison", list(POISONS))
def test_woocommerce_a_poisoned_order_is_parked_and_the_read_goes_on(poison: str) -> None:
    app = create_app(seed(orders=12), EmulatorConfig())
    orders = app.emulator.store.orders
    target = next(
        oid
        for oid in sorted(orders)
        if len(orders[oid]["line_items"]) >= 2 and orders[oid]["tax_lines"]
    )
    clean = anyio.run(_read, woo_source(app))
    mutate, reason = POISONS[poison]
    mutate(orders[target])
    changes = anyio.run(_read, woo_source(app))
    by_id = {c.external_id: c for c in changes}
    assert set(by_id) == {c.external_id for c in clean}
    bad = by_id[str(target)]
    assert bad.record is None and isinstance(bad.error, ValidationFailed)
    assert f"order {target}.{reason}" in str(bad.error)
    for before in clean:  # every other order reads exactly as it did without the poison
        if before.external_id != str(target):
            after = by_id[before.external_id]
            assert (after.record, type(after.error)) == (before.record, type(before.error))


# ---------------------------------------------------------------------------- API2Cart

A2C_POISONS = {
    "order_products[0] = 7": (
        lambda o: o["order_products"].__setitem__(0, 7),
        "order_products[0] is not an object",
    ),
    'total.total_tax = "sNaN"': (
        lambda o: o["total"].__setitem__("total_tax", "sNaN"),
        "total.total_tax is 'sNaN', not a finite number",
    ),
    'order_products[0].price = "1e999999999"': (
        lambda o: o["order_products"][0].__setitem__("price", "1e999999999"),
        "order_products[0].price is '1e999999999', out of range",
    ),
}


@pytest.mark.parametrize("poison", list(A2C_POISONS))
def test_api2cart_a_poisoned_order_is_parked_and_the_read_goes_on(poison: str) -> None:
    from ledgerbridge_api2cart.emulator import create_app as a2c_app
    from ledgerbridge_api2cart.emulator import create_state
    from tests.api2cart.conftest import API_KEY, GENERIC, STORES, FakeClock, Harness

    state = create_state(api_key=API_KEY, stores=STORES, orders=10)
    harness = Harness(state=state, app=a2c_app(state), clock=FakeClock())
    orders = state.stores[GENERIC].orders
    clean = anyio.run(_read, harness.source())
    target = sorted(orders)[3]
    mutate, reason = A2C_POISONS[poison]
    mutate(orders[target])
    changes = anyio.run(_read, harness.source())
    by_id = {c.external_id: c for c in changes}
    assert set(by_id) == {c.external_id for c in clean}
    bad = by_id[str(target)]
    assert bad.record is None and isinstance(bad.error, ValidationFailed)
    assert f"API2Cart order {target}: {reason}" in str(bad.error)
    for before in clean:
        if before.external_id != str(target):
            after = by_id[before.external_id]
            assert (after.record, type(after.error)) == (before.record, type(before.error))


# ---------------------------------------------------------------------------- Shopify


@pytest.mark.parametrize(
    ("amount", "problem"),
    [("sNaN", "not a finite number"), ("1e999999999", "out of range")],
)
def test_shopify_a_poisoned_amount_is_parked_naming_the_field(amount: str, problem: str) -> None:
    from ledgerbridge_shopify.emulator import create_app as shopify_app
    from tests.shopify.helpers import ScaledClock, make_source

    clock = ScaledClock(5000)
    app = shopify_app(orders=6, clock=clock.now)
    broken = app.shop.touch_order(2)
    broken["totalPriceSet"] = {
        "shopMoney": {"amount": amount, "currencyCode": "USD"},
        "presentmentMoney": {"amount": "1", "currencyCode": "USD"},
    }
    changes = anyio.run(_read, make_source(app=app, clock=clock))
    assert len(changes) == 6
    bad = next(c for c in changes if c.external_id == broken["legacyResourceId"])
    assert bad.record is None and isinstance(bad.error, ValidationFailed)
    assert f"totalPriceSet is '{amount}', {problem}" in str(bad.error)
    assert sum(1 for c in changes if c.record is not None) >= 4


def test_shopify_rest_example_poisoned_line_is_parked() -> None:
    from ledgerbridge_shopify import mapping_rest
    from ledgerbridge_shopify.mapping_common import loads
    from tests.conftest import refdata

    path = refdata("shopify-examples", "rest_fixture_orders_partially_refunded_full.json")
    data = loads(path.read_bytes())
    order = copy.deepcopy(data["orders"][0])
    order["line_items"][0] = 7
    change = mapped(
        EntityType.ORDER,
        str(order["id"]),
        None,
        lambda: mapping_rest.order(order, "apple", {"reconcile": False}),
        platform="shopify",
    )
    assert isinstance(change.error, ValidationFailed) and "#1001" in str(change.error)


# ---------------------------------------------------------------------------- ids and versions


def test_an_id_that_is_not_an_id_parks_under_a_stable_stand_in() -> None:
    from ledgerbridge.contracts.guard import record_id

    for value in ({"x": 1}, True, None, "", "x" * 300, 10**5000, "a\x00b"):
        ident = record_id(value)
        assert ident.startswith("invalid-id:") and ident == record_id(value)
        change = mapped(EntityType.ORDER, ident, None, lambda: 1 / 0, platform="shop")  # type: ignore[arg-type,return-value]
        assert change.record is None and "not a platform id" in str(change.error)
    assert record_id(42) == "42" and record_id(" 1001 ") == "1001"


def test_a_version_too_long_for_the_store_is_digested_the_same_way_each_time() -> None:
    from ledgerbridge.contracts.guard import MAX_VERSION_LENGTH

    long = "2026-03-01T10:00:00;refunds=" + ",".join(str(i) for i in range(200))
    first = mapped(EntityType.ORDER, "7", long, lambda: 1 / 0, platform="shop")  # type: ignore[arg-type,return-value]
    again = mapped(EntityType.ORDER, "7", long, lambda: 1 / 0, platform="shop")  # type: ignore[arg-type,return-value]
    assert first.version == again.version and len(first.version or "") <= MAX_VERSION_LENGTH


def test_woocommerce_a_5000_digit_refund_id_parks_the_order_instead_of_crashing_the_read() -> None:
    """Found by the fuzzer: ``version_of`` turned the refund id into text and raised
    ValueError (Python's 4,300-digit limit) before the guard could run."""
    from ledgerbridge_woocommerce.emulator.data import seed
    from ledgerbridge_woocommerce.source import order_change

    store = seed(orders=4)
    order = copy.deepcopy(next(iter(store.orders.values())))
    order["refunds"] = [{"id": 10**5000, "total": "-1.00"}]
    change = order_change(order, [], "shop")
    assert change.external_id == str(order["id"]) and change.version is not None
    assert (change.record is None) != (change.error is None)
