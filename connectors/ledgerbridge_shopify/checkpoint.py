"""The incremental-read checkpoint: how far the engine has durably recorded, plus an overlap.

Stored as JSON ``{"since": <max updatedAt recorded>, "seen": {id: updatedAt}}``.
The next read asks for ``updated_at >= since - overlap`` (Shopify's filter is
inclusive and its index can lag a little), and skips every (id, updatedAt)
pair in ``seen`` -- the records of the overlap window already handed over --
so a re-read costs no duplicate work and a record that changed again (new
updatedAt) is never skipped.  A plain ISO timestamp is accepted as ``since``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ledgerbridge.errors import ValidationFailed

MAX_SEEN = 2000  # bound on the overlap window's remembered records (the checkpoint stays small)


def _parse(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Checkpoint:
    since: datetime | None = None
    seen: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> Checkpoint:
        if not text:
            return cls()
        try:
            if text.lstrip().startswith("{"):
                data = json.loads(text)
                since = data.get("since")
                return cls(_parse(since) if since else None, dict(data.get("seen") or {}))
            return cls(_parse(text))
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValidationFailed(
                f"shopify checkpoint {text[:80]!r} is neither an ISO time nor a checkpoint JSON",
                platform="shopify",
            ) from exc

    def dump(self) -> str:
        since = _iso(self.since) if self.since else None
        return json.dumps({"since": since, "seen": self.seen}, sort_keys=True)

    def search(self, overlap: timedelta, *, day_granularity: bool = False) -> str:
        """The Shopify search string for records changed since this checkpoint."""
        if self.since is None:
            return ""
        start = self.since - overlap
        if day_granularity:
            # customers match updated_at by whole day: ask from the start of that day
            return f"updated_at:>='{start.astimezone(UTC).date().isoformat()}'"
        return f"updated_at:>='{_iso(start)}'"

    def already_seen(self, ident: str, updated_at: str) -> bool:
        return self.seen.get(ident) == _iso(_parse(updated_at))

    def advance(self, records: Iterable[tuple[str, str]], overlap: timedelta) -> Checkpoint:
        """The checkpoint after ``records`` (id, updatedAt) have been recorded."""
        seen = dict(self.seen)
        since = self.since
        for ident, stamp in records:
            moment = _parse(stamp)
            seen[ident] = _iso(moment)
            if since is None or moment > since:
                since = moment
        if since is not None:
            floor = since - overlap
            seen = {k: v for k, v in seen.items() if _parse(v) >= floor}
        if len(seen) > MAX_SEEN:
            # keep the newest; a record dropped here is only read again (the engine
            # treats an unchanged version as done) -- never skipped
            newest = sorted(seen.items(), key=lambda kv: kv[1], reverse=True)[:MAX_SEEN]
            seen = dict(newest)
        return Checkpoint(since, seen)
