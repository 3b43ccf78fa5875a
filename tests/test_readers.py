"""The kit's object and metadata readers: blank is empty, a wrong shape is refused naming the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.contracts.readers import key_values, record
from ledgerbridge.errors import ValidationFailed


@pytest.mark.parametrize("blank", [None, "", [], {}, 0])
def test_a_blank_object_field_is_an_empty_object(blank: Any) -> None:
    assert record(blank, "order 1.billing") == {}
    assert record({"a": 1}, "order 1.billing") == {"a": 1}


@pytest.mark.parametrize(("value", "got"), [("x", "str"), ([{}], "list"), (5, "int")])
def test_an_object_field_holding_something_else_is_refused_naming_it(value: Any, got: str) -> None:
    with pytest.raises(
        ValidationFailed, match=rf"^order 1.billing is not an object \(got {got}\)$"
    ) as caught:
        record(value, "order 1.billing", platform="shop")
    assert caught.value.details == {"field": "order 1.billing"} and caught.value.platform == "shop"


def test_metadata_pairs_are_read_and_what_holds_none_reads_as_none() -> None:
    items = [{"key": "a", "value": 1}, 7, {"value": 2}, {"key": "a", "value": 3}]
    assert key_values(items, "order 1.meta_data") == {"a": 3}
    for none in (None, "", "text", {"key": "a"}, 0, []):
        assert key_values(none, "order 1.meta_data") == {}


@pytest.mark.parametrize(
    ("value", "got"), [(7, "int"), (Decimal("1.5"), "Decimal"), (True, "bool")]
)
def test_metadata_that_is_a_number_is_refused_naming_it(value: Any, got: str) -> None:
    with pytest.raises(
        ValidationFailed, match=rf"^order 1.meta_data is not an array \(got {got}\)$"
    ):
        key_values(value, "order 1.meta_data")
