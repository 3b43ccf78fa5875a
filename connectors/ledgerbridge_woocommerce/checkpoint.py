"""Checkpoints: where an incremental read stopped, as an opaque string for the engine.

WooCommerce pages by number over a set that changes while we read it, so a
record modified mid-scan shifts every later row and page numbers alone would
skip one.  Reads are keyed on ``date_modified_gmt`` instead: each request asks
for ``modified_after`` = the last instant seen (minus a one-second overlap,
because whether WordPress treats the bound as inclusive is not documented) and
the ids already seen at that instant are skipped.  A page number is only
walked while the instant cannot advance (more than a page of ties).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ledgerbridge.errors import ValidationFailed

OVERLAP = timedelta(seconds=1)


@dataclass(frozen=True)
class Keyset:
    """The last modification instant read and the ids read at exactly that instant."""

    after: datetime | None = None
    ids: frozenset[str] = field(default_factory=frozenset)

    def seen(self, modified: datetime, external_id: str) -> bool:
        """Read before: older than the instant, or at it with an id already taken."""
        if self.after is None:
            return False
        return modified < self.after or (modified == self.after and external_id in self.ids)

    def advance(self, modified: datetime, external_id: str) -> Keyset:
        if self.after is None or modified > self.after:
            return Keyset(modified, frozenset({external_id}))
        if modified == self.after:
            return replace(self, ids=self.ids | {external_id})
        return self

    def query(self) -> dict[str, str]:
        """The filter to send: GMT dates, a second of overlap."""
        if self.after is None:
            return {}
        bound = self.after - OVERLAP
        return {"modified_after": bound.strftime("%Y-%m-%dT%H:%M:%S"), "dates_are_gmt": "true"}

    def lower_bound(self) -> datetime | None:
        """Anything modified before this came back only if the filter was ignored."""
        return None if self.after is None else self.after - OVERLAP

    def to_json(self) -> dict[str, Any]:
        return {
            "after": None if self.after is None else self.after.strftime("%Y-%m-%dT%H:%M:%S"),
            "ids": sorted(self.ids),
        }

    @classmethod
    def from_json(cls, data: Any) -> Keyset:
        if not isinstance(data, dict):
            raise ValueError("keyset must be an object")
        after = data.get("after")
        return cls(
            datetime.fromisoformat(after).replace(tzinfo=UTC) if after else None,
            frozenset(str(i) for i in data.get("ids") or []),
        )


def decode(checkpoint: str | None, entity: str) -> dict[str, Any]:
    """A stored checkpoint, or a clear error naming what is wrong with it.

    A bare ISO date (what ``Source.backfill(since=...)`` passes) starts a keyset there.
    """
    if not checkpoint:
        return {}
    text = checkpoint.strip()
    if not text.startswith("{"):
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationFailed(
                f"woocommerce: {entity} checkpoint {checkpoint!r} is neither JSON nor an ISO date",
                platform="woocommerce",
            ) from None
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        return {"main": Keyset(when).to_json()}
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return data
    except ValueError as exc:
        raise ValidationFailed(
            f"woocommerce: {entity} checkpoint {checkpoint!r} is not readable ({exc})",
            platform="woocommerce",
        ) from None


def encode(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
