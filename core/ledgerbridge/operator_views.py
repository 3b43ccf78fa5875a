"""What the operator commands show: rows, JSON shapes, summaries that fit a terminal.

The commands in ``operator_cli`` fetch; this module turns what they fetched into the
rows of a table and the documented ``--json`` shapes (docs/operations.md, "Machine-
readable output"), so a table and its JSON always say the same thing.  Tables are built
for 100 columns: a checkpoint is summarised ("2026-12-04 10:31 (+3 seen ids)"), never
printed as the raw JSON a source stores.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from .store import AuditEvent, ConflictRecord, SyncRecord
from .store.orders import order_label

# Checkpoint keys that hold the ids of records already handed over (Shopify's ``seen``,
# WooCommerce's ``ids``): counted, not listed.
SEEN_KEYS = frozenset({"seen", "ids", "seen_ids"})
CLIP = 40


def _time(value: str) -> datetime | None:
    if len(value) < 10 or value[4:5] != "-":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC)


def _clip(text: str, width: int = CLIP) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summarise_checkpoint(raw: str) -> str:
    """A stored checkpoint in a few words: its latest time and how many ids it keeps
    ("2026-12-04 10:31 (+3 seen ids)"); what is neither is clipped, never dumped."""
    try:
        data = json.loads(raw)
    except ValueError:
        moment = _time(raw.strip())
        return moment.strftime("%Y-%m-%d %H:%M") if moment else _clip(raw.strip())
    times: list[datetime] = []
    seen = 0

    def walk(value: Any, key: str = "") -> None:
        nonlocal seen
        if key in SEEN_KEYS and isinstance(value, dict | list):
            seen += len(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and (moment := _time(value)) is not None:
            times.append(moment)

    walk(data)
    if not times:
        return "-" if data in (None, {}, []) else _clip(json.dumps(data, separators=(",", ":")))
    text = max(times).strftime("%Y-%m-%d %H:%M")
    return f"{text} (+{seen} seen ids)" if seen else text


def checkpoints_text(checkpoints: dict[str, str]) -> str:
    """The summary of each entity's checkpoint, one a line, named when there are several
    (``order: 2026-12-04 10:31 (+3 seen ids)``)."""
    if len(checkpoints) == 1:
        return summarise_checkpoint(next(iter(checkpoints.values())))
    return "\n".join(f"{e}: {summarise_checkpoint(v)}" for e, v in checkpoints.items()) or "-"


# --------------------------------------------------------------------------- failures


def failure_row(record: SyncRecord) -> dict[str, Any]:
    """One parked record (the ``failures --json`` shape)."""
    why = record.reason or ""
    if record.missing_key:
        why = f"missing mapping: {record.missing_key} — {why}"
    return {
        "id": record.id,
        "tenant": record.tenant_id,
        "pipeline": record.pipeline_id,
        "record": f"{record.entity} {record.external_id}",
        "entity": record.entity,
        "external_id": record.external_id,
        "number": record.number,
        "order": order_label(record) if record.entity == "order" else record.external_id,
        "version": record.source_version,
        "state": record.state,
        "error_class": record.error_class,
        "platform_code": record.error_code,
        "missing_key": record.missing_key,
        "why": why,
        "retry_safe": record.retry_safe,
        "attempts": record.attempt_count,
        "next_attempt": record.next_attempt_at.isoformat() if record.next_attempt_at else None,
    }


def group_key(row: dict[str, Any]) -> tuple[str, str, str]:
    """Records parked for one cause: state, error class and the missing mapping key (else
    the platform's error code, else the reason) -- the console's grouping too."""
    cause = row["missing_key"] or row["platform_code"] or (row["why"] or "").split("\n")[0]
    return (row["state"], row["error_class"] or "", cause)


def failure_groups(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows grouped by cause, biggest group first (the ``failures --json --group`` shape)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(group_key(row), []).append(row)
    out = [
        {
            "state": state,
            "error_class": klass or None,
            "cause": cause,
            "missing_key": members[0]["missing_key"],
            "count": len(members),
            "retry_safe": all(m["retry_safe"] for m in members),
            "why": members[0]["why"],
            "records": members,
        }
        for (state, klass, cause), members in groups.items()
    ]
    return sorted(out, key=lambda g: (-g["count"], g["state"], g["cause"]))


# --------------------------------------------------------------------------- conflicts


def conflict_row(c: ConflictRecord, record: SyncRecord | None) -> dict[str, Any]:
    """One open conflict (the ``conflicts --json`` shape)."""
    return {
        "id": c.id,
        "tenant": c.tenant_id,
        "pipeline": c.pipeline_id,
        "record_id": c.record_id,
        "entity": c.entity,
        "external_id": c.external_id,
        "number": record.number if record is not None else None,
        "order": order_label(record) if record is not None else c.external_id,
        "target_id": c.target_id,
        "fields": list(c.fields),
        "since": c.created_at.isoformat(timespec="seconds"),
    }


# --------------------------------------------------------------------------- audit


def audit_json(records: Sequence[SyncRecord], events: Sequence[AuditEvent]) -> dict[str, Any]:
    """The ``audit --json`` shape: the order (number beside its id) and its writes."""
    record = records[0] if records else None
    return {
        "order": {
            "number": record.number if record else None,
            "external_id": record.external_id if record else events[0].source_id,
            "record_id": record.id if record else None,
            "tenant": record.tenant_id if record else events[0].tenant_id,
            "pipeline": record.pipeline_id if record else events[0].pipeline_id,
            "state": record.state if record else None,
        },
        "events": [
            {
                "at": e.at.isoformat(timespec="seconds"),
                "operation": e.operation,
                "outcome": e.outcome,
                "target_id": e.target_id,
                "version": e.source_version,
                "duration_ms": e.duration_ms,
                "attempt": e.attempt,
                "idempotency_key": e.idempotency_key,
            }
            for e in events
        ],
    }


def candidates_text(records: Sequence[SyncRecord]) -> list[str]:
    """The lines naming each record an ambiguous order query matched."""
    return [
        f"  record {r.id}: order {order_label(r)} in {r.tenant_id}/{r.pipeline_id} ({r.state})"
        for r in records
    ]


__all__ = [
    "audit_json",
    "candidates_text",
    "checkpoints_text",
    "conflict_row",
    "failure_groups",
    "failure_row",
    "group_key",
    "summarise_checkpoint",
]
