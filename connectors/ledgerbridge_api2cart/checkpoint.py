"""The opaque checkpoint of an API2Cart walk: the newest ``modified_at`` recorded so far.

Cursors are not stored: they belong to one walk and may expire.  The
watermark is the returned ``modified_at.value`` (it carries an offset), and the
next walk starts ``modified_overlap`` before it because the filter's time
zone is undocumented; re-read records are de-duplicated by (id, version).
Deleted orders (``is_deleted=true``) keep a watermark of their own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

FILTER_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Checkpoint:
    modified: datetime | None = None
    deleted: datetime | None = None

    @classmethod
    def loads(cls, text: str | None) -> Checkpoint:
        """Parse a stored checkpoint; a bare ISO date-time (``backfill``) sets both watermarks."""
        if not text:
            return cls()
        try:
            if text.lstrip().startswith("{"):
                data = json.loads(text)
                return cls(modified=_dt(data.get("modified")), deleted=_dt(data.get("deleted")))
            moment = _dt(text)
        except (ValueError, AttributeError):
            raise ValueError(
                f"API2Cart checkpoint {text[:80]!r} is neither this connector's JSON "
                "checkpoint nor an ISO 8601 date-time"
            ) from None
        return cls(modified=moment, deleted=moment)

    def dumps(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "modified": self.modified.isoformat() if self.modified else None,
                "deleted": self.deleted.isoformat() if self.deleted else None,
            },
            sort_keys=True,
        )

    def advanced(self, phase: str, seen: datetime | None) -> Checkpoint:
        """This checkpoint with ``phase``'s watermark moved forward (never back) to ``seen``."""
        current: datetime | None = getattr(self, phase)
        if seen is None or (current is not None and seen <= current):
            return self
        return replace(self, **{phase: seen})


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
