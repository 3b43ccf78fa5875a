"""The incremental-read checkpoint every polling source shares: watermarks with an overlap.

A platform that lists records by modification time is read from a *watermark* (the newest
instant durably handed over) minus an *overlap* window, because list filters are inclusive or
exclusive by undocumented whim, their time zone is sometimes unknown and search indexes lag.
Re-reading the window costs nothing twice: the ``(id, version)`` pairs handed over inside it
are remembered (``seen``, bounded), so a record comes back only when it changed again.

A checkpoint holds one ``Watermark`` per *lane* -- one ordered stream of the platform (orders
and trashed orders, modified and deleted) -- and whatever little state the connector keeps
beside them (``extra``: a pass mode, a page number).  It is stored as JSON::

    {"<lane>": {"after": "<UTC ISO, no suffix>", "seen": {"<id>": "<version>"}}, ...extra}

and read from that, from a bare ISO date-time (``Source.backfill(since=...)``: every named
lane starts there), and from the layouts the built-in connectors stored before it existed --
Shopify ``{"since", "seen"}``, API2Cart ``{"modified", "deleted", "seen": {phase: {...}}}``,
WooCommerce ``{"<stream>": {"after", "ids"}}`` -- so a deployment's checkpoints still resume.
A lane whose versions are the records' modification instants (``handed_over``/``seen_at``)
keeps them as ``instant_text``; Shopify's stored ``...Z`` versions are read into that form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Self

from ..errors import ValidationFailed

MAX_SEEN = 2000
"""Per lane.  A pair dropped from ``seen`` is only handed over again (the engine treats an
unchanged version as done) -- never skipped -- so the bound trades a little work for size."""

_LANE_KEYS = frozenset({"after", "since", "seen", "ids"})


class CheckpointUnreadable(ValidationFailed, ValueError):
    """A stored checkpoint that is neither this layout, a known older one, nor an ISO date."""


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date-time (``Z`` accepted); without an offset it is UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def instant_text(moment: datetime) -> str:
    """The stored form of an instant: UTC, ISO, no suffix (``2026-03-02T10:00:00``)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat()


def _not_before(version: str, floor: datetime) -> bool:
    try:  # an instant, or an instant then the record's own version (``Walk``, keyset lanes)
        return parse_instant(version.split(" ", 1)[0]) >= floor
    except ValueError:
        return True  # a version that is not a time: kept; it only costs a slot


@dataclass(frozen=True)
class Watermark:
    """One lane: the newest instant handed over and the pairs handed over near it."""

    mark: datetime | None = None
    seen: Mapping[str, str] = field(default_factory=dict)  # id -> version

    @property
    def empty(self) -> bool:
        return self.mark is None and not self.seen

    def start(self, overlap: timedelta) -> datetime | None:
        """Where the next read asks from: ``overlap`` before the mark (None: from the start)."""
        return None if self.mark is None else self.mark - overlap

    def already_seen(self, ident: str, version: str | None) -> bool:
        """This exact version of the record was handed over inside the window."""
        return version is not None and self.seen.get(ident) == version

    def seen_at(self, ident: str, moment: datetime) -> bool:
        """The record was handed over as modified at ``moment`` (a lane whose versions are
        instants, remembered by ``handed_over``)."""
        return self.already_seen(ident, instant_text(moment))

    def advanced(self, moment: datetime | None) -> Watermark:
        """The mark moved forward (never back) to ``moment``."""
        if moment is None or (self.mark is not None and moment <= self.mark):
            return self
        return replace(self, mark=moment)

    def remember(
        self, pairs: Iterable[tuple[str, str | None]], overlap: timedelta, *, limit: int = MAX_SEEN
    ) -> Watermark:
        """``pairs`` added to ``seen``; pairs whose version is a time older than the window
        before the mark are forgotten (the next read does not ask for them), the newest kept."""
        kept = dict(self.seen)
        kept.update((i, v) for i, v in pairs if v is not None)
        if self.mark is not None:
            floor = self.mark - overlap
            kept = {i: v for i, v in kept.items() if _not_before(v, floor)}
        if len(kept) > limit:
            kept = dict(sorted(kept.items(), key=lambda kv: kv[1], reverse=True)[:limit])
        return replace(self, seen=kept)

    def handed_over(
        self, records: Iterable[tuple[str, datetime]], overlap: timedelta, *, limit: int = MAX_SEEN
    ) -> Watermark:
        """After ``records`` (id, modified) were handed over: the mark at the newest of them,
        each remembered with its instant as version (``instant_text``)."""
        records = list(records)
        lane = self
        for _, moment in records:
            lane = lane.advanced(moment)
        return lane.remember(((i, instant_text(m)) for i, m in records), overlap, limit=limit)

    def to_json(self) -> dict[str, Any]:
        return {
            "after": None if self.mark is None else instant_text(self.mark),
            "seen": dict(sorted(self.seen.items())),
        }

    @classmethod
    def from_json(cls, data: Any) -> Watermark:
        """A lane in this layout or an older one (``since``; ``ids`` at the mark; a bare
        ISO string)."""
        if data is None:
            return cls()
        if isinstance(data, str):
            return cls(parse_instant(data))
        if not isinstance(data, dict):
            raise ValueError(f"a lane is an object, not {type(data).__name__}")
        stamp = data.get("after", data.get("since"))
        mark = parse_instant(stamp) if stamp else None
        seen = {str(k): str(v) for k, v in (data.get("seen") or {}).items()}
        if data.get("ids") and mark is not None:  # ids read at exactly the mark
            seen.update((str(i), instant_text(mark)) for i in data["ids"])
        return cls(mark, seen)


