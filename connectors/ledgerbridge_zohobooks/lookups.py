"""What the organisation offers for mapping and setup checks: taxes, currencies, accounts,
items, payment modes, custom fields, and whether the settings' ids exist."""

from __future__ import annotations

from collections.abc import Sequence

from ledgerbridge.contracts.target import FieldNeed, SetupProblem
from ledgerbridge.errors import NotFound
from ledgerbridge.plan import LookupEntry, LookupKind

from . import models, setup
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
                for r in await self.books.client.pages("/items", "items")
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
