"""What a unit of work writes after its remote calls: the ``Batch`` the journal commits in
one transaction, and the record rows and state ``Transition``s it carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import SyncError
from ..store import RecordState, SyncRecord


@dataclass(frozen=True, slots=True)
class RecordRow:
    """What a unit of work needs of a sync record (read per row without ORM machinery)."""

    id: int
    entity: str
    external_id: str
    state: str
    source_version: str | None
    synced_version: str | None
    attempt_count: int


@dataclass(frozen=True)
class Transition:
    """A record moving to a new state, with the step kept in its history."""

    record: RecordRow | SyncRecord
    state: RecordState
    started_at: datetime
    version: str | None = None
    error: SyncError | None = None
    reason: str | None = None
    next_attempt_at: datetime | None = None
    request_summary: dict[str, Any] | None = None
    number: str | None = None  # the order number the source shows (``Order.number``)


@dataclass
class Batch:
    """What a unit of work writes after its remote calls, committed in ONE transaction.

    Intents were recorded durably before the calls, so nothing here is needed
    for exactly-once: a crash before the commit leaves intents without results,
    which the next run resolves by looking the documents up in the target.
    """

    results: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # key -> status, id
    superseded: list[tuple[str, str]] = field(default_factory=list)  # (scope, completed key)
    bindings: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    audits: list[dict[str, Any]] = field(default_factory=list)  # rows of ``Journal.audit``
    transitions: list[Transition] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def complete(
        self, key: str, scope: str, target_id: str | None, *, adopted: bool, supersede: bool
    ) -> None:
        """The write is done; ``supersede``: close the scope's other pending intents (earlier
        source versions of the same write, settled by this one)."""
        self.results[key] = ("adopted" if adopted else "done", target_id)
        if supersede:
            self.superseded.append((scope, key))

    def close(self, key: str, status: str) -> None:
        """``failed`` (the call certainly changed nothing) or ``not_sent``."""
        self.results[key] = (status, None)

    def add_binding(self, row: dict[str, Any]) -> None:
        """A row of ``Journal.binding_row``; the last one for the same binding wins."""
        self.bindings[(row["entity"], row["external_id"], row["target_kind"])] = row

    def __bool__(self) -> bool:
        return bool(self.results or self.bindings or self.audits or self.transitions)
