"""Money.zero is built once per currency; what it gives (and refuses) is unchanged."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from ledgerbridge.canonical import Money, total


def test_zero_is_an_ordinary_frozen_money() -> None:
    zero = Money.zero("EUR")
    assert zero == Money(amount=Decimal(0), currency="EUR")
    assert zero.model_fields_set == {"amount", "currency"}
    assert Money.zero("EUR") == zero and Money.zero("USD").currency == "USD"
    with pytest.raises(ValidationError):
        zero.amount = Decimal(1)  # type: ignore[misc]
    assert total([], "EUR") == zero
    assert total([Money.of("1.10", "EUR"), Money.of("2", "EUR")], "EUR").amount == Decimal("3.10")


def test_a_bad_currency_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(ValidationError):
            Money.zero("euro")
    with pytest.raises(ValidationError):
        Money.zero(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot combine"):
        total([Money.of("1", "USD")], "EUR")


def test_zero_of_a_subclass_is_of_that_subclass() -> None:
    class Cents(Money):
        pass

    assert type(Cents.zero("EUR")) is Cents
    assert type(Money.zero("EUR")) is Money


def test_decimals_pass_untouched_and_floats_are_still_refused() -> None:
    amount = Decimal("1.10")
    assert Money(amount=amount, currency="EUR").amount is amount
    with pytest.raises(ValidationError, match="float"):
        Money(amount=1.1, currency="EUR")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="boolean"):
        Money(amount=True, currency="EUR")  # type: ignore[arg-type]
    assert Money(amount="2.50", currency="EUR").amount == Decimal("2.50")  # type: ignore[arg-type]
