"""What the organisation offers for mapping and setup checks: taxes, currencies, accounts,
items, payment modes, custom fields, and whether the settings' ids exist."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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


def _account(row: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    a = models.Account.model_validate(row)
    return a.account_id, a.account_name, {"type": a.account_type}


def _tax(row: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    t = models.Tax.model_validate(row)
    return t.tax_id, t.tax_name, {"percentage": str(t.tax_percentage)}


def _item(row: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    i = models.Item.model_validate(row)
    return i.item_id, i.name, {"sku": i.sku}


Entry = Callable[[dict[str, Any]], tuple[str, str, dict[str, Any]]]
# kind -> (list path, list key, filters, row -> (id, name, details))
LISTS: dict[LookupKind, tuple[str, str, dict[str, str] | None, Entry]] = {
    LookupKind.TAXES: ("/settings/taxes", "taxes", None, _tax),
    LookupKind.ACCOUNTS: ("/chartofaccounts", "chartofaccounts", None, _account),
    LookupKind.BANK_ACCOUNTS: ("/bankaccounts", "bankaccounts", None, _account),
    LookupKind.ITEMS: ("/items", "items", directory.ALL_ITEMS, _item),
}


class Lookups(Books):
    """The ``Target`` lookup methods."""

    async def lookups(self, kind: LookupKind) -> list[LookupEntry]:
        if kind in LISTS:
            path, key, params, entry = LISTS[kind]
            rows = [entry(row) for row in await self.client.pages(path, key, params)]
            return [LookupEntry(kind=kind, target_id=i, name=n, details=d) for i, n, d in rows]
        if kind is LookupKind.CURRENCIES:
            return [
                LookupEntry(
                    kind=kind,
                    target_id=c.currency_id,
                    name=c.currency_code,
                    details={"base": c.is_base_currency},
                )
                for c in await self.currency_list(fresh=True)
            ]
        if kind is LookupKind.PAYMENT_MODES:
            return [LookupEntry(kind=kind, target_id=m, name=m) for m in PAYMENT_MODES]
        if kind is LookupKind.CUSTOM_FIELDS:
            return setup.declared_fields(self.settings)
        raise NotFound(f"Zoho Books has no lookup {kind}", platform=PLATFORM)

    async def verify_setup(self, fields: Sequence[FieldNeed]) -> list[SetupProblem]:
        """Custom fields (stated in ``settings.custom_fields``) and the settings' ids."""
        problems = setup.custom_field_problems(self.settings, fields)
        if self.settings.refund_account_id:
            accounts = [
                *await self.lookups(LookupKind.ACCOUNTS),
                *await self.lookups(LookupKind.BANK_ACCOUNTS),
            ]
            problems += setup.account_problems(self.settings, accounts)
        return problems
