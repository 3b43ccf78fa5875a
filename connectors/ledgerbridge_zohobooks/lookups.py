"""What the organisation offers for mapping and setup checks: taxes, currencies, accounts,
items, payment modes, custom fields, whether the settings' ids exist, and its own exchange
rate of a currency on a day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from ledgerbridge.contracts.target import FieldNeed, SetupProblem
from ledgerbridge.errors import NotFound
from ledgerbridge.plan import LookupEntry, LookupKind

from . import directory, models, setup
from .books import Books
from .client import PLATFORM

PAYMENT_MODES = (
    "cash",
    "check",
    "creditcard",
    "banktransfer",
    "bankremittance",
    "autotransaction",
    "others",
)


class Lookups:
    """The ``Target`` lookup methods, held by ``ZohoBooksTarget``."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self._rates_on: dict[tuple[str, date], Decimal | None] = {}

    # ------------------------------------------------------------------ lookups

    async def lookups(self, kind: LookupKind) -> list[LookupEntry]:
        if kind is LookupKind.TAXES:
            rows = await self.books.client.pages("/settings/taxes", "taxes")
            taxes = [models.Tax.model_validate(r) for r in rows]
            return [
                LookupEntry(
                    kind=kind,
                    target_id=t.tax_id,
                    name=t.tax_name,
                    details={"percentage": str(t.tax_percentage)},
                )
                for t in taxes
            ]
        if kind is LookupKind.CURRENCIES:
            return [
                LookupEntry(
                    kind=kind,
                    target_id=c.currency_id,
                    name=c.currency_code,
                    details={"base": c.is_base_currency},
                )
                for c in await self.books.currency_list(fresh=True)
            ]
        if kind in (LookupKind.ACCOUNTS, LookupKind.BANK_ACCOUNTS):
            path, key = (
                ("/chartofaccounts", "chartofaccounts")
                if kind is LookupKind.ACCOUNTS
                else ("/bankaccounts", "bankaccounts")
            )
            accounts = [
                models.Account.model_validate(r) for r in await self.books.client.pages(path, key)
            ]
            return [
                LookupEntry(
                    kind=kind,
                    target_id=a.account_id,
                    name=a.account_name,
                    details={"type": a.account_type},
                )
                for a in accounts
            ]
        if kind is LookupKind.ITEMS:
            items = [
                models.Item.model_validate(r)
                for r in await self.books.client.pages("/items", "items", directory.ALL_ITEMS)
            ]
            return [
                LookupEntry(kind=kind, target_id=i.item_id, name=i.name, details={"sku": i.sku})
                for i in items
            ]
        if kind is LookupKind.PAYMENT_MODES:
            return [LookupEntry(kind=kind, target_id=m, name=m) for m in PAYMENT_MODES]
        if kind is LookupKind.CUSTOM_FIELDS:
            return setup.declared_fields(self.books.settings)
        raise NotFound(f"Zoho Books has no lookup {kind}", platform=PLATFORM)

    async def verify_setup(self, fields: Sequence[FieldNeed]) -> list[SetupProblem]:
        """Custom fields (stated in ``settings.custom_fields``) and the settings' ids."""
        problems = setup.custom_field_problems(self.books.settings, fields)
        if self.books.settings.refund_account_id:
            accounts = [
                *await self.lookups(LookupKind.ACCOUNTS),
                *await self.lookups(LookupKind.BANK_ACCOUNTS),
            ]
            problems += setup.account_problems(self.books.settings, accounts)
        return problems

    async def rate_on(self, code: str, day: date) -> Decimal | None:
        """The organisation's own rate of ``code`` for ``day``: the one effective that day,
        else the closest before it; None when it has none.

        ``GET /settings/currencies/{currency_id}/exchangerates?from_date=`` (currency.yml,
        operationId ``list_exchange_rates``: "Returns the exchange rate details from the
        given date or from previous closest match in the absence of the exchange rate on
        the given date"). Whatever rows come back, only one effective on or before ``day``
        is taken, the latest such. Asked once per currency and day.
        """
        key = (code, day)
        if key in self._rates_on:
            return self._rates_on[key]
        currency = await self.books.currency(code)
        body = await self.books.client.call(
            "GET",
            f"/settings/currencies/{currency.currency_id}/exchangerates",
            params={"from_date": day.isoformat()},
        )
        best: models.ExchangeRate | None = None
        for row in body.get("exchange_rates") or []:
            rate = models.ExchangeRate.model_validate(row)
            if rate.rate is None or rate.rate <= 0 or rate.effective_date is None:
                continue
            if rate.effective_date <= day and (
                best is None or rate.effective_date > (best.effective_date or day)
            ):
                best = rate
        found = best.rate if best is not None else None
        self._rates_on[key] = found
        return found
