"""What the parts of the Zoho Books target share: the organisation as ``ZohoBooksTarget`` holds
it (client, settings, currencies, rates, custom fields, the read-back create), seen by the parts
that write contacts, items, documents and money movements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from ledgerbridge.plan import BusinessKey, CreditApplication, CreditRefundDraft, TargetRef

from . import models
from .client import ZohoClient
from .settings import ZohoBooksSettings


class Books(Protocol):
    client: ZohoClient
    settings: ZohoBooksSettings

    async def base_currency(self) -> str | None: ...

    async def currency_list(self, *, fresh: bool = False) -> list[models.Currency]: ...

    async def currency(self, code: str) -> models.Currency: ...

    async def places(self, code: str) -> int: ...

    async def custom_fields(self, module: str, values: dict[str, str]) -> list[dict[str, Any]]: ...

    async def tax_rates(self) -> dict[str, Decimal]: ...

    async def exchange_rate(
        self,
        what: str,
        currency: str,
        configured: Decimal | None,
        stated: dict[str, Decimal],
        on: date | None = None,
    ) -> Decimal | None: ...

    async def create(
        self,
        path: str,
        body: dict[str, Any],
        find: Callable[[], Awaitable[TargetRef | None]],
        *,
        params: dict[str, Any] | None = None,
        attempts: int = 3,
    ) -> dict[str, Any] | TargetRef: ...

    # The read-backs go through the target's own finds, the ones the engine calls.
    async def find_payment(self, key: BusinessKey) -> TargetRef | None: ...

    async def find_credit_application(self, application: CreditApplication) -> TargetRef | None: ...

    async def find_refund(self, draft: CreditRefundDraft) -> TargetRef | None: ...


def plain_ref(kind: str, target_id: str) -> TargetRef:
    return TargetRef(kind=kind, target_id=target_id)
