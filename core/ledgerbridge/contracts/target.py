"""The target contract: an accounting system we write to."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ..plan import (
    BusinessKey,
    ContactDraft,
    CreditApplication,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    ItemDraft,
    LookupEntry,
    LookupKind,
    PaymentDraft,
    TargetRef,
)


class TargetCapability(StrEnum):
    INVOICES = "invoices"
    SALES_RECEIPTS = "sales_receipts"
    CREDIT_NOTES = "credit_notes"
    PAYMENTS = "payments"
    CUSTOMER_ADVANCES = "customer_advances"
    CREDIT_REFUNDS = "credit_refunds"
    VOID = "void"
    UPSERT_BY_KEY = "upsert_by_key"  # the target itself de-duplicates on our key
    FIND_BY_REFERENCE = "find_by_reference"
    TAX_INCLUSIVE = "tax_inclusive"
    MULTI_CURRENCY = "multi_currency"


@dataclass(frozen=True)
class TargetIdentity:
    """Who the credentials reach: the organisation a pipeline must match before it runs."""

    organization_id: str
    name: str | None = None
    base_currency: str | None = None
    reachable: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetDocument:
    """A document as the target holds it now (for adoption after a crash and conflict checks)."""

    ref: TargetRef
    key: BusinessKey | None
    status: str | None
    total: Decimal | None
    balance: Decimal | None = None
    currency: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    last_modified: datetime | None = None


@dataclass(frozen=True)
class FieldNeed:
    """A custom field a mapping writes: on which kind of record and under which API name.

    ``record`` is target-neutral (``contact``, ``invoice``, ``sales_receipt``,
    ``credit_note``, ``payment``); the target names the module it lives in.
    ``where`` is the mapping position that asks for it (for the message).
    """

    record: str
    name: str
    where: str


@dataclass(frozen=True)
class SetupProblem:
    """Something the organisation lacks for a mapping or for the connection's own settings.

    ``where`` says who needs it (a mapping position, or ``settings.<key>``); ``fix`` how
    to create it (a menu path or a command)."""

    where: str
    message: str
    fix: str = ""


class Target(ABC):
    """An accounting platform. Every method speaks plan drafts, never platform JSON."""

    @abstractmethod
    async def identity(self) -> TargetIdentity:
        """The organisation these credentials write to (raises ``PermissionDenied`` if none)."""

    @abstractmethod
    async def find_contact(
        self,
        *,
        email: str | None = None,
        key: str | None = None,
        name: str | None = None,
        currency: str | None = None,
    ) -> TargetRef | None:
        """A contact by business key (our key custom field, then email, then -- only for a
        ``ContactDraft.unique_name`` contact -- its exact display name); with ``currency``,
        only a contact in that currency (a target contact may have a single currency, and a
        document follows its contact's)."""

    async def prepare_lookups(self, *, contacts: int = 0, items: int = 0, scope: str = "") -> None:
        """A unit of work starts that will look up ``contacts`` contacts and ``items`` items
        the store holds no binding of (``find_contact`` / ``find_item``).

        A target may read them in bulk (one list page instead of a search each) and answer
        look-ups from that read while ``scope`` stays the same: it names the pipeline's
        current tenure of its lease, so no other holder of the pipeline wrote in between,
        and whatever an earlier holder created -- even one that died before recording its
        binding -- is in a read made under this scope. A different scope, or an empty one,
        must forget what was read before (each unit calls, with zeros when there is nothing
        to look up). The default reads nothing: every look-up searches."""
        return None

    @abstractmethod
    async def create_contact(self, draft: ContactDraft) -> TargetRef: ...

    @abstractmethod
    async def update_contact(self, ref: TargetRef, draft: ContactDraft) -> TargetRef: ...

    @abstractmethod
    async def find_item(self, *, sku: str) -> TargetRef | None: ...

    @abstractmethod
    async def create_item(self, draft: ItemDraft) -> TargetRef: ...

    @abstractmethod
    async def update_item(self, ref: TargetRef, draft: ItemDraft) -> TargetRef: ...

    @abstractmethod
    async def create_document(
        self, draft: DocumentDraft, *, first_attempt: bool = False
    ) -> TargetRef:
        """Write a new document.

        ``first_attempt``: True when the engine's write-ahead intents show this write was
        never attempted before (no intent for its key, in a run the engine trusts): the
        target may skip its own search-before-create. False: search first, as a second
        line of defence. Either way, a create whose outcome is unknown (a lost response)
        must be looked up before it is retried, never repeated blindly.

        ``draft.settled_in_plan`` says the same plan records payments covering the whole
        total right after; a target may skip steps only an unpaid document needs.
        """

    @abstractmethod
    async def update_document(self, ref: TargetRef, draft: DocumentDraft) -> TargetRef: ...

    @abstractmethod
    async def void_document(self, ref: TargetRef) -> None: ...

    @abstractmethod
    async def find_document(self, kind: DocumentKind, key: BusinessKey) -> TargetDocument | None:
        """The document written for ``key``, if it exists (exact match only)."""

    async def holds_nothing_written(self) -> bool:
        """Whether the target provably holds no document or payment we could have written.

        Asked once per run of a pipeline that has no checkpoint yet (a first run, or a
        run on a lost store): True lets the engine's intents vouch for every write of
        that run, so no create is searched for first -- everything written from then on
        has an intent.  Only answer True on proof (e.g. the organisation lists no document
        and no payment at all); the default, False, keeps the search before each create.
        """
        return False

    async def adopt_document(self, found: TargetDocument, draft: DocumentDraft) -> TargetRef:
        """Finish a document found after an unknown outcome, as ``create_document`` would
        have left it (a crash may fall between a create and its follow-up calls, e.g.
        Zoho Books' mark-as-sent).  The default: it is finished as found."""
        return found.ref

    @abstractmethod
    async def get_document(self, ref: TargetRef) -> TargetDocument: ...

    @abstractmethod
    async def record_payment(
        self, draft: PaymentDraft, *, first_attempt: bool = False
    ) -> TargetRef:
        """Record money received, applied to ``draft.applied_to`` (none: an advance).

        ``first_attempt`` as for ``create_document``: a payment whose outcome is unknown
        is looked up before any retry.
        """

    async def find_payment(self, key: BusinessKey) -> TargetRef | None:
        """The payment written for ``key``, if it exists (exact match on a reference the
        payment carries -- never on its amount alone: two payments of one order may be
        equal).

        Used after a lost response, so a payment is never recorded twice. A target
        that cannot look payments up leaves it unimplemented; the engine then parks
        the record for an operator instead of risking a duplicate.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot look payments up")

    @abstractmethod
    async def apply_credit(self, application: CreditApplication) -> TargetRef | None:
        """Apply a credit note to a document. May return a ref (``adopted=True`` when the
        application was found already made); ``None`` lets the engine name it."""

    async def find_credit_application(self, application: CreditApplication) -> TargetRef | None:
        """The application of ``application.credit_note`` to ``application.document``, if it
        was made (read from the target, e.g. the credit note's credited invoices).

        The engine plans at most one application per credit note and document, so the
        pair identifies the write. Unimplemented: the engine parks a record whose
        application's outcome is unknown for an operator, never applies it twice.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot look credit applications up")

    @abstractmethod
    async def refund_credit(self, draft: CreditRefundDraft) -> TargetRef: ...

    async def find_refund(self, draft: CreditRefundDraft) -> TargetRef | None:
        """The refund written for ``draft``, if it exists: read from the credit note's
        refunds and matched by a reference the refund carries (``draft.reference`` and the
        credit note's key), never by the credit note's balance alone -- two refunds of
        the same amount leave the same balance.

        Unimplemented: the engine parks a record whose refund's outcome is unknown for
        an operator, never refunds twice.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot look refunds up")

    @abstractmethod
    async def lookups(self, kind: LookupKind) -> list[LookupEntry]:
        """Master data a mapping may name (taxes, accounts, ...), for validation."""

    async def verify_setup(self, fields: Sequence[FieldNeed]) -> list[SetupProblem]:
        """What the organisation lacks for these custom fields and for the connection's own
        settings (ids it names, fields it writes), checked by ``mappings validate --against``
        before any write.  The default: a target with nothing of its own to check."""
        return []

    async def limits(self) -> dict[str, Any] | None:
        """Rate-limit state for ``ledgerbridge status`` (calls left this minute / today).

        ``None`` when the target has no limits worth showing.
        """
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