@dataclass(frozen=True)
class Checkpoint:
    """Named lanes plus the connector's own small state; empty lanes are not kept.

    A connector may subclass it to name its lanes and platform once (``LANES``,
    ``PLATFORM``: the defaults of ``loads``)."""

    LANES: ClassVar[tuple[str, ...]] = ("main",)
    PLATFORM: ClassVar[str] = ""

    lanes: Mapping[str, Watermark] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lanes", {k: v for k, v in self.lanes.items() if not v.empty})

    def lane(self, name: str) -> Watermark:
        return self.lanes.get(name) or Watermark()

    def with_lane(self, name: str, lane: Watermark) -> Self:
        return replace(self, lanes={**self.lanes, name: lane})

    def with_extra(self, **extra: Any) -> Self:
        return replace(self, extra={**self.extra, **extra})

    def advanced(self, name: str, moment: datetime | None) -> Self:
        return self.with_lane(name, self.lane(name).advanced(moment))

    def dumps(self) -> str:
        data: dict[str, Any] = dict(self.extra)
        data.update((name, lane.to_json()) for name, lane in self.lanes.items())
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def loads(
        cls,
        text: str | None,
        *,
        lanes: Iterable[str] | None = None,
        platform: str | None = None,
        what: str = "",
    ) -> Self:
        """A stored checkpoint.  ``lanes`` name the lanes a bare ISO date-time starts (the
        first also takes an older single-lane layout); anything unreadable is a
        ``CheckpointUnreadable`` naming the platform, never a read from the start."""
        if not text or not text.strip():
            return cls()
        names = list(cls.LANES if lanes is None else lanes)
        platform = cls.PLATFORM if platform is None else platform
        try:
            if not text.lstrip().startswith("{"):
                start = Watermark(parse_instant(text))
                return cls({name: start for name in names})
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return cls._from_object(data, names)
        except (ValueError, TypeError, AttributeError) as exc:
            label = " ".join(p for p in (what, "checkpoint") if p)
            raise CheckpointUnreadable(
                f"{platform + ': ' if platform else ''}{label} {text[:80]!r} is not readable: "
                f"neither this connector's JSON checkpoint nor an ISO 8601 date-time ({exc})",
                platform=platform or None,
            ) from None

    @classmethod
    def _from_object(cls, data: dict[str, Any], names: list[str]) -> Self:
        found: dict[str, Watermark] = {}
        extra: dict[str, Any] = {}
        legacy_seen = data.get("seen")
        if "since" in data:  # Shopify's single lane: {"since", "seen": {id: "<...>Z"}}
            lane = Watermark.from_json({"since": data["since"]})
            pairs = {
                str(k): instant_text(parse_instant(str(v)))
                for k, v in dict(legacy_seen or {}).items()
            }
            found[names[0]] = replace(lane, seen=pairs)
            return cls(found)
        for key, value in data.items():
            if key in ("v", "seen"):
                continue
            if (
                (isinstance(value, dict) and value.keys() & _LANE_KEYS)
                or value is None
                or (isinstance(value, str) and key in names)
            ):
                found[key] = Watermark.from_json(value)
            else:
                extra[key] = value
        if isinstance(legacy_seen, dict):  # API2Cart's {"seen": {phase: {id: version}}}
            for name, pairs in legacy_seen.items():
                lane = found.get(name) or Watermark()
                seen = {**lane.seen, **{str(i): str(v) for i, v in dict(pairs).items()}}
                found[name] = replace(lane, seen=seen)
        return cls(found, extra)


__all__ = [
    "MAX_SEEN",
    "Checkpoint",
    "CheckpointUnreadable",
    "Watermark",
    "instant_text",
    "parse_instant",
]
