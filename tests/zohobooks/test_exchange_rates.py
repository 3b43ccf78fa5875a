"""Zoho's own rate of the day (``fallback_rate: target``), against the strict emulator.

``GET /settings/currencies/{currency_id}/exchangerates?from_date=`` (currency.yml,
list_exchange_rates); every exchange is checked against Zoho's OpenAPI by the fixture.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.errors import NeedsMapping
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG

from .helpers import with_target


def _seed(zoho: Any) -> None:
    org = zoho.state.organizations[MAIN_ORG]
    [cid] = [c for c, row in org.currencies.items() if row["currency_code"] == "EUR"]
    org.exchange_rates[cid] = [
        {"exchange_rate_id": "1", "effective_date": "2026-01-01", "rate": Decimal("1.05")},
        {"exchange_rate_id": "2", "effective_date": "2026-02-01", "rate": Decimal("1.10")},
        {"exchange_rate_id": "3", "effective_date": "2026-03-05", "rate": Decimal("1.12")},
    ]


def test_the_rate_of_the_day_or_the_closest_before_it(zoho: Any) -> None:
    _seed(zoho)

    async def main(target: Any) -> list[Any]:
        return [
            await target.rate_on("EUR", date(2026, 2, 15)),  # closest before
            await target.rate_on("EUR", date(2026, 3, 5)),  # that day's
            await target.rate_on("EUR", date(2026, 3, 4)),
            await target.rate_on("EUR", date(2025, 12, 31)),  # none on or before
            await target.rate_on("EUR", date(2026, 2, 15)),  # asked once per day
        ]

    calls_before = len(zoho.exchanges)
    found = with_target(zoho, main)
    assert found == [Decimal("1.10"), Decimal("1.12"), Decimal("1.10"), None, Decimal("1.10")]
    asked = [e for e in zoho.exchanges[calls_before:] if e.path.endswith("/exchangerates")]
    assert len(asked) == 4 and {e.query["from_date"] for e in asked} == {
        "2026-02-15", "2026-03-05", "2026-03-04", "2025-12-31",
    }  # fmt: skip


def test_the_source_rate_first_then_zohos_then_the_mapping_then_advice(zoho: Any) -> None:
    _seed(zoho)

    async def main(target: Any) -> list[Any]:
        out = [
            await target.exchange_rate("x", "EUR", Decimal("1.3"), {"USD": Decimal("1.2")},
                                       date(2026, 2, 15)),
            await target.exchange_rate("x", "EUR", Decimal("1.3"), {}, date(2026, 2, 15)),
            await target.exchange_rate("x", "EUR", Decimal("1.3"), {}, date(2025, 6, 1)),
            await target.exchange_rate("x", "USD", None, {}, date(2026, 2, 15)),
        ]  # fmt: skip
        with pytest.raises(NeedsMapping) as caught:
            await target.exchange_rate("invoice #9", "EUR", None, {}, date(2025, 6, 1))
        return [*out, caught.value]

    *rates, refused = with_target(zoho, main)
    assert rates == [Decimal("1.2"), Decimal("1.10"), Decimal("1.3"), None]
    assert refused.missing == "exchange_rate:EUR"
    assert "Zoho Books has no EUR rate on or before 2025-06-01" in str(refused)
    assert "add to the mapping: {lookups: {currencies: {exchange_rates: {EUR:" in str(refused)


def test_an_unknown_currency_id_is_1002(zoho: Any) -> None:
    async def main(target: Any) -> Any:
        with pytest.raises(Exception) as caught:
            await target.client.call("GET", "/settings/currencies/404404/exchangerates")
        return caught.value

    error = with_target(zoho, main)
    assert "does not exist" in str(error)
