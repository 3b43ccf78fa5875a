"""What a mapping would write for one order, without writing anything.

``preview_order`` plans through the engine's planner
(``ledgerbridge.engine.planner.plan_order``) when it is installed, so the
preview and the engine's dry-run share one code path; otherwise it falls back
to ``preview_writes``, which composes the same runtime builders the planner
calls (new order only: no prior state).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ..canonical import Order
from ..plan import DocumentKind, Link
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


def _engine_planner() -> Any:
    try:
        module = importlib.import_module("ledgerbridge.engine.planner")
    except ImportError:
        return None
    return getattr(module, "plan_order", None)


def preview_order(order: Order, runtime: MappingRuntime, policy: str | None = None) -> Preview:
    """Plan ``order`` as a new order under ``policy`` (default: the mapping's)."""
    policy = policy or runtime.posting_policy
    plan_order = _engine_planner()
    if plan_order is None or policy == "daily_summary":
        return preview_writes(order, runtime, policy)
    plan = plan_order(order, runtime, policy)
    return Preview(
        order=order,
        policy=policy,
        skipped=plan.skipped,
        contact=plan.contact,
        contact_keys=list(plan.contact_keys),
        items=list(plan.items),
        writes=[
            PreviewWrite(str(getattr(w.operation, "value", w.operation)), w.reason, w.draft)
            for w in plan.writes
        ],
        trace=list(plan.trace),
        planner="ledgerbridge.engine.planner",
    )


def preview_writes(order: Order, runtime: MappingRuntime, policy: str | None = None) -> Preview:
    """The writes for a new order, composed from the runtime's builders alone."""
    policy = policy or runtime.posting_policy
    result = Preview(order=order, policy=policy)
    result.skipped = runtime.skip_reason(order)
    if result.skipped is not None:
        return result
    trace = result.trace
    result.contact = runtime.contact(order, trace)
    result.contact_keys = runtime.contact_match_keys(order)
    result.items = list(runtime.items(order, trace))
    if policy == "daily_summary":
        lines = runtime.summary_lines([order], trace)
        result.writes.append(
            PreviewWrite(
                "summary_lines",
                f"order {order.number}: its share of the daily summary",
                _SummaryLines(lines=[line.model_dump(mode="json") for line in lines]),
            )
        )
        return result
    paid = order.amount_received.amount >= order.totals.total.amount > 0
    kind = (
        DocumentKind.SALES_RECEIPT if policy == "sales_receipt" and paid else DocumentKind.INVOICE
    )
    doc_link = Link(key=f"document:{order.source.key}")
    result.writes.append(
        PreviewWrite(
            "create_document",
            f"new order {order.number}: {kind.value.replace('_', ' ')}",
            runtime.document(order, kind, trace),
        )
    )
    if kind is DocumentKind.INVOICE:
        for payment in order.payments:
            if payment.is_money_in:
                result.writes.append(
                    PreviewWrite(
                        "record_payment",
                        f"{payment.kind.value} {payment.amount} via {payment.gateway}",
                        runtime.payment(order, payment, doc_link, trace),
                    )
                )
    for refund in order.refunds:
        if refund.credit_total.amount <= Decimal(0):
            continue
        rid = refund.source.external_id
        cn_link = Link(key=f"credit_note:{order.source.key}:{rid}")
        against = doc_link if kind is DocumentKind.INVOICE else None
        result.writes.append(
            PreviewWrite(
                "create_credit_note",
                f"refund {rid}: credit note",
                runtime.credit_note(order, refund, against, trace),
            )
        )
        money = runtime.credit_refund(order, refund, cn_link, trace)
        if money is not None:
            result.writes.append(
                PreviewWrite("refund_credit", f"refund {rid}: money paid back", money)
            )
    return result


class _SummaryLines(BaseModel):
    lines: list[dict[str, Any]]
