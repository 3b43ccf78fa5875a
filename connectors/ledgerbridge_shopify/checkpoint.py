"""Shopify's incremental-read checkpoint: one lane of the kit's shared watermark checkpoint.

The next read asks for ``updated_at >= since - overlap`` (Shopify's filter is inclusive and
its index can lag a little) and skips every (id, updatedAt) pair remembered in the window, so
a re-read costs no duplicate work and a record that changed again is never skipped.  The kit
reads every layout; this one is written as Shopify's checkpoints always were,
``{"since": <max updatedAt>, "seen": {id: updatedAt}}`` with ``...Z`` stamps, so stored
checkpoints and the engine's view of them do not change.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from ledgerbridge.incremental import Checkpoint as Shared
from ledgerbridge.incremental import parse_instant

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

    def dumps(self) -> str:
        """The stored layout: ``{"since", "seen"}`` in Shopify's ``...Z`` form."""
        lane = self.lane(LANE)
        since = stamp(lane.mark) if lane.mark else None
        seen = {ident: stamp(version) for ident, version in lane.seen.items()}
        return json.dumps({"since": since, "seen": seen}, sort_keys=True)

    def search(self, overlap: timedelta, *, day_granularity: bool = False) -> str:
        """The Shopify search string for records changed since this checkpoint."""
        start = self.lane(LANE).start(overlap)
        if start is None:
            return ""
        if day_granularity:
            # customers match updated_at by whole day: ask from the start of that day
            return f"updated_at:>='{start.astimezone(UTC).date().isoformat()}'"
        return f"updated_at:>='{stamp(start)}'"
