"""Money: an exact Decimal amount with its ISO 4217 currency.

Floats are refused outright -- not converted -- because a float that reaches
this point has already lost cents somewhere upstream (a JSON parser without
``parse_float=Decimal``).  Failing loudly here finds that bug at its source.

Platform JSON is hostile input: ``"sNaN"``, ``"Infinity"`` and ``"1e999999999"`` are
valid Decimal literals, and each makes later arithmetic raise (or overflow) far from
the field that carried it.  ``parse_amount`` is the one edge reader every mapper uses:
it refuses non-finite values, absurd magnitudes and exponents and wrong JSON types
with a ``ValidationFailed`` naming the field path, so the record is parked with that
reason.  The canonical model refuses non-finite and out-of-range amounts too, as a
second line.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..errors import ValidationFailed

# Minor units of currencies that do not have two decimals (ISO 4217).
_MINOR_UNITS: dict[str, int] = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3,
    "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3,
    "UGX": 0, "UYI": 0, "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip


def minor_units(currency: str) -> int:
    """How many decimals the currency's smallest unit has (2 unless ISO says otherwise)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def smallest_unit(currency: str) -> Decimal:
    """The currency's smallest unit as an amount: 0.01 USD, 1 JPY, 0.001 KWD."""
    return Decimal(1).scaleb(-minor_units(currency))


MAX_DIGITS = 15
MAX_MAGNITUDE = Decimal(10) ** MAX_DIGITS
"""Amounts, quantities and rates are below 10^15 in absolute value (a quadrillion: no order)."""
MIN_EXPONENT = -20
"""At most 20 decimal places in a platform amount (a unit price has 8 at the very most)."""
MAX_AMOUNT_TEXT = 64
"""A numeric string longer than this is not an amount (and is not worth parsing)."""


def _shown(value: Any) -> str:
    """``value`` for an error message, cut short: a hostile field can be megabytes long."""
    if isinstance(value, int) and value.bit_length() > 200:  # repr() refuses 4,300+ digits
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def amount_problem(value: Decimal) -> str | None:
    """Why a Decimal is not a usable amount (non-finite, too large, too precise), or None."""
    if not value.is_finite():
        return "not a finite number"
    if value.adjusted() >= MAX_DIGITS:  # adjusted(): no arithmetic, so no Overflow either
        return f"out of range (|amount| must be below {MAX_MAGNITUDE:.0E})"
    if value.as_tuple().exponent < MIN_EXPONENT:  # type: ignore[operator]  # finite: an int
        return f"with more than {-MIN_EXPONENT} decimal places"
    return None


def parse_amount(value: Any, where: str, *, platform: str | None = None) -> Decimal:
    """An amount read from platform JSON: Decimal, int or a numeric string -- finite, bounded.

    ``where`` is the field path (``order 42.line_items[1].total``); it opens the
    ``ValidationFailed`` message and travels as ``details["field"]``.  JSON ``null``,
    ``true``/``false``, floats, objects and arrays are refused: a mapper that allows a
    blank field checks for it before calling this.
    """
    if type(value) is Decimal:
        number = value
    elif isinstance(value, bool) or value is None:
        raise _invalid(where, value, "not an amount", platform)
    elif isinstance(value, int):
        if abs(value) >= MAX_MAGNITUDE:  # compared as an int: never converted to text
            raise _invalid(where, value, f"out of range (below {MAX_MAGNITUDE:.0E})", platform)
        number = Decimal(value)
    elif isinstance(value, float):
        raise _invalid(where, value, "a float; parse the JSON with parse_float=Decimal", platform)
    elif isinstance(value, Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise _invalid(where, value, "empty, not an amount", platform)
        if len(text) > MAX_AMOUNT_TEXT:
            raise _invalid(where, value, f"longer than {MAX_AMOUNT_TEXT} characters", platform)
        try:
            number = Decimal(text)
        except ArithmeticError:
            raise _invalid(where, value, "not a decimal number", platform) from None
    else:
        raise _invalid(where, value, f"a {type(value).__name__}, not an amount", platform)
    problem = amount_problem(number)
    if problem is not None:
        raise _invalid(where, value, problem, platform)
    return number


def _invalid(where: str, value: Any, problem: str, platform: str | None) -> ValidationFailed:
    return ValidationFailed(
        f"{where} is {_shown(value)}, {problem}", platform=platform, details={"field": where}
    )


def _exact_decimal(value: Any) -> Any:
    """Accept Decimal, int and numeric strings; refuse float, bool, non-finite and huge values."""
    if type(value) is Decimal:  # the usual case, first
        if value.is_finite() and value.adjusted() < MAX_DIGITS:
            return value
        raise ValueError(f"{_shown(value)}: {amount_problem(value)}")
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
        if len(text) > MAX_AMOUNT_TEXT:
            raise ValueError(f"{_shown(text)}: longer than {MAX_AMOUNT_TEXT} characters")
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise ValueError(f"{_shown(text)} is not a decimal number") from None
    if isinstance(value, int):
        if abs(value) >= MAX_MAGNITUDE:
            raise ValueError(f"{_shown(value)}: out of range (below {MAX_MAGNITUDE:.0E})")
        return Decimal(value)
    if isinstance(value, Decimal) and (not value.is_finite() or value.adjusted() >= MAX_DIGITS):
        raise ValueError(f"{_shown(value)}: {amount_problem(value)}")
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


def split_by_weights(amount: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """``amount`` split in proportion to ``weights``, each part rounded half-up to whole minor
    units of ``currency``; the last part takes the rounding remainder, so the parts always add
    up to ``amount`` exactly (a platform that states one figure -- a refund's tax -- for several
    lines).  All weights zero: everything on the first part."""
    quantum = Decimal(1).scaleb(-minor_units(currency))
    whole = sum(weights, Decimal(0))
    if whole == 0:
        return [amount] + [Decimal(0)] * (len(weights) - 1)
    parts = [(amount * w / whole).quantize(quantum, ROUND_HALF_UP) for w in weights[:-1]]
    return [*parts, amount - sum(parts, Decimal(0))]
