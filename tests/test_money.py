from decimal import Decimal

import pytest
from pydantic import ValidationError

from ledgerbridge.canonical import Money, minor_units, total


def test_float_amount_is_refused_with_a_reason():
    with pytest.raises(ValidationError) as err:
        Money(amount=0.1, currency="USD")  # type: ignore[arg-type]
    assert "float" in str(err.value) and "parse_float=Decimal" in str(err.value)


def test_strings_and_ints_become_exact_decimals():
    assert Money.of("0.10", "USD").amount == Decimal("0.10")
    assert Money.of(3, "USD").amount == Decimal(3)
    assert (Money.of("0.10", "USD") + Money.of("0.20", "USD")).amount == Decimal("0.30")


def test_currency_must_be_iso_and_match_in_arithmetic():
    with pytest.raises(ValidationError):
        Money.of("1", "usd")
    with pytest.raises(ValueError, match="cannot combine USD and EUR"):
        Money.of("1", "USD") + Money.of("1", "EUR")


def test_rounding_follows_the_currency_minor_unit():
    assert Money.of("1.005", "USD").rounded().amount == Decimal("1.01")
    assert Money.of("100.5", "JPY").rounded().amount == Decimal("101")
    assert Money.of("1.0005", "KWD").rounded().amount == Decimal("1.001")
    assert minor_units("JPY") == 0 and minor_units("EUR") == 2


def test_total_of_nothing_is_zero_in_the_currency():
    assert total([], "EUR") == Money.zero("EUR")
    with pytest.raises(TypeError, match="not float"):
        Money.of("1", "EUR") * 1.5  # type: ignore[operator]
