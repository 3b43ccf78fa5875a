"""Re-runs of records already known: the retry sweep, replays and webhook hints, each
reading the record fresh from the source and processing it as a change.

Mixed into ``PipelineRunner`` (which sets the attributes named below).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import date
from typing import Any

from ..canonical import EntityType
from ..config import PipelineConfig
from ..contracts.source import Change, Source
from ..errors import AuthFailed, NotFound, ReconnectNeeded, SyncError
from ..store import InboxEvent, RecordState, SyncRecord
from ..store.types import utcnow
from .batch import RecordRow
from .journal import Journal, off_loop
from .outcomes import RecordOutcome, RunReport
from .units import UnitProcessing

DAY_RECORD = "day"  # a daily summary's day whose money could not be posted (daily_money.py)


class Reruns(UnitProcessing):
    """The re-running half of ``PipelineRunner``."""

    pipeline: PipelineConfig
    source: Source
    journal: Journal
    halted: ReconnectNeeded | None
    _db = staticmethod(off_loop)
    _expect: Callable[[int], None]
    _stopping: Callable[[], bool]
    lease: Callable[[], AbstractAsyncContextManager[Any]]
    target_reachable: Callable[..., Awaitable[bool]]
    record_halt: Callable[..., Awaitable[None]]
    today: Callable[[], date]

    async def refetch(self, record: RecordRow | SyncRecord, *, force: bool = True) -> RecordOutcome:
        """Read the record again from the source and process it (retries, replays, webhooks)."""
        entity = EntityType(record.entity)
        try:
            fresh = await self.source.fetch(entity, record.external_id)
            change = Change(entity, record.external_id, _version_of(fresh), record=fresh)
        except NotFound:
            change = Change(entity, record.external_id, None, deleted=True)
        except SyncError as exc:
            change = Change(entity, record.external_id, record.source_version, error=exc)
        return await self.process(change, force=force)

    async def retry_due(self, report: RunReport | None = None) -> list[RecordOutcome]:
        due = await self._db(self.journal.records, [RecordState.RETRYING], utcnow())
        self._expect(len(due))
        outcomes = []
        for record in due:
            if self._stopping():
                break
            outcome = await self.refetch(record)
            if self.halted is not None:
                break
            outcomes.append(outcome)
            if report is not None:
                report.add(outcome)
        return outcomes

    async def replay(self, records: list[SyncRecord]) -> RunReport:
        """Run parked records again, each read fresh from the source (``force``: even at
        the version they were parked at).  A daily summary's ``day`` record (its money
        could not be posted) is no source record: replaying it closes the days again."""
        report = RunReport(self.pipeline.id)
        days = [r for r in records if r.entity == DAY_RECORD]
        async with self.lease():
            if await self.target_reachable():
                self._expect(len(records))
                for record in records:
                    if record.entity == DAY_RECORD:
                        continue
                    outcome = await self.refetch(record)
                    if self.halted is not None:
                        break
                    report.add(outcome)
                if days and self.halted is None:
                    await self._replay_days(days, report)
        await self.record_halt(report)
        return report

    async def _replay_days(self, days: list[SyncRecord], report: RunReport) -> None:
        """Close the summary days again (what a run does after its reads) and report each
        replayed ``day`` record in the state that leaves it."""
        try:
            if self.summarizing:
                report.writes += len(await self.close_days(self.today()))
        except AuthFailed as exc:
            self._halt("target", exc)
            return
        for day in days:
            row = await self._db(self.journal.record, day.entity, day.external_id)
            state = RecordState(row.state) if row.state else RecordState.FAILED
            report.add(
                RecordOutcome(
                    self.pipeline.id, day.entity, day.external_id, None, state, record_id=row.id
                )
            )

    async def handle_event(self, event: InboxEvent) -> RecordOutcome:
        """A webhook is a hint: read the authoritative record, then process it as a change."""
        entity = EntityType(event.entity)
        if event.deleted:
            change = Change(entity, event.external_id, event.version, deleted=True)
            return await self.process(change)
        record = await self._db(self.journal.record, event.entity, event.external_id)
        return await self.refetch(record, force=False)


def _version_of(record: Any) -> str | None:
    source = getattr(record, "source", None)
    return getattr(source, "version", None)
