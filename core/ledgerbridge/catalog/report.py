"""What a catalog run reports, and the pair of variants it plans for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .diff import FieldPlan
from .state import FieldRow, VariantRow

if TYPE_CHECKING:
    pass

CONFLICT_ENTITY = "catalog_field"  # a catalog conflict's entity (the engine hands it over)


@dataclass(frozen=True)
class DiffLine:
    """One field of one SKU a run writes, holds, or reports."""

    sku: str | None
    side: str | None  # the connection written (None: a conflict)
    field: str
    old: str | None
    new: str | None
    outcome: str


@dataclass
class CatalogReport:
    pipeline_id: str
    pages: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)
    bound: int = 0
    parked: int = 0
    written: int = 0  # variants written
    failed: int = 0
    conflicts: int = 0
    drift: int = 0
    held: int = 0
    gone: int = 0  # variants a full read no longer found (catalog/gone.py)
    diff: list[DiffLine] = field(default_factory=list)
    busy: str | None = None


@dataclass
class Pair:
    a: VariantRow
    b: VariantRow
    plans: list[FieldPlan] = field(default_factory=list)
    rows: dict[str, FieldRow | None] = field(default_factory=dict)
