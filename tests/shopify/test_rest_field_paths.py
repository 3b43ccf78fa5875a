"""A malformed REST order (webhook body) is parked naming the field that is malformed.

The guard names an unforeseen exception's field from the innermost mapper frame's path
local (``where``/``at``).  A path local set in a loop outlives the loop, so a malformed
``original_total_duties_set`` read after the ``shipping_lines`` loop was parked "at
shipping_lines[0]", and a non-list ``refund_shipping_lines`` "at" the last refund line.
These tests map hostile variants of the vendor's REST samples through the guard the
sources use (``mapped``) and read the field from the parked change's error.
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
from typing import Any

import pytest

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts.guard import mapped, record_id
from ledgerbridge.contracts.source import Change
from ledgerbridge_shopify import mapping_graphql, mapping_rest
from ledgerbridge_shopify.mapping_common import loads
from tests.conftest import refdata

REFUNDED = "rest_fixture_orders_partially_refunded_full.json"
CORRUPT = (None, [7], "malformed", 7)
"""What each field is corrupted to: the wrong JSON type, or absent."""


def sample(name: str = REFUNDED) -> dict[str, Any]:
    data = loads(refdata("shopify-examples", name).read_bytes())
    return dict(data["orders"][0] if "orders" in data else data["order"])


def park(data: dict[str, Any]) -> Change:
    return mapped(
        EntityType.ORDER,
        record_id(data.get("id")),
        data.get("updated_at"),
        lambda: mapping_rest.order(data, "apple", {"reconcile": False}),
        platform="shopify",
    )


def parked_field(data: dict[str, Any]) -> str:
    change = park(data)
    assert change.record is None and change.error is not None, "the order was not parked"
    field = change.error.details.get("field")
    assert isinstance(field, str), change.error
    return field


def test_the_samples_map() -> None:
    for name in (REFUNDED, "rest_fixture_order.json"):
        change = park(sample(name))
        assert change.error is None and change.record is not None


@pytest.mark.parametrize("duties", [[{"shop_money": {"amount": "1.00"}}], "12.00", 7])
def test_malformed_duties_on_an_order_with_shipping_are_named_as_duties(duties: Any) -> None:
    data = sample()
    assert data["shipping_lines"], "the sample must have shipping lines to show the defect"
    data["original_total_duties_set"] = duties
    assert parked_field(data) == "original_total_duties_set"


def test_malformed_duties_shop_money_is_named_below_duties() -> None:
    data = sample()
    data["original_total_duties_set"] = {"shop_money": ["1.00", "USD"]}
    assert parked_field(data) == "original_total_duties_set.shop_money"


@pytest.mark.parametrize("value", [7, "malformed", {"price": "1.00"}])
def test_a_non_list_refund_shipping_lines_is_named_as_itself(value: Any) -> None:
    data = sample()
    refund = data["refunds"][0]
    assert refund["refund_line_items"], "the refund must have lines to show the defect"
    refund["refund_shipping_lines"] = value
    assert parked_field(data) == f"refund {refund['id']}.refund_shipping_lines"


def test_a_malformed_refund_shipping_line_is_named_with_its_index() -> None:
    data = sample()
    refund = data["refunds"][0]
    refund["refund_shipping_lines"] = [{"subtotal_amount": "sNaN"}]
    field = parked_field(data)
    assert field == f"refund {refund['id']}.refund_shipping_lines[0].subtotal_amount"


def test_a_malformed_line_property_after_the_lines_is_named_at_its_line() -> None:
    data = sample()
    data["line_items"][1]["properties"] = [{"value": "no name"}]
    assert parked_field(data) == "line_items[1]"


def first_component(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


@pytest.mark.parametrize("name", [REFUNDED, "rest_fixture_order.json"])
def test_every_top_level_field_corrupted_is_parked_under_its_own_name(name: str) -> None:
    """Each top-level field of the samples (plus the duties), set to None / a list / a
    string / a number: the order maps, or it is parked naming that field -- never another."""
    base = sample(name)
    keys = sorted(set(base) | {"original_total_duties_set", "total_tip_received"})
    wrong: list[str] = []
    parked = 0
    for key in keys:
        for value in CORRUPT:
            data = copy.deepcopy(base)
            data[key] = value
            change = park(data)
            if change.error is None:
                continue
            parked += 1
            field = change.error.details.get("field")
            if not isinstance(field, str) or first_component(field) != key:
                wrong.append(f"{key}={value!r}: parked at {field!r}: {change.error}")
    assert not wrong, "\n".join(wrong)
    assert parked >= 60  # the corruptions do reach the mapper (not a vacuous pass)


def test_no_rest_mapper_function_sets_a_path_local_inside_a_loop() -> None:
    """The mechanism behind the defect, kept out: a ``where``/``at`` assigned in a loop body
    stays set after the loop, and the guard would name later failures after it."""
    tree = ast.parse(inspect.getsource(mapping_rest))
    offending = [
        f"line {node.lineno}"
        for loop in ast.walk(tree)
        if isinstance(loop, ast.For)
        for stmt in loop.body
        for node in ast.walk(stmt)
        if isinstance(node, ast.Name)
        and isinstance(node.ctx, ast.Store)
        and node.id in ("where", "at")
    ]
    assert not offending, offending


NESTED = (("line_items", 1), ("shipping_lines", 0), ("tax_lines", 0), ("fulfillments", 0))


@pytest.mark.parametrize(("array", "index"), NESTED)
def test_every_field_of_a_nested_object_corrupted_is_parked_inside_it(
    array: str, index: int
) -> None:
    """The same one level down: a corrupted field of a line, a shipping line, an order tax
    line or a fulfilment is parked at a path inside that element (``line_items[1].sku``)."""
    base = sample()
    prefix = f"{array}[{index}]"
    wrong: list[str] = []
    parked = 0
    for key in sorted(base[array][index]):
        for value in CORRUPT:
            data = copy.deepcopy(base)
            data[array][index][key] = value
            change = park(data)
            if change.error is None:
                continue
            parked += 1
            field = change.error.details.get("field")
            if not isinstance(field, str) or not field.startswith(prefix):
                wrong.append(f"{prefix}.{key}={value!r}: parked at {field!r}: {change.error}")
    assert not wrong, "\n".join(wrong)
    assert parked > 0


def test_every_field_of_a_refund_corrupted_is_parked_inside_it() -> None:
    base = sample()
    refund_id = base["refunds"][0]["id"]
    wrong: list[str] = []
    for key in sorted(base["refunds"][0]):
        for value in CORRUPT:
            data = copy.deepcopy(base)
            data["refunds"][0][key] = value
            change = park(data)
            field = None if change.error is None else change.error.details.get("field")
            if change.error is not None and not (
                isinstance(field, str)
                and (field.startswith(f"refund {refund_id}") or field.startswith("refunds[0]"))
            ):
                wrong.append(f"refunds[0].{key}={value!r}: parked at {field!r}: {change.error}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("key", ["processedAt", "billingAddress", "totalPriceSet", "tags"])
def test_a_graphql_order_field_read_after_the_fee_loop_is_not_named_after_a_fee(key: str) -> None:
    """The GraphQL mapper's fee loop (``for ..., where, ... in``) leaves ``where`` as
    "additional fees"; the guard no longer names a later failure in that frame after it."""
    data = mapping_rest.to_graphql(sample())
    data[key] = 7
    change = mapped(
        EntityType.ORDER,
        "450789469",
        None,
        lambda: mapping_graphql.order(data, "apple", {"reconcile": False}),
        platform="shopify",
    )
    assert change.error is not None
    assert change.error.details.get("field") != "additional fees"


@pytest.mark.parametrize("kind", [7, None, ["sale"], {"value": "sale"}])
def test_a_transaction_kind_that_is_not_text_is_refused_as_a_kind_not_an_attribute_error(
    kind: Any,
) -> None:
    data = sample()
    transaction = loads(refdata("shopify-examples", "rest_fixture_transaction.json").read_bytes())
    data["transactions"] = [{**transaction.get("transaction", transaction), "kind": kind}]
    change = park(data)
    assert change.error is not None and change.error.details["field"] == "transactions[0]"
    assert f"transaction kind {kind!r} is not one ledgerbridge can post" in str(change.error)
