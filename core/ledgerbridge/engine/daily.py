"""The daily_summary posting policy inside a pipeline run.

Each order stores its contribution to its day (a binding of kind ``summary``);
once a day has closed, its sales -- and separately its refunds -- are posted
as one document per day, currency and tax mode, and a late change to a posted
day becomes an adjusting document.  The pure arithmetic lives in ``summary``;
this is the part that reads and writes the store and the target, mixed into
``PipelineRunner``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from ..canonical import Order, OrderStatus
from ..config import PipelineConfig
from ..contracts.source import Change
from ..errors import ValidationFailed
from ..plan import DocumentKind
from ..store import RecordState
from ..store.types import utcnow
from . import summary
from .daily_money import DailyMoney
from .executor import Executor
from .journal import Batch, Journal, RecordRow, Transition, off_loop
from .outcomes import RecordOutcome
from .planner import NOT_A_SALE, MappingRuntime, Operation, Plan, PlannedWrite
from .triggers import authorisation_voided


class DailySummaries(DailyMoney):
    """The daily_summary half of ``PipelineRunner`` (which sets these attributes)."""

    pipeline: PipelineConfig
    runtime: MappingRuntime
    journal: Journal
    executor: Executor
    _db = staticmethod(off_loop)

    async def _summarize(
        self,
        order: Order,
        change: Change,
        record: RecordRow,
        step: Callable[..., RecordOutcome],
        dry_run: bool,
        batch: Batch,
    ) -> RecordOutcome:
        """daily_summary: store the order's contribution to its day; posting waits for the day."""
        reason = self.runtime.skip_reason(order)
        if reason is None and order.status in NOT_A_SALE:
            reason = f"order {order.number} is {NOT_A_SALE[order.status]}, not a sale"
        if order.status is OrderStatus.UNKNOWN:
            raise ValidationFailed(
                f"order {order.number} has a status the connector does not know; not summarized"
            )
        if reason is not None:
            return step(RecordState.SKIPPED, reason=reason)
        trace: list[Any] = []
        # A voided authorisation with nothing captured owes nothing: like a cancelled
        # unpaid order it adds nothing to its day (and takes back what it added before),
        # as it posts nothing under any posting trigger (``triggers.authorisation_voided``).
        withdrawn = (
            order.status is OrderStatus.DELETED or order.is_cancelled or authorisation_voided(order)
        )
        contrib = (
            summary.empty_contribution(order)
            if withdrawn and order.amount_received.is_zero()
            else summary.contribution(order, self.runtime, trace)
        )
        if dry_run:
            return RecordOutcome(
                self.pipeline.id, change.entity, change.external_id, change.version,
                RecordState.PENDING, reason=f"summary contribution {contrib}",
                record_id=record.id,
            )  # fmt: skip
        bucket = f"{contrib['day']}|{contrib['currency']}"
        batch.add_binding(
            self.journal.binding_row("order", order.source.external_id, "summary", bucket, contrib)
        )
        return step(
            RecordState.PENDING,
            reason=f"in the daily summary of {contrib['day']} {contrib['currency']} "
            "(posted once the day closes)",
        )

    async def close_days(self, today: date) -> list[str]:
        """Post every closed day's summary (or its adjustment) and the day's refunds.

        Buckets are day × currency × tax mode: a shop that mixes tax-inclusive and
        tax-exclusive orders gets one document per mode, since one document has one.
        Returns one entry per document written.
        """
        contributions = await self._db(self.journal.binder.of_kind, "summary")
        days: dict[str, list[Any]] = {}
        refund_days: dict[str, list[tuple[Any, str]]] = {}
        for b in contributions:
            c = b.snapshot
            mode = "incl" if c.get("taxes_included") else "excl"
            days.setdefault(f"{c['day']}|{c['currency']}|{mode}", []).append(b)
            for refund_day in c.get("refunds", {}):
                key = f"{refund_day}|{c['currency']}|{mode}"
                refund_days.setdefault(key, []).append((b, refund_day))
        posted: list[str] = []
        for bucket, group in sorted(days.items()):
            if date.fromisoformat(bucket.split("|")[0]) >= today:
                continue
            sales = summary.add(b.snapshot["sales"] for b in group)
            total = sum((Decimal(b.snapshot["total"]) for b in group), Decimal(0))
            posted += [bucket] * await self._post_bucket(bucket, "sales", sales, total)
            await self._db(self._mark_summarized, [b.external_id for b in group], bucket)
        for bucket, pairs in sorted(refund_days.items()):
            if date.fromisoformat(bucket.split("|")[0]) >= today:
                continue
            credit = summary.add(b.snapshot["refunds"][d] for b, d in pairs)
            total = sum(
                (Decimal(b.snapshot.get("refund_totals", {}).get(d, "0")) for b, d in pairs),
                Decimal(0),
            )
            written = await self._post_bucket(bucket, "refunds", credit, total)
            posted += [f"refunds {bucket}"] * written
        posted += await self.close_money(contributions, today)  # the documents exist now
        return posted

    async def _post_bucket(
        self, bucket: str, what: str, amounts: dict[str, Decimal], total: Decimal
    ) -> int:
        """Post a day's sales (or refunds) once; later differences as adjusting documents."""
        day, currency, mode = bucket.split("|")
        inclusive = mode == "incl"
        base_kind = DocumentKind.INVOICE if what == "sales" else DocumentKind.CREDIT_NOTE
        label = "Sales" if what == "sales" else "Refunds"
        posted = await self._db(self.journal.binding, "day", bucket, f"summary_{what}")
        contact = self._summary_contact(currency)
        fx = self._rate_fields(currency, date.fromisoformat(day))
        rates = {
            e.tax_id: Decimal(str(e.rate))
            for e in self.runtime.mapping.lookups.taxes.entries
            if e.rate is not None
        }
        writes: list[PlannedWrite] = []
        if posted is None:
            if not amounts:
                return 0
            draft = summary.summary_draft(
                kind=base_kind, day=day, currency=currency, amounts=amounts, contact=contact.link,
                tax_rates=rates, stated_total=total, taxes_included=inclusive, label=label,
                key_suffix=what, rates=fx,
            )  # fmt: skip
            snapshot = {"amounts": {k: str(v) for k, v in amounts.items()}, "total": str(total),
                        "adjustments": 0}  # fmt: skip
            writes.append(PlannedWrite(Operation.CREATE_DOCUMENT, "day", bucket, f"summary_{what}",
                                       f"{label.lower()} of {day} {currency}", draft=draft,
                                       snapshot=snapshot))  # fmt: skip
        else:
            before = {k: Decimal(v) for k, v in posted.snapshot.get("amounts", {}).items()}
            diff = summary.delta(amounts, before)
            if not diff:
                return 0
            n = int(posted.snapshot.get("adjustments", 0)) + 1
            more = {k: v for k, v in diff.items() if v > 0}
            less = {k: -v for k, v in diff.items() if v < 0}
            for part, amounts_part in (("increase", more), ("decrease", less)):
                if not amounts_part:
                    continue
                grows = (part == "increase") == (what == "sales")
                kind = DocumentKind.INVOICE if grows else DocumentKind.CREDIT_NOTE
                draft = summary.summary_draft(
                    kind=kind, day=day, currency=currency, amounts=amounts_part,
                    contact=contact.link, tax_rates=rates, stated_total=None,
                    taxes_included=inclusive, label=f"{label} adjustment {n}",
                    key_suffix=f"{what}-adjustment-{n}-{part}", rates=fx,
                )  # fmt: skip
                writes.append(PlannedWrite(Operation.CREATE_DOCUMENT, "day", bucket,
                                           f"summary_{what}_adjustment_{n}_{part}",
                                           f"late change to {day} {currency}: {part}",
                                           draft=draft))  # fmt: skip
            new_baseline = dict(posted.snapshot)
            new_baseline.update(
                amounts={k: str(v) for k, v in amounts.items()}, total=str(total), adjustments=n
            )
        plan = Plan(
            order_key=f"summary:{bucket}",
            version=None,
            writes=writes,
            contact=contact,
            contact_keys=[("name", contact.display_name)],
        )
        results = await self.executor.execute(plan, None)
        if posted is not None:
            posted.snapshot = new_baseline
            await self._db(self.journal.bind, posted)
        return sum(1 for _, outcome in results if outcome == "written")

    def _mark_summarized(self, external_ids: list[str], bucket: str) -> None:
        """The day's summary is posted: its pending orders are synced (one transaction)."""
        now, day = utcnow(), " ".join(bucket.split("|")[:2])
        records = self.journal.open_records("order", external_ids)
        self.journal.commit(
            Batch(
                transitions=[
                    Transition(
                        r,
                        RecordState.SYNCED,
                        now,
                        version=r.source_version,
                        reason=f"posted in the daily summary of {day}",
                    )
                    for r in records.values()
                    if r.state == RecordState.PENDING.value
                ]
            )
        )


__all__ = ["DailySummaries"]
