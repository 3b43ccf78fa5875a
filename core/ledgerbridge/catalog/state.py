"""The catalog's own rows in the store: variants as last read, and field state per binding.

Bindings, records, intents, audit events, conflicts and checkpoints go through the engine's
``Journal`` and ``Store`` (one place for each); only what a catalog needs besides lives
here.  Many-row writes are single INSERT ... ON CONFLICT statements (executemany), so a
page of 250 variants costs one short transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from ..store import CatalogFieldState, CatalogVariant, CrossReference, Store
from ..store.types import utcnow

_VARIANTS = CatalogVariant.__table__  # type: ignore[attr-defined]
_FIELDS = CatalogFieldState.__table__  # type: ignore[attr-defined]
_XREFS = CrossReference.__table__  # type: ignore[attr-defined]
ENTITY = "catalog_variant"  # bindings' entity and target kind, records' entity
CHUNK = 500


def _insert(dialect: str, table: Any) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


# The columns of a field row, in ``FieldRow``'s order (``fields`` and ``held`` read them).
FIELD_COLUMNS = (
    "a_id", "field", "b_id", "value_a", "value_b", "held_side", "held_value", "approved",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class VariantRow:
    side: str
    external_id: str
    product_id: str
    sku: str | None
    barcode: str | None
    values: dict[str, str | None]
    handles: dict[str, str]
    pending: bool


@dataclass(slots=True)
class FieldRow:
    a_id: str
    field: str
    b_id: str
    value_a: str | None
    value_b: str | None
    held_side: str | None = None
    held_value: str | None = None
    approved: bool = False


class CatalogState:
    """One catalog pipeline's rows."""

    def __init__(self, store: Store, pipeline_id: str) -> None:
        self.store = store
        self.pipeline_id = pipeline_id
        self.dialect = store.engine.dialect.name

    # ------------------------------------------------------------- variants

    def stage(self, rows: list[VariantRow]) -> None:
        """Store variants just read, marked pending (one transaction)."""
        if not rows:
            return
        now = utcnow()
        stmt = _insert(self.dialect, _VARIANTS)
        stmt = stmt.on_conflict_do_update(
            index_elements=["pipeline_id", "side", "external_id"],
            set_={
                c: stmt.excluded[c]
                for c in ("product_id", "sku", "barcode", "values", "handles", "pending", "read_at")
            },
        )
        with self.store.engine.begin() as conn:
            conn.execute(
                stmt,
                [
                    {
                        "pipeline_id": self.pipeline_id,
                        "side": r.side,
                        "external_id": r.external_id,
                        "product_id": r.product_id,
                        "sku": r.sku,
                        "barcode": r.barcode,
                        "values": r.values,
                        "handles": r.handles,
                        "pending": True,
                        "read_at": now,
                    }
                    for r in rows
                ],
            )

    def _rows(self, where: Any) -> list[VariantRow]:
        cols = [_VARIANTS.c[n] for n in VariantRow.__slots__]
        stmt = select(*cols).where((_VARIANTS.c.pipeline_id == self.pipeline_id) & where)
        with self.store.engine.connect() as conn:
            return [VariantRow(*row) for row in conn.execute(stmt)]

    def pending(self) -> list[VariantRow]:
        return self._rows(_VARIANTS.c.pending.is_(True))

    def variants(self, side: str, ids: Iterable[str]) -> dict[str, VariantRow]:
        found: dict[str, VariantRow] = {}
        for chunk in _chunks(list(dict.fromkeys(ids))):
            for row in self._rows((_VARIANTS.c.side == side) & _VARIANTS.c.external_id.in_(chunk)):
                found[row.external_id] = row
        return found

    def by_key(self, column: str, values: Iterable[str]) -> list[VariantRow]:
        """Every variant of either side whose ``sku`` or ``barcode`` is one of ``values``."""
        found: list[VariantRow] = []
        for chunk in _chunks(sorted({v for v in values if v})):
            found += self._rows(_VARIANTS.c[column].in_(chunk))
        return found

    def settle(self, keys: Iterable[tuple[str, str]]) -> None:
        """Clear ``pending`` on (side, id) pairs whose outcomes are durable."""
        wanted = list(keys)
        if not wanted:
            return
        stmt = (
            update(_VARIANTS)
            .where(
                (_VARIANTS.c.pipeline_id == self.pipeline_id)
                & (_VARIANTS.c.side == _bind("s"))
                & (_VARIANTS.c.external_id == _bind("i"))
            )
            .values(pending=False)
        )
        with self.store.engine.begin() as conn:
            conn.execute(stmt, [{"s": s, "i": i} for s, i in wanted])

    def known(self, side: str) -> set[str]:
        """Every variant of ``side`` stored from earlier reads."""
        stmt = select(_VARIANTS.c.external_id).where(
            (_VARIANTS.c.pipeline_id == self.pipeline_id) & (_VARIANTS.c.side == side)
        )
        with self.store.engine.connect() as conn:
            return {row.external_id for row in conn.execute(stmt)}

    def forget(
        self, side: str, ids: list[str], pairs: dict[str, str], scope: tuple[str, str, str]
    ) -> None:
        """Drop variants gone from ``side``, with their pairs' bindings and field state
        (``pairs``: a id -> b id; ``scope``: tenant, a connection, b connection), in one
        transaction."""
        tenant, a_conn, b_conn = scope
        with self.store.engine.begin() as conn:
            for chunk in _chunks(ids):
                conn.execute(
                    delete(_VARIANTS).where(
                        (_VARIANTS.c.pipeline_id == self.pipeline_id)
                        & (_VARIANTS.c.side == side)
                        & _VARIANTS.c.external_id.in_(chunk)
                    )
                )
            for chunk in _chunks(list(pairs)):
                conn.execute(
                    delete(_FIELDS).where(
                        (_FIELDS.c.pipeline_id == self.pipeline_id) & _FIELDS.c.a_id.in_(chunk)
                    )
                )
                conn.execute(
                    delete(_XREFS).where(
                        (_XREFS.c.tenant_id == tenant)
                        & (_XREFS.c.source_connection_id == a_conn)
                        & (_XREFS.c.target_connection_id == b_conn)
                        & (_XREFS.c.entity == ENTITY)
                        & (_XREFS.c.target_kind == ENTITY)
                        & _XREFS.c.external_id.in_(chunk)
                    )
                )

    # ------------------------------------------------------------- bindings

    def bindings(
        self,
        tenant: str,
        a_conn: str,
        b_conn: str,
        *,
        a_ids: Iterable[str] = (),
        b_ids: Iterable[str] = (),
    ) -> dict[str, str]:
        """a id -> b id for bindings naming any of these a or b variants."""
        base = (
            (_XREFS.c.tenant_id == tenant)
            & (_XREFS.c.source_connection_id == a_conn)
            & (_XREFS.c.target_connection_id == b_conn)
            & (_XREFS.c.entity == ENTITY)
            & (_XREFS.c.target_kind == ENTITY)
        )
        found: dict[str, str] = {}
        with self.store.engine.connect() as conn:
            for column, ids in (("external_id", a_ids), ("target_id", b_ids)):
                for chunk in _chunks(list(dict.fromkeys(ids))):
                    stmt = select(_XREFS.c.external_id, _XREFS.c.target_id).where(
                        base & _XREFS.c[column].in_(chunk)
                    )
                    found.update({r.external_id: r.target_id for r in conn.execute(stmt)})
        return found

    def bound_count(self, tenant: str, a_conn: str, b_conn: str) -> int:
        from sqlalchemy import func

        stmt = select(func.count()).where(
            (_XREFS.c.tenant_id == tenant)
            & (_XREFS.c.source_connection_id == a_conn)
            & (_XREFS.c.target_connection_id == b_conn)
            & (_XREFS.c.entity == ENTITY)
        )
        with self.store.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    # ------------------------------------------------------------- field state

    def fields(self, a_ids: Iterable[str]) -> dict[tuple[str, str], FieldRow]:
        found: dict[tuple[str, str], FieldRow] = {}
        names = list(FIELD_COLUMNS)
        with self.store.engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(a_ids))):
                stmt = select(*[_FIELDS.c[n] for n in names]).where(
                    (_FIELDS.c.pipeline_id == self.pipeline_id) & _FIELDS.c.a_id.in_(chunk)
                )
                for row in conn.execute(stmt):
                    found[(row.a_id, row.field)] = FieldRow(*row)
        return found

    def put_fields(self, rows: list[FieldRow], conn: Any = None) -> None:
        if not rows:
            return
        stmt = _insert(self.dialect, _FIELDS)
        stmt = stmt.on_conflict_do_update(
            index_elements=["pipeline_id", "a_id", "field"],
            set_={
                c: stmt.excluded[c]
                for c in (
                    "b_id",
                    "value_a",
                    "value_b",
                    "held_side",
                    "held_value",
                    "approved",
                    "updated_at",
                )
            },
        )
        now = utcnow()
        params = [
            {
                "pipeline_id": self.pipeline_id,
                "a_id": r.a_id,
                "field": r.field,
                "b_id": r.b_id,
                "value_a": r.value_a,
                "value_b": r.value_b,
                "held_side": r.held_side,
                "held_value": r.held_value,
                "approved": r.approved,
                "updated_at": now,
            }
            for r in rows
        ]
        if conn is not None:
            conn.execute(stmt, params)
            return
        with self.store.engine.begin() as own:
            own.execute(stmt, params)

    def held(self) -> list[FieldRow]:
        """Writes waiting for approval (``approve: manual``)."""
        names = list(FIELD_COLUMNS)
        stmt = select(*[_FIELDS.c[n] for n in names]).where(
            (_FIELDS.c.pipeline_id == self.pipeline_id) & _FIELDS.c.held_side.is_not(None)
        )
        with self.store.engine.connect() as conn:
            return [FieldRow(*row) for row in conn.execute(stmt)]

    def approve(self, a_ids: Iterable[str] | None = None) -> int:
        """Approve held writes (all, or of these a variants); the number approved."""
        where = (_FIELDS.c.pipeline_id == self.pipeline_id) & _FIELDS.c.held_side.is_not(None)
        if a_ids is not None:
            where = where & _FIELDS.c.a_id.in_(list(a_ids))
        with self.store.engine.begin() as conn:
            return int(conn.execute(update(_FIELDS).where(where).values(approved=True)).rowcount)

    def written(self, changes: list[tuple[str, str, dict[str, str | None]]]) -> None:
        """What writes left on a platform, so the stored copy matches it even when the
        platform's change feed does not show the write (a WooCommerce variation does not
        move its parent's modified time)."""
        if not changes:
            return
        wanted: dict[str, dict[str, dict[str, str | None]]] = {}
        for side, vid, values in changes:
            wanted.setdefault(side, {}).setdefault(vid, {}).update(values)
        stmt = (
            update(_VARIANTS)
            .where(
                (_VARIANTS.c.pipeline_id == self.pipeline_id)
                & (_VARIANTS.c.side == _bind("s"))
                & (_VARIANTS.c.external_id == _bind("i"))
            )
            .values(values=_bind("v"))
        )
        params = []
        for side, by_id in wanted.items():
            current = self.variants(side, list(by_id))
            for vid, values in by_id.items():
                if vid in current:
                    params.append({"s": side, "i": vid, "v": {**current[vid].values, **values}})
        if params:
            with self.store.engine.begin() as conn:
                conn.execute(stmt, params)

    def mark_pending(self, side: str, ids: Iterable[str]) -> None:
        """Have the next run plan for these variants again (approval, a resolved conflict)."""
        stmt = (
            update(_VARIANTS)
            .where(
                (_VARIANTS.c.pipeline_id == self.pipeline_id)
                & (_VARIANTS.c.side == side)
                & _VARIANTS.c.external_id.in_(list(ids))
            )
            .values(pending=True)
        )
        with self.store.engine.begin() as conn:
            conn.execute(stmt)


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)
