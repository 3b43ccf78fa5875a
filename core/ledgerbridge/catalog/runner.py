"""One run of a catalog pipeline: read both sides, match, diff, write, record.

1. Each side's connector pages through products changed since that side's checkpoint;
   every page is stored (``catalog_variants``, marked pending) before the checkpoint moves
   past it -- a crash re-reads nothing it lost.
2. Pending variants without a binding are matched by SKU, then barcode (``match.py``);
   new bindings are committed before any write.
3. Each bound pair with a pending side is diffed field by field (``diff.py``) under the
   ownership table; conflicts and drift are recorded through the engine's journal.
4. Writes go to each side in one ``write_variants`` call (the connector batches them the
   platform's way), under write-ahead intents, retried by error class; results, audit
   events and record states are one transaction, then the field state, then the pending
   flags of the pairs whose outcomes are durable.  A failed write stays pending and is
   planned again next run; a write that landed but went unrecorded is found equal on
   the next read and written no more.

A dry run reads through read-only credentials and stores nothing: it reports the diff.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..config.catalog import CatalogEntry
from ..contracts.catalog import CatalogConnector, CatalogField, CatalogWrite, values_of
from ..engine.journal import Batch, Journal, Scope, Transition, off_loop
from ..engine.lease import PipelineBusy, PipelineLease
from ..errors import NeedsMapping, SyncError, TransientError
from ..retry import call_with_retry
from ..store import ConflictRecord, RecordState
from ..store.types import utcnow
from . import connectors
from .diff import FieldPlan, Outcome, plan_field, settled
from .match import match
from .state import ENTITY, CatalogState, FieldRow, VariantRow

if TYPE_CHECKING:
    from ..engine import Engine

CONFLICT_ENTITY = "catalog_field"


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
    diff: list[DiffLine] = field(default_factory=list)
    busy: str | None = None


@dataclass
class _Pair:
    a: VariantRow
    b: VariantRow
    plans: list[FieldPlan] = field(default_factory=list)
    rows: dict[str, FieldRow | None] = field(default_factory=dict)


class CatalogRunner:
    def __init__(self, engine: Engine, entry: CatalogEntry, *, dry_run: bool = False) -> None:
        self.engine, self.entry, self.dry_run = engine, entry, dry_run
        self.pipe, self.tenant = entry.pipeline, entry.tenant
        self.a, self.b = self.pipe.connections
        self.sides = {"a": self.a, "b": self.b}
        store = engine.store
        self.state = CatalogState(store, self.pipe.id)
        self.journal = Journal(
            store,
            Scope(self.tenant.id, self.pipe.id, self._conn(self.a), self._conn(self.b)),
        )
        self.report = CatalogReport(self.pipe.id)
        self.overlay: dict[tuple[str, str], VariantRow] = {}  # a dry run's reads
        self.conns: dict[str, CatalogConnector] = {}
        self._landed: list[tuple[str, str, dict[str, str | None]]] = []  # side, id, values

    def _conn(self, name: str) -> str:
        return f"{self.tenant.id}/{name}"

    async def run(self) -> CatalogReport:
        await self.engine.prepare()
        for name in (self.a, self.b):
            self.conns[name] = connectors.build(
                self.engine, self.tenant, name, read_only=self.dry_run
            )
        try:
            if self.dry_run:
                await self._run()
            else:
                async with PipelineLease(self.engine.store, self.pipe.id, self.engine.holder):
                    await self._run()
        except PipelineBusy as exc:
            self.report.busy = str(exc)
        finally:
            for conn in self.conns.values():
                await conn.aclose()
        return self.report

    async def _run(self) -> None:
        for name in (self.a, self.b):
            await self._read(name)
        await self._plan_and_write()

    # ------------------------------------------------------------------ reading

    async def _read(self, side: str) -> None:
        entity = f"catalog:{side}"
        checkpoint = await off_loop(self.engine.store.get_checkpoint, self.pipe.id, entity)
        pages = read = 0
        async for page in self.conns[side].catalog_changes(checkpoint):
            pages += 1
            rows = [
                VariantRow(
                    side,
                    v.external_id,
                    p.source.external_id,
                    v.sku or None,
                    v.barcode or None,
                    {f.value: val for f, val in values_of(p, v).items()},
                    dict(v.handles),
                    True,
                )
                for p in page.products
                for v in p.variants
            ]
            read += len(rows)
            if self.dry_run:
                self.overlay.update({(r.side, r.external_id): r for r in rows})
                continue
            await off_loop(self.state.stage, rows)
            if page.unreadable:
                await self._park_unreadable(side, page.unreadable)
            if page.checkpoint is not None:
                await off_loop(
                    self.engine.store.set_checkpoint, self.pipe.id, entity, page.checkpoint
                )
        self.report.pages[side], self.report.read[side] = pages, read

    async def _park_unreadable(self, side: str, errors: dict[str, SyncError]) -> None:
        records = await off_loop(self.journal.open_records, ENTITY, [f"{side}:{i}" for i in errors])
        now = utcnow()
        batch = Batch(
            transitions=[
                Transition(
                    records[f"{side}:{i}"],
                    RecordState(e.record_state)
                    if e.record_state in RecordState.__members__.values()
                    else RecordState.FAILED,
                    now,
                    error=e,
                )
                for i, e in errors.items()
            ]
        )
        await off_loop(self.journal.commit, batch)

    # ------------------------------------------------------------------ planning

    def _pending(self) -> list[VariantRow]:
        stored = {(r.side, r.external_id): r for r in self.state.pending()}
        stored.update(self.overlay)
        return list(stored.values())

    def _variants(self, side: str, ids: list[str]) -> dict[str, VariantRow]:
        found = self.state.variants(side, ids)
        for i in ids:
            if (side, i) in self.overlay:
                found[i] = self.overlay[(side, i)]
        return found

    async def _plan_and_write(self) -> None:
        pending = await off_loop(self._pending)
        a_ids = [r.external_id for r in pending if r.side == self.a]
        b_ids = [r.external_id for r in pending if r.side == self.b]
        bmap: dict[str, str] = await off_loop(
            lambda: self.state.bindings(
                self.tenant.id, self._conn(self.a), self._conn(self.b), a_ids=a_ids, b_ids=b_ids
            )
        )
        bound_b = set(bmap.values())
        unbound = [
            r
            for r in pending
            if (r.side == self.a and r.external_id not in bmap)
            or (r.side == self.b and r.external_id not in bound_b)
        ]
        new_pairs = await off_loop(self._match, unbound, bmap)
        bmap.update(dict(new_pairs))
        pairs = await off_loop(self._load_pairs, bmap, {(r.side, r.external_id) for r in pending})
        self._plan(pairs)
        if self.dry_run:
            return
        await self._execute(pairs, new_pairs, pending)

    def _match(self, unbound: list[VariantRow], bmap: dict[str, str]) -> list[tuple[str, str]]:
        if not unbound:
            return []
        skus = {r.sku for r in unbound if r.sku}
        codes = {r.barcode for r in unbound if r.barcode}
        found = {(c.side, c.external_id): c for c in self.state.by_key("sku", skus)}
        found.update({(c.side, c.external_id): c for c in self.state.by_key("barcode", codes)})
        for key, row in self.overlay.items():
            if row.sku in skus or row.barcode in codes:
                found[key] = row
        candidates = list(found.values())
        taken = self.state.bindings(
            self.tenant.id,
            self._conn(self.a),
            self._conn(self.b),
            a_ids=[c.external_id for c in candidates if c.side == self.a],
            b_ids=[c.external_id for c in candidates if c.side == self.b],
        )
        bound = {(self.a, x) for x in taken} | {(self.b, y) for y in taken.values()}
        bound |= {(self.a, x) for x in bmap} | {(self.b, y) for y in bmap.values()}
        result = match(unbound, candidates, bound, self.sides, self.pipe.id)
        self.report.bound += len(result.pairs)
        self.report.parked += len(result.parked)
        self._parked = result.parked
        return result.pairs

    def _load_pairs(self, bmap: dict[str, str], pending: set[tuple[str, str]]) -> list[_Pair]:
        wanted = {x: y for x, y in bmap.items() if (self.a, x) in pending or (self.b, y) in pending}
        va = self._variants(self.a, list(wanted))
        vb = self._variants(self.b, list(wanted.values()))
        rows = self.state.fields(list(wanted))
        pairs = []
        for x, y in wanted.items():
            if x in va and y in vb:
                pair = _Pair(va[x], vb[y])
                pair.rows = {f.value: rows.get((x, f.value)) for f in self.pipe.ownership}
                pairs.append(pair)
        return pairs

    def _plan(self, pairs: list[_Pair]) -> None:
        open_conflicts = {
            (c.external_id, c.fields[0].split(":", 1)[0])
            for c in self.journal.open_conflicts()
            if c.entity == CONFLICT_ENTITY and c.fields
        }
        for pair in pairs:
            values = {"a": pair.a.values, "b": pair.b.values}
            for f in self.pipe.ownership:
                owner = "a" if self.pipe.owner(f) == self.a else "b"
                plan = plan_field(
                    f.value,
                    owner,
                    {k: v.get(f.value) for k, v in values.items()},
                    pair.rows[f.value],
                    on_drift=self.pipe.on_drift,
                )
                if plan.outcome is Outcome.CONFLICT and (pair.a.external_id, f.value) in (
                    open_conflicts
                ):
                    continue  # already waiting for an operator
                pair.plans.append(plan)
                if plan.outcome in (Outcome.AGREE, Outcome.NOTHING):
                    continue
                side = self.sides[plan.side] if plan.side else None
                sku = pair.a.sku or pair.b.sku
                self.report.diff.append(
                    DiffLine(sku, side, f.value, plan.previous, plan.value, plan.outcome.value)
                )

    # ------------------------------------------------------------------ writing

    def _held_ok(self, row: FieldRow | None, plan: FieldPlan) -> bool:
        return bool(
            row is not None
            and row.approved
            and row.held_side == plan.side
            and row.held_value == plan.value
        )

    async def _execute(
        self, pairs: list[_Pair], new_pairs: list[tuple[str, str]], pending: list[VariantRow]
    ) -> None:
        parked: dict[tuple[str, str], str] = getattr(self, "_parked", {})
        ids = [f"{self.a}:{p.a.external_id}" for p in pairs]
        ids += [f"{side}:{i}" for side, i in parked]
        records = await off_loop(self.journal.open_records, ENTITY, ids) if ids else {}
        now = utcnow()
        first = Batch()
        for x, y in new_pairs:
            first.add_binding(self.journal.binding_row(ENTITY, x, ENTITY, y))
        for (side, i), reason in parked.items():
            error = NeedsMapping(reason, missing=f"catalog_variant:{side}:{i}")
            first.transitions.append(
                Transition(records[f"{side}:{i}"], RecordState.NEEDS_MAPPING, now, error=error)
            )
        await off_loop(self.journal.commit, first)

        writes: dict[str, list[tuple[_Pair, CatalogWrite, list[FieldPlan]]]] = {}
        field_rows: list[FieldRow] = []
        batch = Batch()
        conflicted: set[str] = set()
        for pair in pairs:
            by_side: dict[str, list[FieldPlan]] = {}
            for plan in pair.plans:
                row = pair.rows[plan.field]
                if plan.outcome is Outcome.CONFLICT:
                    conflicted.add(pair.a.external_id)
                    await off_loop(self.journal.add_conflict, self._conflict(pair, plan, records))
                    self.report.conflicts += 1
                    continue
                if plan.outcome is Outcome.DRIFT_KEPT:
                    self.report.drift += 1
                    batch.audits.append(self._audit(pair, plan, "catalog_drift", "kept"))
                if plan.outcome in (Outcome.WRITE, Outcome.REVERT):
                    if plan.outcome is Outcome.REVERT:
                        self.report.drift += 1
                    if self.pipe.approve == "manual" and not self._held_ok(row, plan):
                        field_rows.append(self._hold(pair, plan, row))
                        continue
                    by_side.setdefault(plan.side or "", []).append(plan)
                    continue
                new = settled(
                    row,
                    pair.a.external_id,
                    pair.b.external_id,
                    plan.field,
                    plan,
                    {"a": pair.a.values.get(plan.field), "b": pair.b.values.get(plan.field)},
                    written=False,
                )
                if new is not None:
                    field_rows.append(new)
            for side, plans in by_side.items():
                writes.setdefault(side, []).append((pair, self._write(pair, side, plans), plans))
        failed_pairs: set[str] = set()
        for side, items in writes.items():
            failed_pairs |= await self._write_side(side, items, records, batch, field_rows)
        for pair in pairs:
            record = records[f"{self.a}:{pair.a.external_id}"]
            x = pair.a.external_id
            if x in failed_pairs:
                continue
            state = RecordState.CONFLICT if x in conflicted else RecordState.SYNCED
            if state is not RecordState.SYNCED or record.state != RecordState.SYNCED.value:
                batch.transitions.append(Transition(record, state, now))
        await off_loop(self.journal.commit, batch)
        await off_loop(self.state.put_fields, field_rows)
        await off_loop(self.state.written, self._landed)
        done = [(r.side, r.external_id) for r in pending]
        failed = {(self.a, p.a.external_id) for p in pairs if p.a.external_id in failed_pairs}
        failed |= {(self.b, p.b.external_id) for p in pairs if p.a.external_id in failed_pairs}
        await off_loop(self.state.settle, [k for k in done if k not in failed])

    def _write(self, pair: _Pair, side: str, plans: list[FieldPlan]) -> CatalogWrite:
        row = pair.a if side == "a" else pair.b
        values = {CatalogField(p.field): p.value or "" for p in plans}
        digest = hashlib.sha256(
            json.dumps(sorted((k.value, v) for k, v in values.items())).encode()
        ).hexdigest()[:16]
        key = f"catalog:{self.pipe.id}:{self.sides[side]}:{row.external_id}:{digest}"
        return CatalogWrite(key, row.product_id, row.external_id, values, row.handles)

    async def _write_side(
        self,
        side: str,
        items: list[tuple[_Pair, CatalogWrite, list[FieldPlan]]],
        records: dict[str, Any],
        batch: Batch,
        field_rows: list[FieldRow],
    ) -> set[str]:
        name = self.sides[side]
        scope = f"catalog:{self.pipe.id}:{name}"
        await off_loop(
            self.journal.begin_intents,
            [
                (
                    w.key,
                    f"{scope}:{w.variant_id}",
                    "catalog_update",
                    records[f"{self.a}:{p.a.external_id}"].id,
                )
                for p, w, _ in items
            ],
        )
        conn = self.conns[name]
        try:
            results = {
                r.key: r.error
                for r in await call_with_retry(
                    lambda: conn.write_variants([w for _, w, _ in items])
                )
            }
        except SyncError as exc:
            results = {w.key: exc for _, w, _ in items}
        failed: set[str] = set()
        now = utcnow()
        for pair, write, plans in items:
            error = results.get(write.key, TransientError("the connector returned no result"))
            record = records[f"{self.a}:{pair.a.external_id}"]
            if error is None:
                self.report.written += 1
                self._landed.append(
                    (name, write.variant_id, {k.value: v for k, v in write.values.items()})
                )
                batch.complete(
                    write.key,
                    f"{scope}:{write.variant_id}",
                    write.variant_id,
                    adopted=False,
                    supersede=True,
                )
                for plan in plans:
                    batch.audits.append(
                        self._audit(
                            pair, plan, "catalog_update", "ok", record_id=record.id, key=write.key
                        )
                    )
                    values = {
                        "a": pair.a.values.get(plan.field),
                        "b": pair.b.values.get(plan.field),
                    }
                    new = settled(
                        pair.rows[plan.field],
                        pair.a.external_id,
                        pair.b.external_id,
                        plan.field,
                        plan,
                        values,
                        written=True,
                    )
                    if new is not None:
                        field_rows.append(new)
                continue
            self.report.failed += 1
            failed.add(pair.a.external_id)
            batch.close(write.key, "failed")
            batch.audits.append(
                self._audit(
                    pair,
                    plans[0],
                    "catalog_update",
                    "failed",
                    record_id=record.id,
                    key=write.key,
                    error=error.summary(),
                )
            )
            state = (
                RecordState(error.record_state)
                if error.record_state in (s.value for s in RecordState)
                else RecordState.FAILED
            )
            batch.transitions.append(Transition(record, state, now, error=error))
        return failed

    def _hold(self, pair: _Pair, plan: FieldPlan, row: FieldRow | None) -> FieldRow:
        self.report.held += 1
        base = row or FieldRow(pair.a.external_id, plan.field, pair.b.external_id, None, None)
        return FieldRow(
            base.a_id,
            plan.field,
            pair.b.external_id,
            base.value_a,
            base.value_b,
            plan.side,
            plan.value,
            False,
        )

    def _conflict(self, pair: _Pair, plan: FieldPlan, records: dict[str, Any]) -> ConflictRecord:
        owner = self.pipe.owner(CatalogField(plan.field))
        other = self.pipe.other(owner)
        sku = pair.a.sku or pair.b.sku
        return ConflictRecord(
            tenant_id=self.tenant.id,
            pipeline_id=self.pipe.id,
            record_id=records[f"{self.a}:{pair.a.external_id}"].id,
            entity=CONFLICT_ENTITY,
            external_id=pair.a.external_id,
            target_id=pair.b.external_id,
            fields=[
                f"{plan.field}: {owner} {plan.owner_value} / {other} {plan.other_value}"
                f" (SKU {sku}, was {plan.previous})"
            ],
            source_snapshot={
                "side": owner,
                "field": plan.field,
                "value": plan.owner_value,
                "sku": sku,
            },
            target_snapshot={
                "side": other,
                "field": plan.field,
                "value": plan.other_value,
                "sku": sku,
            },
        )

    def _audit(
        self,
        pair: _Pair,
        plan: FieldPlan,
        operation: str,
        outcome: str,
        *,
        record_id: int | None = None,
        key: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        side = self.sides[plan.side] if plan.side else None
        return self.journal.audit(
            source_id=f"{self.a}:{pair.a.external_id}",
            idempotency_key=key or f"catalog:{self.pipe.id}:{pair.a.external_id}:{plan.field}",
            operation=operation,
            outcome=outcome,
            record_id=record_id,
            target_id=(pair.a if plan.side == "a" else pair.b).external_id,
            details={
                "sku": pair.a.sku or pair.b.sku,
                "side": side,
                "field": plan.field,
                "old": plan.previous,
                "new": plan.value,
                "why": plan.outcome.value,
                **({"error": error} if error else {}),
            },
        )


async def run_catalog(
    engine: Engine,
    entry: CatalogEntry,
    *,
    dry_run: bool = False,
    on_report: Callable[[CatalogReport], None] | None = None,
) -> CatalogReport:
    report = await CatalogRunner(engine, entry, dry_run=dry_run).run()
    if on_report is not None:
        on_report(report)
    return report
