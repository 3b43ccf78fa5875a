"""One row per fuzzed area, and the table ``python -m bench.fuzz`` prints."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Row:
    """The outcome of one area: counts of what went wrong, latency per case, and notes
    (what was parked or guarded, which inputs failed) printed under the table."""

    area: str
    cases: int = 0
    crashes: int = 0
    errors_5xx: int = 0
    accepted_bad: int = 0
    stored_bad: int = 0
    leaks: int = 0
    latencies: list[float] = field(default_factory=list)
    notes: collections.Counter[str] = field(default_factory=collections.Counter)

    def percentile(self, q: float) -> str:
        if not self.latencies:
            return "-"
        ordered = sorted(self.latencies)
        return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f} ms"

    def failed(self) -> bool:
        return bool(
            self.crashes or self.errors_5xx or self.accepted_bad or self.stored_bad or self.leaks
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "cases": self.cases,
            "crashes": self.crashes,
            "5xx": self.errors_5xx,
            "accepted_bad": self.accepted_bad,
            "stored_bad": self.stored_bad,
            "leaks": self.leaks,
            "p50": self.percentile(0.5),
            "p95": self.percentile(0.95),
            "notes": dict(self.notes.most_common(6)),
        }


def table(rows: list[Row]) -> str:
    head = ["area", "cases", "crashes", "5xx", "accepted-bad", "stored-bad", "leaks", "p50", "p95"]
    body = [
        [
            r.area,
            str(r.cases),
            str(r.crashes),
            str(r.errors_5xx),
            str(r.accepted_bad),
            str(r.stored_bad),
            str(r.leaks),
            r.percentile(0.5),
            r.percentile(0.95),
        ]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in body
    ]
    return "\n".join(lines)
