"""Bindings: which target record a source object was posted as (cross-references).

A binding is the engine's memory of what it wrote: ``(entity, external id)`` of the source
to ``(target kind, target id)``, with the snapshot a later version is compared against.
The binder reads them (one at a time, per record, or for a whole unit of work in one query)
and writes them: on its own (``bind``) or as rows of a ``Batch`` that the journal commits
with the rest of a unit's bookkeeping (``binding_row``, ``write``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, union_all
from sqlmodel import col
from sqlmodel import select as orm_select

from ..store import CrossReference, Store
from ..store.bulk import BulkStatement, in_chunks, upsert_for
from ..store.types import utcnow

if TYPE_CHECKING:
    from .journal import Scope

_XREFS = CrossReference.__table__  # type: ignore[attr-defined]
_BINDING_KEY = [
    "tenant_id", "source_connection_id", "entity", "external_id",
    "target_connection_id", "target_kind",
]  # fmt: skip

_UPSERTS: dict[str, BulkStatement] = {}


def _upsert(dialect: str) -> BulkStatement:
    """The binding upsert (the last write of a binding wins), built once per dialect."""
    if dialect not in _UPSERTS:
        bind = upsert_for(dialect, _XREFS)
        _UPSERTS[dialect] = BulkStatement(
            bind.on_conflict_do_update(
                index_elements=_BINDING_KEY,
                set_={
                    "target_id": bind.excluded.target_id,
                    "snapshot": bind.excluded.snapshot,
                    "updated_at": bind.excluded.updated_at,
                },
            )
        )
    return _UPSERTS[dialect]


class Binder:
    """The bindings of one pipeline's connections (tenant, source and target of ``scope``)."""

    def __init__(self, store: Store, scope: Scope) -> None:
        self.store = store
        self.scope = scope
        self._upsert = _upsert(store.engine.dialect.name)

    # ----------------------------------------------------------------- reads

    def binding(self, entity: str, external_id: str, target_kind: str) -> CrossReference | None:
        return self.store.get_xref(
            self.scope.tenant_id,
            self.scope.source_connection_id,
            entity,
            external_id,
            self.scope.target_connection_id,
            target_kind,
        )

    def _where(self, *conditions: Any) -> list[CrossReference]:
        """The bindings of this pipeline's connections that meet ``conditions``."""
        with self.store.session() as s:
            stmt = orm_select(CrossReference).where(
                CrossReference.tenant_id == self.scope.tenant_id,
                CrossReference.source_connection_id == self.scope.source_connection_id,
                CrossReference.target_connection_id == self.scope.target_connection_id,
                *conditions,
            )
            return list(s.exec(stmt))

    def bound_to(self, target_kind: str, target_id: str) -> list[CrossReference]:
        """The bindings that already name this target document (normally none or one)."""
        return self._where(
            CrossReference.target_kind == target_kind, CrossReference.target_id == target_id
        )

    def of_kind(self, target_kind: str) -> list[CrossReference]:
        """Every binding of one target kind (the daily summary's per-order contributions)."""
        return self._where(CrossReference.target_kind == target_kind)

    def bindings_for(self, entity: str, external_ids: list[str]) -> list[CrossReference]:
        if not external_ids:
            return []
        return self._where(
            CrossReference.entity == entity, col(CrossReference.external_id).in_(external_ids)
        )

    def bindings_of(self, wanted: dict[str, list[str]]) -> list[Any]:
        """Bindings of several entities at once (entity -> external ids): one query.

        One SELECT per entity, joined by UNION ALL, so each is a search on the binding
        key's index (tenant, source, entity, external id); an OR of the entities would
        leave the database only the (tenant, source) prefix -- a scan of every binding
        the connection has, growing with the merchant's history."""
        base = (
            (_XREFS.c.tenant_id == self.scope.tenant_id)
            & (_XREFS.c.source_connection_id == self.scope.source_connection_id)
            & (_XREFS.c.target_connection_id == self.scope.target_connection_id)
        )
        selects = [
            select(_XREFS).where(
                base & (_XREFS.c.entity == entity) & (_XREFS.c.external_id.in_(chunk))
            )
            for entity, ids in wanted.items()
            for chunk in in_chunks(list(dict.fromkeys(ids)))
        ]
        if not selects:
            return []
        stmt = selects[0] if len(selects) == 1 else union_all(*selects)
        with self.store.engine.connect() as conn:
            return list(conn.execute(stmt).all())  # rows, read by attribute like the model

    # ----------------------------------------------------------------- writes

    def binding_row(
        self,
        entity: str,
        external_id: str,
        target_kind: str,
        target_id: str,
        snapshot: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A binding as the row ``Batch.add_binding`` upserts."""
        return {
            "tenant_id": self.scope.tenant_id,
            "source_connection_id": self.scope.source_connection_id,
            "entity": entity,
            "external_id": external_id,
            "target_connection_id": self.scope.target_connection_id,
            "target_kind": target_kind,
            "target_id": target_id,
            "fingerprint": None,
            "snapshot": snapshot or {},
        }

    def bind(self, binding: CrossReference) -> None:
        """Write one binding now, in its own transaction."""
        row = self.binding_row(
            binding.entity, binding.external_id, binding.target_kind, binding.target_id,
            binding.snapshot,
        )  # fmt: skip
        row["fingerprint"] = binding.fingerprint
        with self.store.engine.begin() as conn:
            self.write(conn, [row])

    def write(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """Upsert ``binding_row`` rows inside the caller's transaction (``Journal.commit``)."""
        now = utcnow()
        self._upsert.execute(conn, [{**row, "updated_at": now} for row in rows])
