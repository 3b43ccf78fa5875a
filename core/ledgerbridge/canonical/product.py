"""Canonical product and its variants (the sellable units that carry SKUs), and the stock a
variant holds per location.

Catalog pipelines (docs/catalog.md) read and write these in both directions; orders only
read them.  A platform whose "item" is one sellable unit (Zoho Books) is a product with
one variant of the same id.
"""

from __future__ import annotations

from pydantic import Field

from .common import CanonicalModel, Extra, SourceRef
from .money import Money


class InventoryLevel(CanonicalModel):
    """How many units of a variant a location can sell."""

    variant: str
    location: str
    available: int


class ProductVariant(CanonicalModel):
    external_id: str
    sku: str | None = None
    title: str | None = None
    price: Money | None = None
    taxable: bool = True
    barcode: str | None = None
    # "active" or "inactive" when the platform keeps a status per variant (else the product's).
    status: str | None = None
    # Empty when the platform does not track this variant's stock (then stock is unknown,
    # never zero).
    inventory: tuple[InventoryLevel, ...] = ()
    # Opaque ids a platform needs to write this variant back (Shopify's inventory item):
    # the engine stores and returns them, never reads them.
    handles: dict[str, str] = Field(default_factory=dict)


class Product(CanonicalModel):
    source: SourceRef
    title: str
    product_type: str | None = None
    vendor: str | None = None
    status: str | None = None
    description: str | None = None
    variants: tuple[ProductVariant, ...] = ()
    extra: Extra = Field(default_factory=dict)
