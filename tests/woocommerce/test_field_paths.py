"""A WooCommerce object or metadata field of the wrong shape parks its record naming the field
(it was an ``AttributeError``/``TypeError`` the guard could only place at ``order 727``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.errors import ValidationFailed
from ledgerbridge_woocommerce.catalog import map_customer, map_product
from ledgerbridge_woocommerce.source import CUSTOMERS, PRODUCTS, order_change

from .conftest import example


def _order(**fields: Any) -> dict[str, Any]:
    return {**example("order_retrieve.json"), **fields}


@pytest.mark.parametrize(
    ("mutate", "says"),
    [
        (lambda o: o.update(billing="x"), "order 727.billing is not an object (got str)"),
        (lambda o: o.update(billing=[{}]), "order 727.billing is not an object (got list)"),
        (lambda o: o.update(meta_data=7), "order 727.meta_data is not an array (got int)"),
        (
            lambda o: o["line_items"][0].update(meta_data=Decimal("1.5")),
            "order 727.line_items[0].meta_data is not an array (got Decimal)",
        ),
    ],
)
def test_an_order_field_of_the_wrong_shape_parks_naming_it(mutate: Any, says: str) -> None:
    order = _order()
    mutate(order)
    change = order_change(order, [], "example.com")
    assert isinstance(change.error, ValidationFailed)
    assert str(change.error) == says
    assert change.error.details["field"] == says.split(" is not", maxsplit=1)[0]


def test_a_refund_whose_metadata_is_a_number_parks_naming_it() -> None:
    refunds = example("order_refunds_list.json")
    refunds[0]["meta_data"] = True
    change = order_change(example("orders_list.json")[1], refunds, "example.com")
    assert str(change.error) == "order 723 refund 726.meta_data is not an array (got bool)"


@pytest.mark.parametrize(
    ("which", "field", "value", "says"),
    [
        ("customer", "billing", 5, "customer 25.billing is not an object (got int)"),
        ("customer", "meta_data", 1, "customer 25.meta_data is not an array (got int)"),
        ("product", "meta_data", True, "product 794.meta_data is not an array (got bool)"),
    ],
)
def test_a_customer_or_product_field_of_the_wrong_shape_parks_naming_it(
    which: str, field: str, value: Any, says: str
) -> None:
    if which == "customer":
        data = {**example("customer_retrieve.json"), field: value}
        change = CUSTOMERS.change(data, lambda: map_customer(data, "example.com"))
    else:
        data = {**example("product_retrieve.json"), field: value}
        change = PRODUCTS.change(data, lambda: map_product(data, "example.com", currency="USD"))
    assert isinstance(change.error, ValidationFailed)
    assert str(change.error) == says


@pytest.mark.parametrize("value", [None, "", "x", {"key": "a"}, 0, []])
def test_metadata_that_holds_no_pairs_still_maps_as_before(value: Any) -> None:
    order = order_change(_order(meta_data=value), [], "example.com").record
    assert order is not None and order.extra["meta_data"] == {}
