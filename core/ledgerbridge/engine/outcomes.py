"""What a run reports: one ``RecordOutcome`` per record, a ``RunReport`` per pipeline run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..errors import ReconnectNeeded, SyncError
from ..store import RecordState
from .planner import Plan

PARKED = ("failed", "needs_mapping", "conflict")  # states a person must act on


@dataclass(frozen=True)
class RecordOutcome:
    """What happened to one source record in one pass."""

    pipeline_id: str
    entity: str
    external_id: str
    version: str | None
    state: RecordState | None  # None: unchanged since the last sync (no work)
    writes: tuple[tuple[str, str], ...] = ()  # (operation, outcome)
    reason: str | None = None
    record_id: int | None = None
    plan: Plan | None = None
    error: SyncError | None = None  # why it was parked (a dry run explains it from this)
    number: str | None = None  # the order number a merchant sees, when the record has one


@dataclass
class RunReport:
    pipeline_id: str
    dry_run: bool = False
    read: int = 0
    unchanged: int = 0
    writes: int = 0
    adopted: int = 0
    states: Counter[str] = field(default_factory=Counter)
    checkpoints: dict[str, str] = field(default_factory=dict)
    plans: list[Plan] = field(default_factory=list)
    # A dry run's outcomes: what each record would come to (its plan, or why it would park).
    previews: list[RecordOutcome] = field(default_factory=list)
    # Why the run stopped early: a dead connection (reconnect), or another worker's lease.
    halted: ReconnectNeeded | None = None
    busy: str | None = None
    more: bool = False  # stopped early (``max_pages`` or ``should_stop``): work remains

    @property
    def parked(self) -> int:
        return sum(self.states[s] for s in PARKED)

    @property
    def retrying(self) -> int:
        return self.states["retrying"]

    def add(self, outcome: RecordOutcome) -> None:
        self.read += 1
        if outcome.state is None:
            self.unchanged += 1
            return
        self.states[outcome.state.value] += 1
        self.writes += sum(1 for _, result in outcome.writes if result == "written")
        self.adopted += sum(1 for _, result in outcome.writes if result == "adopted")
        if outcome.plan is not None and self.dry_run:
            self.plans.append(outcome.plan)
        if self.dry_run:
            self.previews.append(outcome)

    @property
    def parks(self) -> list[RecordOutcome]:
        """A dry run's records that would be parked."""
        return [o for o in self.previews if o.state is not None and o.state.value in PARKED]


__all__ = ["PARKED", "RecordOutcome", "RunReport"]
