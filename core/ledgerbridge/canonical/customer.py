"""Canonical customer."""

from __future__ import annotations

from pydantic import Field

from .common import Address, CanonicalModel, Extra, SourceRef


class Customer(CanonicalModel):
    source: SourceRef
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    phone: str | None = None
    currency: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    tax_exempt: bool = False
    is_guest: bool = False
    extra: Extra = Field(default_factory=dict)

    @property
    def display_name(self) -> str:
        """A name fit for an accounting contact; never empty."""
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.company or self.email or f"Customer {self.source.external_id}"
