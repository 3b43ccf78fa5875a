"""Shared pieces of the Zoho Books tests: a logical clock, targets wired to the emulator,
and drafts built from a canonical order (the mapping runtime is not part of these tests)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import anyio
import httpx

from ledgerbridge.canonical import Order
from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.contracts.context import (
    CredentialStore,
    LockProvider,
    MemoryCredentials,
    ProcessLocalLocks,
)
from ledgerbridge.plan import (
    BusinessKey,
    ContactDraft,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    ItemDraft,
    Link,
    LookupKind,
    PaymentDraft,
)
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MAIN_ORG,
    MERCHANT,
)
from ledgerbridge_zohobooks.settings import ZohoBooksSecrets, ZohoBooksSettings
from ledgerbridge_zohobooks.target import ZohoBooksTarget


class FastClock:
    """Logical time: ``sleep`` advances it at once and records how long was asked for."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return time.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:

        self.sleeps.append(seconds)
        self.offset += max(0.0, seconds)
        await anyio.sleep(0)


def make_target(
    url: str,
    state: Any,
    *,
    organization_id: str = MAIN_ORG,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Any = None,
    credentials: CredentialStore | None = None,
    locks: LockProvider | None = None,
    refresh_token: str | None = None,
    connection_id: str = "t1/books",
    **settings: Any,
) -> ZohoBooksTarget:
    if refresh_token is None:
        refresh_token = state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT)
    if credentials is None:
        credentials = MemoryCredentials()
    settings.setdefault("key_field", "cf_ledgerbridge_key")  # the emulator's orgs have it
    context = ConnectorContext(
        connection_id=connection_id,
        tenant_id="t1",
        settings=ZohoBooksSettings(
            organization_id=organization_id, api_url=url, accounts_url=url, **settings
        ),
        secrets=ZohoBooksSecrets(
            client_id=EMULATOR_CLIENT_ID,
            client_secret=EMULATOR_CLIENT_SECRET,
            refresh_token=refresh_token,
        ),
        transport=transport,
        credentials=credentials,
        locks=locks or ProcessLocalLocks(),
    )
    if clock is not None:
        context.clock = clock
    return ZohoBooksTarget(context)


def with_target(zoho: Any, fn: Any) -> Any:
    """``await fn(target)`` with a target on the running emulator ``zoho``, closed after."""

    async def main() -> Any:
        target = make_target(zoho.url, zoho.state)
        try:
            return await fn(target)
        finally:
            await target.aclose()

    return anyio.run(main)


@dataclass
class Written:
    contact: str
    document: Any
    items: list[str] = field(default_factory=list)
    payment: str | None = None
    credit_notes: list[Any] = field(default_factory=list)
    refunds: list[str] = field(default_factory=list)


async def tax_ids_by_rate(target: ZohoBooksTarget) -> dict[Decimal, str]:
    entries = await target.lookups(LookupKind.TAXES)
    return {Decimal(e.details["percentage"]).normalize(): e.target_id for e in entries}


def _tax_id(taxes: tuple[Any, ...], by_rate: dict[Decimal, str]) -> str | None:
    if not taxes:
        return None
    rate = (taxes[0].rate * 100).normalize()
    return by_rate[rate]


