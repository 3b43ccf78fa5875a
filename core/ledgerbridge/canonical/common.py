"""Pieces shared by every canonical object: where it came from, addresses, taxes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .money import ExactDecimal, Money


class CanonicalModel(BaseModel):
    """Base of the canonical model: immutable, and unknown fields are a bug, not data."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class EntityType(StrEnum):
    """What a source can report as changed."""

    ORDER = "order"
    CUSTOMER = "customer"
    PRODUCT = "product"


class SourceRef(CanonicalModel):
    """Where a canonical object came from, and which version of it this is.

    ``external_id`` is always a string (platform ids overflow floats).
    ``version`` is the platform's change marker (updated time, version counter)
    used to tell a new change from a re-delivery of one already seen.
    """

    platform: str
    store: str
    external_id: str
    version: str | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.store}:{self.external_id}"


class Address(CanonicalModel):
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    region_code: str | None = None
    postal_code: str | None = None
    country_code: str | None = Field(default=None, description="ISO 3166-1 alpha-2")
    phone: str | None = None
    email: str | None = None

    @property
    def name(self) -> str | None:
        parts = [p for p in (self.first_name, self.last_name) if p]
        return " ".join(parts) or None


class TaxLine(CanonicalModel):
    """One tax charged on a line, a shipping line, a fee or the order.

    ``rate`` is a fraction (0.06 for 6 %) when the source knows it; ``code`` is
    the source's own identifier of the rate (WooCommerce rate id, ...).  Mappings
    look taxes up by title and/or rate.
    """

    title: str
    rate: ExactDecimal | None = None
    amount: Money
    code: str | None = None


Extra = dict[str, Any]
"""Platform fields the canonical model does not carry (metafields, meta_data, ...),
reachable from mappings as ``extra``. Filled by connectors; never interpreted by the engine."""
