"""The kit's object and metadata readers: blank is empty, a wrong shape is refused naming the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.contracts.readers import address, key_values, printed, record, text
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


HUGE = 10**4301  # more digits than Python prints (sys.get_int_max_str_digits, 4300)


def test_text_reads_every_printable_value_as_before() -> None:
    assert [text(v, "order 1.note") for v in (None, "", "  ", " a ", 12, Decimal("1.50"))] == [
        None,
        None,
        None,
        "a",
        "12",
        "1.50",
    ]
    assert text(10**4299, "order 1.note") == str(10**4299)


@pytest.mark.parametrize(("value", "what"), [(HUGE, "is"), ([HUGE], "holds")], ids=["int", "list"])
def test_an_integer_too_long_to_print_is_refused_naming_the_field(value: Any, what: str) -> None:
    with pytest.raises(
        ValidationFailed, match=rf"^order 1.note {what} an integer of more than 4300 digits$"
    ) as caught:
        text(value, "order 1.note", platform="shop")
    assert caught.value.details == {"field": "order 1.note"} and caught.value.platform == "shop"
    with pytest.raises(ValueError, match="Exceeds the limit"):
        text(value)  # no path given: the error it always was


def test_an_address_names_the_field_it_cannot_print() -> None:
    with pytest.raises(ValidationFailed, match=r"^order 1.billing.zip is an integer of more"):
        address({"zip": HUGE}, {"postal_code": "zip"}, where="order 1.billing")


def test_printed_is_str_and_names_an_integer_too_long_to_print() -> None:
    assert [printed(v, "order 1.number") for v in (0, "", " 7 ", None)] == ["0", "", " 7 ", "None"]
    with pytest.raises(ValidationFailed, match=r"^order 1.number is an integer of more than 4300"):
        printed(HUGE, "order 1.number")
