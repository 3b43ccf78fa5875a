"""The write half of a catalog run: held writes, conflicts, drift, the calls to each side
under write-ahead intents, and what is recorded after them (one transaction).

A failed write leaves its pair pending (planned again next run, its record ``retrying`` or
``failed`` by the error's class); a write that landed records the values as the side's
state, so the platform's own echo of it is never taken for a change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config.catalog import CatalogPipelineConfig
from ..config.schema import TenantConfig
from ..contracts.catalog import CatalogConnector, CatalogField, CatalogWrite
from ..engine.journal import Batch, Journal, Transition, off_loop
from ..errors import NeedsMapping, SyncError, TransientError
from ..retry import call_with_retry
from ..store import ConflictRecord, RecordState
from ..store.types import utcnow
from .diff import FieldPlan, Outcome, settled
from .inflight import digest, scope
from .state import ENTITY, CatalogState, FieldRow, VariantRow

if TYPE_CHECKING:
    pass
from .report import CONFLICT_ENTITY, CatalogReport, Pair


class CatalogWrites:
    """Mixed into ``CatalogRunner``: everything after planning."""

    pipe: CatalogPipelineConfig
    tenant: TenantConfig
    a: str
    b: str
    sides: dict[str, str]
    journal: Journal
    state: CatalogState
    report: CatalogReport
    conns: dict[str, CatalogConnector]
    _landed: list[tuple[str, str, dict[str, str | None]]]
    _parked: dict[tuple[str, str], str]  # (side, id) -> why it could not be matched

    def _held_ok(self, row: FieldRow | None, plan: FieldPlan) -> bool:
        return bool(
            row is not None
            and row.approved
            and row.held_side == plan.side
            and row.held_value == plan.value
        )

    async def _execute(
        self, pairs: list[Pair], new_pairs: list[tuple[str, str]], pending: list[VariantRow]
    ) -> None:
        parked = self._parked
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

        writes: dict[str, list[tuple[Pair, CatalogWrite, list[FieldPlan]]]] = {}
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

    def _write(self, pair: Pair, side: str, plans: list[FieldPlan]) -> CatalogWrite:
        row = pair.a if side == "a" else pair.b
        values = {CatalogField(p.field): p.value or "" for p in plans}
        stamp = digest({k.value: v for k, v in values.items()})  # inflight.py reads it back
        key = f"{scope(self.pipe, self.sides[side], row.external_id)}:{stamp}"
        return CatalogWrite(key, row.product_id, row.external_id, values, row.handles)

    async def _write_side(
        self,
        side: str,
        items: list[tuple[Pair, CatalogWrite, list[FieldPlan]]],
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

    def _hold(self, pair: Pair, plan: FieldPlan, row: FieldRow | None) -> FieldRow:
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

    def _conflict(self, pair: Pair, plan: FieldPlan, records: dict[str, Any]) -> ConflictRecord:
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
        pair: Pair,
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
