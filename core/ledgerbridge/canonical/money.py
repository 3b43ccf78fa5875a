"""Money: an exact Decimal amount with its ISO 4217 currency.

Floats are refused outright -- not converted -- because a float that reaches
this point has already lost cents somewhere upstream (a JSON parser without
``parse_float=Decimal``).  Failing loudly here finds that bug at its source.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# Minor units of currencies that do not have two decimals (ISO 4217).
_MINOR_UNITS: dict[str, int] = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3,
    "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3,
    "UGX": 0, "UYI": 0, "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip


def minor_units(currency: str) -> int:
    """How many decimals the currency's smallest unit has (2 unless ISO says otherwise)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def _exact_decimal(value: Any) -> Any:
    """Accept Decimal, int and numeric strings; refuse float and bool."""
    if type(value) is Decimal:  # the usual case, first
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, float):
        raise ValueError(
            f"amount {value!r} is a float; parse platform JSON with parse_float=Decimal "
            "and pass Decimal or str"
        )
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("an empty string is not an amount")
        try:
            return Decimal(text)
        except ArithmeticError:
            raise ValueError(f"{text!r} is not a decimal number") from None
    return value


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact_decimal)]
"""A Decimal field that never accepts a float (use for amounts, rates and quantities)."""

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


class Money(BaseModel):
    """An amount in one currency. Arithmetic across currencies raises ``ValueError``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: ExactDecimal
    currency: CurrencyCode

    @classmethod
    def zero(cls, currency: str) -> Money:
        if type(currency) is str:
            return _zero(cls, currency)
        return cls(amount=Decimal(0), currency=currency)  # not a plain str: checked each time

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(amount=amount, currency=currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply Money by Decimal or int, not float")
        return Money(amount=self.amount * factor, currency=self.currency)

    __rmul__ = __mul__

    def rounded(self) -> Money:
        """Rounded half-up to the currency's minor unit (what an accounting system stores)."""
        quantum = Decimal(1).scaleb(-minor_units(self.currency))
        return Money(amount=self.amount.quantize(quantum, ROUND_HALF_UP), currency=self.currency)

    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@lru_cache(maxsize=256)
def _zero(cls: type[Money], currency: str) -> Money:
    """Zero in ``currency``, built once: totals start from it (a Money is frozen, so shared)."""
    return cls(amount=Decimal(0), currency=currency)


def total(amounts: Any, currency: str) -> Money:
    """Sum an iterable of Money (empty -> zero in ``currency``)."""
    result = Money.zero(currency)
    for item in amounts:
        result = result + item
    return result
