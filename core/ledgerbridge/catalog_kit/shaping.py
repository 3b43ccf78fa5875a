"""Platform records -> the canonical ``Product``/``ProductVariant`` a catalog pipeline compares.

Each connector reads its own JSON; what is the same for all of them is what the engine
needs back (``contracts.catalog.values_of``): a product with its title, description and
status, and variants each with a ``Decimal`` price in the store's currency, a taxable flag,
a status and -- only where the platform tracks stock for it -- one inventory level.  Stock a
platform does not track is unknown (no level), never zero: a zero would be written to the
other side as a real count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..canonical import InventoryLevel, Money, Product, ProductVariant, SourceRef
from ..contracts.catalog import ACTIVE, INACTIVE


def money(amount: Any, currency: str) -> Money:
    """A platform's price (a JSON number or its text) as an exact ``Money`` -- through
    ``str``, never through float."""
    return Money(amount=Decimal(str(amount)), currency=currency)


def stock(variant_id: str, available: int | None, location: str = "") -> tuple[InventoryLevel, ...]:
    """The variant's inventory: one level of ``available`` units, or none when the platform
    does not track stock for it (``available`` None)."""
    if available is None:
        return ()
    return (InventoryLevel(variant=variant_id, location=location, available=available),)


@dataclass(frozen=True)
class StatusWords:
    """How a platform spells the catalog's two statuses.

    ``active`` is the platform's word for ``active`` (``publish``, ``ACTIVE``, ``enabled``);
    anything else it says reads as ``inactive``.  ``inactive`` is the word written for
    ``inactive`` (a platform may know several, the table picks the one to write)."""

    active: Any
    inactive: Any

    def read(self, value: Any) -> str:
        return ACTIVE if value == self.active else INACTIVE

    def write(self, status: str) -> Any:
        return self.active if status == ACTIVE else self.inactive


def catalog_product(
    *,
    platform: str,
    store: str,
    external_id: str,
    version: str | None,
    title: str,
    description: str | None,
    status: str | None,
    variants: Iterable[ProductVariant],
) -> Product:
    """A product as a catalog read gives it: versioned by the platform's modification
    stamp (the engine stores it), its variants in the platform's order."""
    return Product(
        source=SourceRef(platform=platform, store=store, external_id=external_id, version=version),
        title=title,
        description=description,
        status=status,
        variants=tuple(variants),
    )
