"""Writes that landed but were never recorded, recognised from their write-ahead intents.

A write can reach the platform while its run learns nothing of it: the worker is killed
right after the platform commits, or every answer is lost.  The field state then still
says the side holds its old value, and the next run reads the pipeline's own value back.
Taken for an edit on that side, it is drift (reverted or logged for nothing) -- or, once
the owner has changed the field again, a **conflict** between the owner's new value and
the pipeline's own old one, which keeps the new value from the other side for good (the
chaos harness's catalog scenario found this: ``bench/chaos/catalog_drive.py``).

Every catalog write's intent key ends with a digest of the values it sets (``digest``).
So when a side now holds, for some of the fields the pipeline writes to it, exactly the
values of an intent of that variant that never completed, the write landed: the side's
state is moved to those values before the fields are planned.  Completed intents are
left out: their values are in the field state already, and a later edit back to one of
them is a real change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from itertools import combinations
from typing import TYPE_CHECKING, Any

from ..config.catalog import CatalogPipelineConfig
from ..engine.journal import Journal

if TYPE_CHECKING:
    from .report import Pair

UNFINISHED = frozenset({"pending", "failed", "not_sent"})  # never completed: may have landed


def digest(values: Mapping[str, str]) -> str:
    """The digest a write's intent key ends with: its fields and values, order-free."""
    return hashlib.sha256(json.dumps(sorted(values.items())).encode()).hexdigest()[:16]


def scope(pipe: CatalogPipelineConfig, connection: str, variant_id: str) -> str:
    return f"catalog:{pipe.id}:{connection}:{variant_id}"


def recognise(
    journal: Journal, pipe: CatalogPipelineConfig, sides: dict[str, str], pairs: list[Pair]
) -> int:
    """Move each side's state past the unrecorded writes it holds; how many were found."""
    where: dict[str, tuple[Pair, str]] = {}
    for pair in pairs:
        for side, row in (("a", pair.a), ("b", pair.b)):
            where[scope(pipe, sides[side], row.external_id)] = (pair, side)
    found = 0
    for key, intents in journal.intents_in_scopes(where).items():
        digests = {str(i.key).rsplit(":", 1)[-1] for i in intents if i.status in UNFINISHED}
        if digests:
            pair, side = where[key]
            found += _settle_landed(pipe, sides[side], pair, side, digests)
    return found


def _settle_landed(
    pipe: CatalogPipelineConfig, connection: str, pair: Pair, side: str, digests: set[str]
) -> int:
    """The largest set of fields written to ``side`` whose current values an intent set."""
    values: dict[str, Any] = (pair.a if side == "a" else pair.b).values
    written = [f.value for f in pipe.ownership if pipe.owner(f) != connection]
    known = [f for f in written if pair.rows.get(f) is not None]
    for size in range(len(written), 0, -1):
        for fields in combinations(written, size):
            if digest({f: values.get(f) or "" for f in fields}) not in digests:
                continue
            for f in fields:
                if f in known:
                    row = pair.rows[f]
                    assert row is not None
                    if side == "a":
                        row.value_a = values.get(f)
                    else:
                        row.value_b = values.get(f)
            return 1
    return 0
