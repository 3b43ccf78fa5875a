"""``ledgerbridge sync --dry-run``: what a run would post and what it would park, and why.

The engine plans every change through the same planner a real run uses and checks the
plans against the organisation (``engine/dryrun.py``); this module only presents the
reports.  Each record that would park is listed with its reason and the advice -- the
mapping key (or setting) to set -- then a summary: documents that would be posted, of
each kind, and parks grouped by reason.  ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from rich.console import Console
from rich.markup import escape

from .engine import RecordOutcome, RunReport
from .errors import NeedsMapping

console = Console()

# ``NeedsMapping.missing`` prefix -> where the mapping takes it (``{key}``: the rest).
WHERE = {
    "payment_method": "lookups.payment_methods.entries.{key}",
    "payment_account": "lookups.payment_methods.entries.{key}.account_id",
    "tax": "lookups.taxes.entries (a source tax of {key})",
    "fee_account": "lookups.fee_accounts.entries.{key}",
    "currency": "lookups.currencies.accept ({key})",
    "summary_account": "summary.sales_accounts ({key})",
    "refund_adjustment_account": "refunds.adjustment_account_id",
    "item": "the source line's SKU, or lookups.items ({key})",
}


def advice(outcome: RecordOutcome) -> str | None:
    """The mapping key or setting that would let the record post."""
    error = outcome.error
    if isinstance(error, NeedsMapping):
        missing = error.missing
        if missing.startswith("connection "):  # the organisation's setup (dryrun.py)
            return f"set {missing}"
        prefix, _, key = missing.partition(":")
        if prefix in WHERE:
            where = WHERE[prefix].format(key=key)
        elif "." in missing:  # a mapping position naming an id the organisation lacks
            where = f"{missing} to an id the organisation has"
        else:  # a lookup table of the mapping's own
            where = f"tables.{prefix}.entries.{key}" if key else prefix
        return f"set {where} in the mapping (missing: {missing})"
    text = outcome.reason or ""
    found = re.search(r"(status_map: \{[^}]*\})", text)
    if found:
        return f"add {found.group(1)} to the source connection's settings"
    return None


def _group(outcome: RecordOutcome) -> str:
    """Records parked for one reason share a group: the missing key, else the message
    with the record's own number and id taken out."""
    error = outcome.error
    if isinstance(error, NeedsMapping):
        return f"{outcome.state.value if outcome.state else '?'}: missing {error.missing}"
    text = outcome.reason or "(no reason given)"
    for word in {outcome.number, outcome.external_id} - {None}:
        text = re.sub(rf"\b{re.escape(str(word))}\b", "…", text)
    name = type(error).__name__ if error is not None else "parked"
    return f"{outcome.state.value if outcome.state else '?'}: {name}: {text}"


def _park(outcome: RecordOutcome) -> dict[str, Any]:
    error = outcome.error
    return {
        "order": outcome.number,
        "external_id": outcome.external_id,
        "entity": str(outcome.entity),
        "state": outcome.state.value if outcome.state else None,
        "reason": outcome.reason,
        "missing": getattr(error, "missing", None),
        "advice": advice(outcome),
        "error": error.summary() if error is not None else None,
    }


def pipeline_report(report: RunReport) -> dict[str, Any]:
    """One pipeline's dry run as JSON-safe data (the ``--json`` output's ``pipelines``)."""
    documents: Counter[str] = Counter()
    operations: Counter[str] = Counter()
    records = []
    for outcome in report.previews:
        plan = outcome.plan
        if plan is None or plan.skipped or not plan.writes:
            continue
        for write in plan.writes:
            documents[write.target_kind] += 1
            operations[write.operation.value] += 1
        records.append(
            {
                "order": outcome.number,
                "external_id": outcome.external_id,
                "record": plan.order_key,
                "version": plan.version,
                "writes": [
                    {
                        "operation": w.operation.value,
                        "kind": w.target_kind,
                        "reason": w.reason,
                        "draft": w.draft.model_dump(mode="json") if w.draft is not None else None,
                    }
                    for w in plan.writes
                ],
            }
        )
    groups: dict[str, list[RecordOutcome]] = {}
    for outcome in report.parks:
        groups.setdefault(_group(outcome), []).append(outcome)
    return {
        "pipeline": report.pipeline_id,
        "read": report.read,
        "unchanged": report.unchanged,
        "would_post_records": len(records),
        "would_post": dict(sorted(documents.items())),
        "would_write": dict(sorted(operations.items())),
        "would_skip": report.states["skipped"],
        "would_park": len(report.parks),
        "parks": [_park(o) for o in report.parks],
        "park_groups": [
            {
                "reason": reason,
                "count": len(members),
                "advice": advice(members[0]),
                "orders": [o.number or o.external_id for o in members],
            }
            for reason, members in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))
        ],
        "records": records,
        "halted": str(report.halted) if report.halted is not None else None,
    }


def dry_run_report(reports: list[RunReport]) -> dict[str, Any]:
    pipelines = [pipeline_report(r) for r in reports]
    return {
        "dry_run": True,
        "written": "nothing: no store rows, no leases, no target writes",
        "would_park": sum(p["would_park"] for p in pipelines),
        "pipelines": pipelines,
    }


def show_dry_run(reports: list[RunReport], *, as_json: bool = False) -> None:
    data = dry_run_report(reports)
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for p in data["pipelines"]:
        _show_pipeline(p)
    console.print(
        "[dim]dry run: nothing was written (no store rows, no lease, no target writes)[/]"
    )


def _show_pipeline(p: dict[str, Any]) -> None:
    out = console.print
    out(f"[bold]{p['pipeline']}[/] (dry run)", highlight=False)
    for record in p["records"]:
        writes = " · ".join(f"{w['operation']} {w['kind']}" for w in record["writes"])
        who = record["order"] or record["external_id"]
        out(
            f"  would post {escape(str(who))} (id {escape(record['external_id'])}): {writes}",
            highlight=False,
            soft_wrap=True,
        )
    if p["parks"]:
        out(f"[red]would park {p['would_park']}:[/]")
        for park in p["parks"]:
            who = park["order"] or park["external_id"]
            out(
                f"  [bold]{escape(str(who))}[/] (id {escape(park['external_id'])}) "
                f"{park['state']}: {escape(park['reason'] or '')}",
                highlight=False,
                soft_wrap=True,
            )
            if park["advice"]:
                out(f"    → {escape(park['advice'])}", highlight=False, soft_wrap=True)
    posted = ", ".join(f"{n} {kind}" for kind, n in p["would_post"].items()) or "nothing"
    out(
        f"read {p['read']} · unchanged {p['unchanged']} · skipped {p['would_skip']} · "
        f"would post {p['would_post_records']} records · would park {p['would_park']}",
        highlight=False,
    )
    out(f"would post: {posted}", highlight=False, soft_wrap=True)
    for group in p["park_groups"]:  # one line a reason: the advice, else the reason itself
        state, _, reason = group["reason"].partition(": ")
        what = f"→ {group['advice']}" if group["advice"] else reason
        out(
            f"would park {group['count']} × {state}: {escape(what)}",
            highlight=False,
            soft_wrap=True,
        )
    if p["halted"]:
        out(f"[red]stopped:[/] {escape(p['halted'])}", highlight=False, soft_wrap=True)
