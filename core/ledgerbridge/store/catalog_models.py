"""The tables of catalog pipelines (docs/catalog.md).

Bindings (a variant on one side <-> its twin on the other), conflicts, intents, audit
events and checkpoints are the engine's own tables; these two hold only what a catalog
needs besides: the last state read of every variant (so matching by SKU and the diff
work from the store, not from re-reading either platform), and per binding and field the
last value each side was known to hold.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class CatalogVariant(SQLModel, table=True):
    """One variant of one side of a catalog pipeline as last read.

    ``pending``: read since the engine last planned for it (set with the read, cleared
    when its writes have durable outcomes) -- so a checkpoint can move past a page as
    soon as the page is stored here."""

    __tablename__ = "catalog_variants"
    __table_args__ = (
        Index("ix_catalog_variants_sku", "pipeline_id", "side", "sku"),
        Index("ix_catalog_variants_pending", "pipeline_id", "pending"),
    )

    pipeline_id: str = Field(primary_key=True, max_length=200)
    side: str = Field(primary_key=True, max_length=100)  # connection name
    external_id: str = Field(primary_key=True, max_length=200)
    product_id: str = Field(max_length=200)
    sku: str | None = Field(default=None, max_length=200)
    barcode: str | None = Field(default=None, max_length=200)
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    handles: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pending: bool = True
    read_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CatalogFieldState(SQLModel, table=True):
    """Per binding and field: the value each side last held as far as the engine knows
    (read from it, or written to it).  A side whose value differs from this changed it.

    ``held_*``: a write planned under ``approve: manual``, waiting for an operator."""

    __tablename__ = "catalog_field_state"

    pipeline_id: str = Field(primary_key=True, max_length=200)
    a_id: str = Field(primary_key=True, max_length=200)  # variant on connections[0]
    field: str = Field(primary_key=True, max_length=30)
    b_id: str = Field(max_length=200)  # variant on connections[1]
    value_a: str | None = Field(default=None, sa_type=Text)
    value_b: str | None = Field(default=None, sa_type=Text)
    held_side: str | None = Field(default=None, max_length=100)
    held_value: str | None = Field(default=None, sa_type=Text)
    approved: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


__all__ = ["CatalogFieldState", "CatalogVariant"]
