"""The source contract: read changes, fetch one record, verify webhooks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ..canonical import CanonicalRecord, EntityType, Order
from ..errors import SyncError
from .describe import SourceDescription


class SourceCapability(StrEnum):
    ORDERS = "orders"
    CUSTOMERS = "customers"
    PRODUCTS = "products"
    REFUNDS = "refunds"
    WEBHOOKS = "webhooks"
    BACKFILL = "backfill"  # a bulk path for long histories


STOREFRONT_CAPABILITIES = frozenset(
    {
        SourceCapability.ORDERS,
        SourceCapability.CUSTOMERS,
        SourceCapability.PRODUCTS,
        SourceCapability.REFUNDS,
        SourceCapability.WEBHOOKS,
    }
)
"""What a storefront source reads (orders with their refunds, customers, products) and that
it takes webhook deliveries: declared once, so each storefront plugin names the set rather
than listing it again (and a new capability is one edit, not one per connector)."""


@dataclass(frozen=True)
class Change:
    """One changed record as a source reports it.

    Exactly one of ``record``/``error`` is set unless ``deleted``: a record that
    cannot be turned into a canonical object travels as ``error`` (with the
    reason) so the engine can park it -- a bad record never ends a run and is
    never dropped silently.
    """

    entity: EntityType
    external_id: str
    version: str | None
    record: CanonicalRecord | None = None
    error: SyncError | None = None
    deleted: bool = False


@dataclass(frozen=True)
class ChangePage:
    """A page of changes and the checkpoint to store once all of them are recorded.

    The engine persists ``checkpoint`` only after every change in the page has a
    durable outcome; a crash re-reads the page, and de-duplication by
    (id, version) makes that harmless.
    """

    changes: list[Change]
    checkpoint: str | None
    # Records the platform counts from this page on (this page's included) for the query
    # being walked, when it says so: progress totals only (an estimate, never trusted).
    remaining: int | None = None


@dataclass(frozen=True)
class WebhookRequest:
    """A raw delivery, exactly as received (the body must stay byte-for-byte for HMACs)."""

    headers: Mapping[str, str]
    body: bytes
    path: str = ""
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lower:
                return value
        return None


@dataclass(frozen=True)
class WebhookEvent:
    """What a verified webhook says happened. A hint: the engine re-reads the record."""

    delivery_id: str
    topic: str
    entity: EntityType
    external_id: str
    version: str | None = None
    occurred_at: datetime | None = None
    deleted: bool = False


class Source(ABC):
    """A storefront (or any system of record for sales) we read from."""

    @abstractmethod
    def changes(
        self, entity: EntityType, checkpoint: str | None, *, page_size: int | None = None
    ) -> AsyncIterator[ChangePage]:
        """Pages of records changed since ``checkpoint`` (None: from the start), oldest first."""

    @abstractmethod
    async def fetch(self, entity: EntityType, external_id: str) -> CanonicalRecord:
        """The current state of one record; raises ``NotFound`` when it is gone."""

    def backfill(
        self, entity: EntityType, since: datetime | None = None
    ) -> AsyncIterator[ChangePage]:
        """Long histories through the platform's bulk path; defaults to ``changes``."""
        return self.changes(entity, since.isoformat() if since else None)

    async def describe(self, limit: int = 200) -> SourceDescription:
        """What recent orders use -- tax titles and rates, gateways, statuses, currencies --
        for ``ledgerbridge mappings init``.  The default reads up to ``limit`` orders through
        ``changes``; a connector with a cheaper listing may override it."""
        found = SourceDescription()
        pages = self.changes(EntityType.ORDER, None)
        try:
            async for page in pages:
                for change in page.changes:
                    if isinstance(change.record, Order):
                        found.add(change.record)
                    elif change.error is not None:
                        found.unreadable += 1
                if found.orders + found.unreadable >= limit:
                    break
        finally:
            aclose = getattr(pages, "aclose", None)
            if aclose is not None:
                await aclose()
        return found

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Raise ``WebhookRejected`` unless the delivery is authentic."""
        from ..errors import WebhookRejected

        raise WebhookRejected(f"{type(self).__name__} does not accept webhooks")

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent | None:
        """The event a verified delivery describes; ``None`` for a ping to acknowledge only."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
