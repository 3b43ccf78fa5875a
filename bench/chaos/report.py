"""The figures table, from rows as ``Row.as_json`` gives them: on the terminal and in Markdown.

``python -m bench.chaos.report rows.json`` prints the Markdown table of a saved run
(``python -m bench.chaos --json rows.json``), as ``docs/reliability.md`` shows it.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from rich.table import Table

COLUMNS = (
    "scenario", "source", "policy", "orders", "kills", "faults", "duplicates", "missing",
    "money diff", "orphans", "state diff", "parked (by reason)", "parked by harness",
    "clean re-run writes", "lease > 10 s", "wall s", "ok",
)  # fmt: skip
LEFT = ("scenario", "source", "policy", "parked (by reason)")


def reasons(parked: dict[str, int]) -> dict[str, int]:
    """Parks by reason, the order's own id left out so that one reason is one line."""
    merged: Counter[str] = Counter()
    for reason, n in parked.items():
        merged[re.sub(r"\border \S+ ", "order ", reason)] += n
    return dict(merged)


def cells(row: dict[str, Any]) -> list[str]:
    parked = ", ".join(f"{k} ×{n}" for k, n in sorted(reasons(row["parked"]).items())) or "0"
    return [
        row["scenario"], row["source"], row["policy"], str(row["orders"]), str(row["kills"]),
        str(row["faults"]), str(row["duplicates"]), str(row["missing"]),
        f"{row['money_differences']} ({row['money_amount']})", str(row["orphans"]),
        str(row["state_differences"]), parked, str(row["parked_by_harness"]),
        str(row["clean_rerun_writes"]), str(row["lease_blocked"]), f"{row['seconds']:.0f}",
        "yes" if row["ok"] else "NO",
    ]  # fmt: skip


def table(rows: list[dict[str, Any]], title: str) -> Table:
    t = Table(title=title)
    for name in COLUMNS:
        t.add_column(name, justify="left" if name in LEFT else "right")
    for row in rows:
        t.add_row(*cells(row))
    return t


CATALOG_COLUMNS = (
    "source", "variants", "paired", "rounds", "edits", "kills", "faults", "writes", "lost", "stale",
    "wrong side", "repeated", "re-sent (why)", "conflicts", "parked (by reason)",
    "parked by harness", "clean re-run writes", "runs", "wall s", "ok",
)  # fmt: skip


def catalog_cells(row: dict[str, Any]) -> list[str]:
    """One catalog row (``CatalogRow.as_json``): its figures, in ``CATALOG_COLUMNS`` order."""
    resent = ", ".join(f"{k} ×{n}" for k, n in sorted(row["resent"].items())) or "0"
    parked = ", ".join(f"{k} ×{n}" for k, n in sorted(row["parked"].items())) or "0"
    kills = f"{row['kills']} ({row['timer_kills']} on timers)"
    return [
        row["source"], str(row["variants"]), str(row["paired"]), str(row.get("rounds", "")),
        str(row["edits"]), kills,
        str(row["faults"]), str(row["writes"]), str(row["lost"]), str(row["stale"]),
        str(row["wrong_side"]), str(row["repeated"]), resent, str(row["conflicts"]), parked,
        str(row["parked_by_harness"]), str(row["clean_rerun_writes"]), str(row["runs"]),
        f"{row['seconds']:.0f}", "yes" if row["ok"] else "NO",
    ]  # fmt: skip


def catalog_table(rows: list[dict[str, Any]], title: str) -> Table:
    t = Table(title=title)
    for name in CATALOG_COLUMNS:
        t.add_column(name, justify="left" if name in CATALOG_LEFT else "right")
    for row in rows:
        t.add_row(*catalog_cells(row))
    return t


CATALOG_LEFT = ("source", "re-sent (why)", "parked (by reason)")


def catalog_markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(CATALOG_COLUMNS) + " |"]
    lines.append(
        "|" + "|".join("---" if c in CATALOG_LEFT else "---:" for c in CATALOG_COLUMNS) + "|"
    )
    lines += ["| " + " | ".join(c.replace("|", "/") for c in catalog_cells(r)) + " |" for r in rows]
    problems = [f"- catalog {r['source']}: {p}" for r in rows for p in r["problems"]]
    return "\n".join(lines + (["", *problems] if problems else [])) + "\n"


def markdown(rows: list[dict[str, Any]]) -> str:
    catalog = [r for r in rows if r["scenario"] == "catalog"]
    rows = [r for r in rows if r["scenario"] != "catalog"]
    if not rows:
        return catalog_markdown(catalog)
    text = _orders_markdown(rows)
    return text + ("\n" + catalog_markdown(catalog) if catalog else "")


def _orders_markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |"]
    lines.append("|" + "|".join("---" if c in LEFT else "---:" for c in COLUMNS) + "|")
    lines += ["| " + " | ".join(c.replace("|", "/") for c in cells(r)) + " |" for r in rows]
    totals = []
    for scenario in dict.fromkeys(r["scenario"] for r in rows):
        mine = [r for r in rows if r["scenario"] == scenario]
        planned = sum(r.get("planned_kills", 0) for r in mine)
        kills = f"{sum(r['kills'] for r in mine)} kills"
        if planned:  # rows saved before kills were planned on writes have no such field
            kills += (
                f" ({sum(r.get('write_kills', 0) for r in mine)} on committed writes of "
                f"{planned} planned, {sum(r.get('timer_kills', 0) for r in mine)} on timers)"
            )
        totals.append(
            f"- {scenario}: {sum(r['orders'] for r in mine)} orders posted "
            f"({len(mine)} books), {kills}, "
            f"{sum(r['faults'] for r in mine)} faults, {sum(r['ok'] for r in mine)} of "
            f"{len(mine)} rows clean"
        )
    problems = [
        f"- {r['scenario']} {r['source']}/{r['policy']}: {p}" for r in rows for p in r["problems"]
    ]
    return "\n".join(lines + ["", *totals] + (["", *problems] if problems else [])) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown(json.loads(Path(sys.argv[1]).read_text())))