async def write_order(
    target: ZohoBooksTarget, order: Order, *, kind: DocumentKind = DocumentKind.INVOICE
) -> Written:
    """What the planner + executor would do for ``order``: contact, items, document,
    payment (invoice only), then a credit note per refund (applied, or refunded when money
    went back)."""
    by_rate = await tax_ids_by_rate(target)
    email = order.email or "buyer@example.com"
    contact_link = Link(key=f"contact:{order.source.platform}:{email}")
    contact_ref = await target.find_contact(email=email, key=contact_link.key)
    if contact_ref is None:
        contact_ref = await target.create_contact(
            ContactDraft(
                link=contact_link,
                display_name=email,
                email=email,
                currency=order.currency,
                billing_address=order.billing_address,
            )
        )
    contact = contact_link.resolved(contact_ref.target_id)
    items: list[str] = []
    lines = []
    for line in order.lines:
        item_ref = await target.find_item(sku=line.sku) if line.sku else None
        if item_ref is None and line.sku:
            item_ref = await target.create_item(
                ItemDraft(
                    link=Link(key=f"item:sku:{line.sku}"),
                    name=line.title,
                    sku=line.sku,
                    rate=line.unit_price.amount,
                    tax_id=_tax_id(line.taxes, by_rate),
                )
            )
        if item_ref is not None:
            items.append(item_ref.target_id)
        lines.append(
            DocumentLine(
                description=line.title,
                quantity=line.quantity,
                rate=line.unit_price.amount,
                discount=line.discount.amount if line.discount else None,
                tax_id=_tax_id(line.taxes, by_rate),
                item=Link(key=f"item:sku:{line.sku}", target_id=item_ref.target_id)
                if item_ref
                else None,
                source_line_id=line.line_id,
            )
        )
    shipping = sum((s.net.amount for s in order.shipping_lines), Decimal(0))
    shipping_taxes = tuple(t for s in order.shipping_lines for t in s.taxes)
    unallocated = sum((d.amount.amount for d in order.discounts if not d.allocated), Decimal(0))
    key = BusinessKey(reference=order.number, source_key=order.source.key)
    paid = sum((p.amount.amount for p in order.payments if p.is_money_in), Decimal(0))
    draft = DocumentDraft(
        kind=kind,
        key=key,
        contact=contact,
        date=order.created_at.date(),
        currency=order.currency,
        lines=tuple(lines),
        taxes_included=order.taxes_included,
        discount=unallocated or None,
        shipping_charge=shipping or None,
        shipping_tax_id=_tax_id(shipping_taxes, by_rate),
        adjustment=order.rounding_adjustment.amount if order.rounding_adjustment else None,
        payment_mode="creditcard" if kind is DocumentKind.SALES_RECEIPT else None,
    )
    document = await target.create_document(draft)
    written = Written(contact=contact_ref.target_id, document=document, items=items)
    doc_link = Link(key=f"doc:{order.source.key}", target_id=document.target_id)
    if kind is DocumentKind.INVOICE and paid:
        payment = await target.record_payment(
            PaymentDraft(
                key=BusinessKey(
                    reference=f"{order.number}-P", source_key=f"{order.source.key}:pay"
                ),
                contact=contact,
                amount=paid,
                currency=order.currency,
                date=order.created_at.date(),
                payment_mode="creditcard",
                applied_to=((doc_link, paid),),
            )
        )
        written.payment = payment.target_id
    accounts = await target.lookups(LookupKind.BANK_ACCOUNTS)
    for n, refund in enumerate(order.refunds, start=1):
        refund_lines = []
        for rl in refund.lines:
            refund_lines.append(
                DocumentLine(
                    description=rl.title or "Refund",
                    quantity=rl.quantity,
                    rate=rl.subtotal.amount / rl.quantity,
                    tax_id=_tax_id(rl.taxes, by_rate),
                )
            )
        note = await target.create_document(
            DocumentDraft(
                kind=DocumentKind.CREDIT_NOTE,
                key=BusinessKey(reference=f"{order.number}-R{n}", source_key=refund.source.key),
                contact=contact,
                date=(refund.created_at or order.created_at).date(),
                currency=order.currency,
                lines=tuple(refund_lines),
                taxes_included=refund.taxes_included,
                shipping_charge=refund.shipping.amount if refund.shipping else None,
                against=doc_link if kind is DocumentKind.INVOICE else None,
            )
        )
        written.credit_notes.append(note)
        note_link = Link(key=f"cn:{refund.source.key}", target_id=note.target_id)
        returned = refund.money_returned.amount
        if returned:
            refund_ref = await target.refund_credit(
                CreditRefundDraft(
                    credit_note=note_link,
                    amount=returned,
                    date=(refund.created_at or order.created_at).date(),
                    from_account_id=accounts[0].target_id,
                    payment_mode="creditcard",
                )
            )
            written.refunds.append(refund_ref.target_id)
    return written
