"""The opaque checkpoint of an API2Cart walk: the newest ``modified_at`` recorded so far.

Cursors are not stored: they belong to one walk and may expire.  The
watermark is the returned ``modified_at.value`` (it carries an offset), and the
next walk starts ``modified_overlap`` before it because the filter's time
zone is undocumented.  The (id, version) pairs handed over inside that overlap
window are kept in the checkpoint (``seen``, bounded), so the next walk re-reads
the window without handing any of them over again.
Deleted orders (``is_deleted=true``) keep a watermark of their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

FILTER_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_SEEN = 2000  # per phase; a pair dropped here is only handed over again, never skipped


@dataclass(frozen=True)
class Checkpoint:
    modified: datetime | None = None
    deleted: datetime | None = None
    # phase -> {id: version} handed over within the overlap window before the watermark
    seen: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def loads(cls, text: str | None) -> Checkpoint:
        """Parse a stored checkpoint; a bare ISO date-time (``backfill``) sets both watermarks."""
        if not text:
            return cls()
        try:
            if text.lstrip().startswith("{"):
                data = json.loads(text)
                seen = data.get("seen") or {}
                return cls(
                    modified=_dt(data.get("modified")),
                    deleted=_dt(data.get("deleted")),
                    seen={str(k): {str(i): str(v) for i, v in d.items()} for k, d in seen.items()},
                )
            moment = _dt(text)
        except (ValueError, AttributeError):
            raise ValueError(
                f"API2Cart checkpoint {text[:80]!r} is neither this connector's JSON "
                "checkpoint nor an ISO 8601 date-time"
            ) from None
        return cls(modified=moment, deleted=moment)

    def dumps(self) -> str:
        data: dict[str, Any] = {
            "v": 1,
            "modified": self.modified.isoformat() if self.modified else None,
            "deleted": self.deleted.isoformat() if self.deleted else None,
        }
        if any(self.seen.values()):
            data["seen"] = {k: v for k, v in self.seen.items() if v}
        return json.dumps(data, sort_keys=True)

    def already_seen(self, phase: str, ident: str, version: str | None) -> bool:
        return version is not None and self.seen.get(phase, {}).get(ident) == version

    def remember(
        self, phase: str, pairs: Iterable[tuple[str, str | None]], overlap: timedelta
    ) -> Checkpoint:
        """This checkpoint with ``pairs`` handed over in ``phase``; pairs older than the
        overlap window before the watermark are forgotten (the next walk will not see them)."""
        mark: datetime | None = getattr(self, phase)
        kept = dict(self.seen.get(phase, {}))
        kept.update((i, v) for i, v in pairs if v is not None)
        if mark is not None:
            floor = mark - overlap
            kept = {i: v for i, v in kept.items() if _after(v, floor)}
        if len(kept) > MAX_SEEN:
            kept = dict(sorted(kept.items(), key=lambda kv: kv[1], reverse=True)[:MAX_SEEN])
        return replace(self, seen={**self.seen, phase: kept})

    def advanced(self, phase: str, seen: datetime | None) -> Checkpoint:
        """This checkpoint with ``phase``'s watermark moved forward (never back) to ``seen``."""
        current: datetime | None = getattr(self, phase)
        if seen is None or (current is not None and seen <= current):
            return self
        if phase == "deleted":
            return replace(self, deleted=seen)
        return replace(self, modified=seen)


def _after(version: str, floor: datetime) -> bool:
    try:
        moment = _dt(version)
    except ValueError:
        return True  # unreadable: keep it; it only costs a slot
    return moment is None or moment >= floor


def _dt(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo("UTC"))
    return parsed


def filter_value(watermark: datetime, overlap: timedelta, timezone: str) -> str:
    """``modified_from`` in API2Cart's format, in ``timezone``, ``overlap`` before the mark."""
    return (watermark - overlap).astimezone(ZoneInfo(timezone)).strftime(FILTER_FORMAT)
