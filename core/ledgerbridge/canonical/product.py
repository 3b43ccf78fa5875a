"""Canonical product and its variants (the sellable units that carry SKUs)."""

from __future__ import annotations

from pydantic import Field

from .common import CanonicalModel, Extra, SourceRef
from .money import Money


class ProductVariant(CanonicalModel):
    external_id: str
    sku: str | None = None
    title: str | None = None
    price: Money | None = None
    taxable: bool = True
    barcode: str | None = None


class Product(CanonicalModel):
    source: SourceRef
    title: str
    product_type: str | None = None
    vendor: str | None = None
    status: str | None = None
    variants: tuple[ProductVariant, ...] = ()
    extra: Extra = Field(default_factory=dict)
