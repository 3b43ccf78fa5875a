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


HUGE = 10**4301  # more digits than Python prints (sys.get_int_max_str_digits, 4300)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.update(customer_note=HUGE), "customer_note"),
        (lambda o: o.update(number=HUGE), "number"),
        (lambda o: o.update(status=HUGE), "status"),
        (lambda o: o.update(customer_id=HUGE), "customer_id"),
        (lambda o: o.update(parent_id=HUGE), "parent_id"),
        (lambda o: o.update(created_via=HUGE), "created_via"),
        (lambda o: o.update(currency=HUGE), "currency"),
        (lambda o: o.update(payment_method=HUGE), "payment_method"),
        (lambda o: o.update(transaction_id=HUGE), "transaction_id"),
        (lambda o: o["billing"].update(email=HUGE), "billing.email"),
        (lambda o: o["shipping"].update(postcode=HUGE), "shipping.postcode"),
        (lambda o: o["line_items"][0].update(sku=HUGE), "line_items[0].sku"),
        (lambda o: o["line_items"][0].update(name=HUGE), "line_items[0].name"),
        (
            lambda o: o["shipping_lines"][0].update(method_title=HUGE),
            "shipping_lines[0].method_title",
        ),
        (lambda o: o["tax_lines"][0].update(label=HUGE), "tax_lines[0].label"),
        (lambda o: o["tax_lines"][0].update(rate_id=HUGE), "tax_lines[0].rate_id"),
        (lambda o: o["tax_lines"][0].update(rate_code=HUGE), "tax_lines[0].rate_code"),
    ],
)
def test_an_order_integer_too_long_to_print_parks_naming_the_field(mutate: Any, field: str) -> None:
    order = _order()
    mutate(order)
    change = order_change(order, [], "example.com")
    assert isinstance(change.error, ValidationFailed)
    assert str(change.error) == f"order 727.{field} is an integer of more than 4300 digits"
    assert change.error.details["field"] == f"order 727.{field}"


def test_a_customer_or_product_integer_too_long_to_print_parks_naming_the_field() -> None:
    customer = example("customer_retrieve.json")
    customer["shipping"]["postcode"] = HUGE
    change = CUSTOMERS.change(customer, lambda: map_customer(customer, "example.com"))
    says = "customer 25.shipping.postcode is an integer of more than 4300 digits"
    assert str(change.error) == says
    product = {**example("product_retrieve.json"), "name": HUGE}
    change = PRODUCTS.change(product, lambda: map_product(product, "example.com"))
    assert str(change.error) == "product 794.name is an integer of more than 4300 digits"
