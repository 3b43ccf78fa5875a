"""What a mapping would write for one order, without writing anything.

``preview_order`` plans through the engine's planner
(``ledgerbridge.engine.planner.plan_order``), so the preview and the engine's
dry-run share one code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ..canonical import Order
from .runtime import LookupHit, MappingRuntime

POLICIES = ("invoice", "sales_receipt", "daily_summary")


@dataclass(frozen=True)
class PreviewWrite:
    operation: str
    reason: str
    draft: BaseModel | None


@dataclass
class Preview:
    """The intended writes for one order, and every lookup that decided a value."""

    order: Order
    policy: str
    skipped: str | None = None
    contact: BaseModel | None = None
    contact_keys: list[tuple[str, str]] = field(default_factory=list)
    items: list[BaseModel] = field(default_factory=list)
    writes: list[PreviewWrite] = field(default_factory=list)
    trace: list[LookupHit] = field(default_factory=list)
    planner: str = "ledgerbridge.mapping.preview"

    def as_json(self) -> dict[str, Any]:
        def dump(model: BaseModel | None) -> Any:
            return None if model is None else model.model_dump(mode="json", exclude_none=True)

        return {
            "order": self.order.model_dump(mode="json", exclude_none=True),
            "policy": self.policy,
            "planner": self.planner,
            "skipped": self.skipped,
            "contact": dump(self.contact),
            "contact_keys": [list(k) for k in self.contact_keys],
            "items": [dump(i) for i in self.items],
            "writes": [
                {"operation": w.operation, "reason": w.reason, "draft": dump(w.draft)}
                for w in self.writes
            ],
            "lookups": [
                {
                    "subject": h.subject,
                    "table": h.table,
                    "key": h.key,
                    "value": h.value,
                    "via": h.via,
                }
                for h in self.trace
            ],
        }


def preview_order(order: Order, runtime: MappingRuntime, policy: str | None = None) -> Preview:
    """Plan ``order`` as a new order under ``policy`` (default: the mapping's).

    Invoice and sales-receipt policies go through the engine's planner, the same
    function the engine and its dry-run use.  Under ``daily_summary`` an order is
    not posted by itself: the preview shows its contribution to the day's summary.
    """
    from ..engine.planner import plan_order

    policy = policy or runtime.posting_policy
    if policy == "daily_summary":
        return _summary_preview(order, runtime)
    plan = plan_order(order, runtime, policy)
    return Preview(
        order=order,
        policy=policy,
        skipped=plan.skipped,
        contact=plan.contact,
        contact_keys=list(plan.contact_keys),
        items=list(plan.items),
        writes=[PreviewWrite(w.operation.value, w.reason, w.draft) for w in plan.writes],
        trace=list(plan.trace),
        planner="ledgerbridge.engine.planner",
    )


def _summary_preview(order: Order, runtime: MappingRuntime) -> Preview:
    result = Preview(order=order, policy="daily_summary")
    result.skipped = runtime.skip_reason(order)
    if result.skipped is not None:
        return result
    lines = runtime.summary_lines([order], result.trace)
    result.writes.append(
        PreviewWrite(
            "summary_lines",
            f"order {order.number}: its share of the daily summary",
            _SummaryLines(lines=[line.model_dump(mode="json") for line in lines]),
        )
    )
    return result


class _SummaryLines(BaseModel):
    lines: list[dict[str, Any]]
