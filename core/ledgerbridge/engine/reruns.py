"""Re-runs of records already known: the retry sweep, replays and webhook hints, each
reading the record fresh from the source and processing it as a change.

Mixed into ``PipelineRunner`` (which sets the attributes named below).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from ..canonical import EntityType
from ..config import PipelineConfig
from ..contracts.source import Change, Source
from ..errors import NotFound, ReconnectNeeded, SyncError
from ..store import InboxEvent, RecordState, SyncRecord
from ..store.types import utcnow
from .batch import RecordRow
from .journal import Journal, off_loop
from .outcomes import RecordOutcome, RunReport
from .units import UnitProcessing


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
        the version they were parked at)."""
        report = RunReport(self.pipeline.id)
        async with self.lease():
            if await self.target_reachable():
                self._expect(len(records))
                for record in records:
                    outcome = await self.refetch(record)
                    if self.halted is not None:
                        break
                    report.add(outcome)
        await self.record_halt(report)
        return report

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
