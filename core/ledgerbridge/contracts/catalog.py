"""The catalog contract: read products and variants changed since a checkpoint, write fields
of variants back through the platform's efficient path.

A catalog pipeline (docs/catalog.md) joins two connections, each of which reads and
writes some of the catalog's fields.  What each can do is declared up front
(``CatalogSpec.reads``/``writes``), so ``ledgerbridge check`` refuses an ownership table a
connector could not honour before anything runs.  Values cross this boundary as
canonical strings (``FieldValue``): the engine compares and stores them, connectors turn
them into the platform's types -- the engine never sees a platform's JSON.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from ..canonical import Product, ProductVariant
from ..errors import SyncError
from .context import ConnectorContext


class CatalogField(StrEnum):
    """A field a catalog pipeline can give to one side (its owner)."""

    NAME = "name"
    DESCRIPTION = "description"
    PRICE = "price"
    TAX = "tax"  # taxable or not: the one tax fact every platform keeps per variant
    STOCK = "stock"  # units available, summed over locations
    STATUS = "status"  # "active" or "inactive"


ACTIVE, INACTIVE = "active", "inactive"


def price_text(amount: Decimal) -> str:
    """A price as the engine compares it: ``12.5`` and ``12.50`` are one price."""
    return format(amount.normalize(), "f")


def values_of(product: Product, variant: ProductVariant) -> dict[CatalogField, str | None]:
    """The catalog fields of one variant as canonical strings (``None``: unknown here)."""
    status = variant.status or product.status
    return {
        CatalogField.NAME: product.title,
        CatalogField.DESCRIPTION: product.description,
        CatalogField.PRICE: price_text(variant.price.amount) if variant.price else None,
        CatalogField.TAX: "true" if variant.taxable else "false",
        CatalogField.STOCK: (
            str(sum(level.available for level in variant.inventory)) if variant.inventory else None
        ),
        CatalogField.STATUS: status,
    }


@dataclass(frozen=True)
class CatalogPage:
    """Products changed since the last page, and the checkpoint to store once the engine
    holds them durably.  ``unreadable`` names records that could not be mapped (id ->
    error): the engine parks them, never drops them."""

    products: list[Product]
    checkpoint: str | None
    unreadable: dict[str, SyncError] = field(default_factory=dict)


@dataclass(frozen=True)
class CatalogWrite:
    """Set these fields of one variant (absolute values: writing twice is writing once).

    ``key`` is the engine's idempotency key for the write; results name it."""

    key: str
    product_id: str
    variant_id: str
    values: Mapping[CatalogField, str]
    handles: Mapping[str, str] = field(default_factory=dict)

    @property
    def price(self) -> Decimal | None:
        raw = self.values.get(CatalogField.PRICE)
        if raw is None:
            return None
        try:
            return Decimal(raw)
        except InvalidOperation:
            return None

    @property
    def stock(self) -> int | None:
        raw = self.values.get(CatalogField.STOCK)
        return int(raw) if raw is not None else None

    @property
    def taxable(self) -> bool | None:
        raw = self.values.get(CatalogField.TAX)
        return None if raw is None else raw == "true"


@dataclass(frozen=True)
class WriteResult:
    """One write's outcome: ``error`` None means the platform holds the values now."""

    key: str
    error: SyncError | None = None


class CatalogSource(ABC):
    """Reads a catalog incrementally."""

    @abstractmethod
    def catalog_changes(self, checkpoint: str | None) -> AsyncIterator[CatalogPage]:
        """Pages of products changed since ``checkpoint`` (None: the whole catalog)."""


class CatalogTarget(ABC):
    """Writes fields of variants, batched the way the platform allows."""

    @abstractmethod
    async def write_variants(self, writes: Sequence[CatalogWrite]) -> list[WriteResult]:
        """Apply every write (one result each, in any order); raise only when nothing can
        be known about any of them (the engine then retries the lot by the error's class)."""


class CatalogConnector(CatalogSource, CatalogTarget):
    """Both halves: a catalog pipeline reads and writes each of its two sides."""

    async def aclose(self) -> None:
        """Release connections."""


@dataclass(frozen=True)
class CatalogSpec:
    """What a connector can do in a catalog pipeline (``ConnectorSpec.catalog``).

    ``write_paths`` says, per field, which platform call writes it (``ledgerbridge
    connectors`` lists it).  ``reads`` defaults to every field; ``writes``, left empty, is
    the fields ``write_paths`` names (a field written has a call that writes it)."""

    factory: Callable[[ConnectorContext], CatalogConnector]
    reads: frozenset[CatalogField] = frozenset(CatalogField)
    writes: frozenset[CatalogField] = frozenset()
    write_paths: Mapping[CatalogField, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.writes:
            object.__setattr__(self, "writes", frozenset(self.write_paths))


__all__ = [
    "ACTIVE",
    "INACTIVE",
    "CatalogConnector",
    "CatalogField",
    "CatalogPage",
    "CatalogSource",
    "CatalogSpec",
    "CatalogTarget",
    "CatalogWrite",
    "WriteResult",
    "price_text",
    "values_of",
]
