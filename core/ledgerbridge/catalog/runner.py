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

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from ..config.catalog import CatalogEntry
from ..contracts.catalog import CatalogConnector, values_of
from ..engine.journal import Batch, Journal, Scope, Transition, off_loop
from ..engine.lease import PipelineBusy, PipelineLease
from ..errors import SyncError
from ..store import RecordState
from ..store.types import utcnow
from . import connectors, inflight
from .diff import Outcome, plan_field
from .gone import forget_gone, full_read_due, full_read_key
from .match import match
from .state import ENTITY, CatalogState, VariantRow

if TYPE_CHECKING:
    from ..engine import Engine
from .report import CONFLICT_ENTITY, CatalogReport, DiffLine, Pair
from .write import CatalogWrites

__all__ = ["CONFLICT_ENTITY", "CatalogReport", "CatalogRunner", "DiffLine", "run_catalog"]

RENEW_EVERY = timedelta(minutes=1)  # the lease lasts ten; a long run renews it as it reads


class CatalogRunner(CatalogWrites):
    def __init__(
        self,
        engine: Engine,
        entry: CatalogEntry,
        *,
        dry_run: bool = False,
        holder: str | None = None,
    ) -> None:
        self.engine, self.entry, self.dry_run = engine, entry, dry_run
        # a distributed worker names its task (``engine.holder:task``): a redelivered task in
        # the same process is another holder, not a re-entry into the running one's lease
        self.holder = holder or engine.holder
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
        self._parked: dict[tuple[str, str], str] = {}
        self._lease: PipelineLease | None = None

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
                lease = PipelineLease(self.engine.store, self.pipe.id, self.holder)
                async with lease:
                    self._lease = lease
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
        await self._keep_lease()
        await self._plan_and_write()

    async def _keep_lease(self) -> None:
        """Renew the pipeline's lease (at most once a minute); stop if another run took it."""
        if self._lease is not None and not await self._lease.renew(every=RENEW_EVERY):
            raise PipelineBusy(f"pipeline {self.pipe.id}: another run took the lease over")

    # ------------------------------------------------------------------ reading

    async def _read(self, side: str) -> None:
        entity = f"catalog:{side}"
        store = self.engine.store
        checkpoint = await off_loop(store.get_checkpoint, self.pipe.id, entity)
        started = utcnow()
        last_full = await off_loop(store.get_checkpoint, self.pipe.id, full_read_key(side))
        full = full_read_due(last_full, started, self.pipe.full_read_every)
        seen: set[str] = set()
        complete = True  # a full read that mapped every record it was given
        pages = read = 0
        async for page in self.conns[side].catalog_changes(None if full else checkpoint):
            await self._keep_lease()
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
            seen.update(r.external_id for r in rows)
            complete = complete and not page.unreadable
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
        if full and not self.dry_run:
            if complete:
                self.report.gone += await forget_gone(self, side, seen)
            at = started.isoformat()
            await off_loop(store.set_checkpoint, self.pipe.id, full_read_key(side), at)

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
        # a write that landed unrecorded is the side's state, not an edit made there
        await off_loop(inflight.recognise, self.journal, self.pipe, self.sides, pairs)
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

    def _load_pairs(self, bmap: dict[str, str], pending: set[tuple[str, str]]) -> list[Pair]:
        wanted = {x: y for x, y in bmap.items() if (self.a, x) in pending or (self.b, y) in pending}
        va = self._variants(self.a, list(wanted))
        vb = self._variants(self.b, list(wanted.values()))
        rows = self.state.fields(list(wanted))
        pairs = []
        for x, y in wanted.items():
            if x in va and y in vb:
                pair = Pair(va[x], vb[y])
                pair.rows = {f.value: rows.get((x, f.value)) for f in self.pipe.ownership}
                pairs.append(pair)
        return pairs

    def _plan(self, pairs: list[Pair]) -> None:
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
                old, new = plan.previous, plan.value
                if plan.outcome is Outcome.CONFLICT:  # both sides' values, named
                    owner = self.pipe.owner(f)
                    old = f"{self.pipe.other(owner)} {plan.other_value}"
                    new = f"{owner} {plan.owner_value}"
                self.report.diff.append(DiffLine(sku, side, f.value, old, new, plan.outcome.value))

    # ------------------------------------------------------------------ writing


async def run_catalog(
    engine: Engine,
    entry: CatalogEntry,
    *,
    dry_run: bool = False,
    on_report: Callable[[CatalogReport], None] | None = None,
    holder: str | None = None,
) -> CatalogReport:
    report = await CatalogRunner(engine, entry, dry_run=dry_run, holder=holder).run()
    if on_report is not None:
        on_report(report)
    return report
