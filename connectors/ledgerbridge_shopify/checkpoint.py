"""Shopify's incremental-read checkpoint: one lane of the kit's shared watermark checkpoint.

The next read asks for ``updated_at >= since - overlap`` (Shopify's filter is inclusive and
its index can lag a little) and skips every (id, updatedAt) pair remembered in the window, so a
re-read costs no duplicate work and a record that changed again (new updatedAt) is never
skipped.  Watermark, bound and the readable layouts (a bare ISO time, the kit's JSON) are the
kit's (a lane versioned by instant: pairs kept as ``instant_text``); it is still written as
``{"since": <max updatedAt>, "seen": {id: updatedAt}}`` with Shopify's own ``...Z`` stamps,
so stored checkpoints and the engine's view of them do not change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from ledgerbridge.incremental import MAX_SEEN, parse_instant
from ledgerbridge.incremental import Checkpoint as Shared

from .mapping_common import PLATFORM

LANE = "updated"


def stamp(value: str | datetime) -> str:
    """An instant in Shopify's ``updatedAt`` form (UTC, seconds, ``Z``)."""
    moment = parse_instant(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Checkpoint(Shared):
    LANES = (LANE,)
    PLATFORM = PLATFORM

    @property
    def since(self) -> datetime | None:
        return self.lane(LANE).mark

    @property
    def seen(self) -> dict[str, str]:
        """The remembered pairs as stored: ``{id: updatedAt}`` in Shopify's form."""
        return {ident: stamp(parse_instant(v)) for ident, v in self.lane(LANE).seen.items()}

    @classmethod
    def parse(cls, text: str | None) -> Checkpoint:
        return cls.loads(text)

    def dump(self) -> str:
        since = stamp(self.since) if self.since else None
        return json.dumps({"since": since, "seen": self.seen}, sort_keys=True)

    def search(self, overlap: timedelta, *, day_granularity: bool = False) -> str:
        """The Shopify search string for records changed since this checkpoint."""
        start = self.lane(LANE).start(overlap)
        if start is None:
            return ""
        if day_granularity:
            # customers match updated_at by whole day: ask from the start of that day
            return f"updated_at:>='{start.astimezone(UTC).date().isoformat()}'"
        return f"updated_at:>='{stamp(start)}'"

    def already_seen(self, ident: str, updated_at: str) -> bool:
        return self.lane(LANE).seen_at(ident, parse_instant(updated_at))

    def advance(self, records: Iterable[tuple[str, str]], overlap: timedelta) -> Checkpoint:
        """The checkpoint after ``records`` (id, updatedAt) have been recorded."""
        handed = [(ident, parse_instant(updated)) for ident, updated in records]
        return self.with_lane(LANE, self.lane(LANE).handed_over(handed, overlap))


__all__ = ["LANE", "MAX_SEEN", "Checkpoint", "stamp"]
