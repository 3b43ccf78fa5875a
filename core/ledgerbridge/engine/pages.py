"""Walking a source's change pages: each page cut into units of work sized to the target's
pace, its checkpoint stored once every change on it has a durable outcome.

Mixed into ``PipelineRunner`` (which sets the attributes named below); the units are
processed by ``UnitProcessing.process_many``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta

from ..canonical import EntityType
from ..config import PipelineConfig
from ..contracts.source import Change, ChangePage, Source
from ..errors import AuthFailed
from ..store import Store
from .journal import off_loop
from .outcomes import RecordOutcome, RunReport
from .units import UnitProcessing

UNIT_SECONDS = 0.25  # remote-call time one unit of work aims at (see ``_size_units``)
MAX_UNIT = 500


class PageReading(UnitProcessing):
    """The page-walking half of ``PipelineRunner``."""

    pipeline: PipelineConfig
    source: Source
    store: Store
    unit_size: int
    lease_ttl: timedelta
    _db = staticmethod(off_loop)
    _halt: Callable[[str, AuthFailed], None]
    _expect: Callable[[int], None]
    _stopping: Callable[[], bool]
    _renew: Callable[..., Awaitable[None]]

    async def _read(
        self,
        entity: EntityType,
        report: RunReport,
        *,
        since: str | None,
        backfill: bool,
        dry_run: bool,
        max_pages: int | None = None,
    ) -> None:
        checkpoint = since or await self._db(self.store.get_checkpoint, self.pipeline.id, entity)
        pages: AsyncIterator[ChangePage]
        if backfill:
            start = datetime.fromisoformat(since) if since else None
            pages = self.source.backfill(entity, start)
        else:
            pages = self.source.changes(entity, checkpoint)
        try:
            read, resumable = 0, False
            seen, announced = 0, 0  # progress: records read, records announced (``on_expect``)
            async for page in pages:
                if max_pages is not None and read >= max_pages and resumable:
                    # A bounded share is done and the stored checkpoint resumes right here.
                    report.more = True
                    aclose = getattr(pages, "aclose", None)
                    if aclose is not None:
                        await aclose()
                    return
                hint = seen + page.remaining if page.remaining is not None else 0
                seen += len(page.changes)
                if max(seen, hint) > announced:
                    self._expect(max(seen, hint) - announced)
                    announced = max(seen, hint)
                read += 1
                resumable = bool(page.checkpoint) and not dry_run
                if not await self._page(page, entity, report, dry_run):
                    report.more = True
                    return
            if announced > seen:  # the read is over: the platform's count was an estimate
                self._expect(seen - announced)
        except AuthFailed as exc:
            self._halt("source", exc)

    async def _page(
        self, page: ChangePage, entity: EntityType, report: RunReport, dry_run: bool
    ) -> bool:
        """Give a page's changes their outcomes, then store its checkpoint; ``False``: stopped."""
        for unit in self._units(page.changes):
            began = time.perf_counter()
            outcomes = await self.process_many(unit, dry_run=dry_run, should_stop=self._stopping)
            self._size_units(time.perf_counter() - began, outcomes)
            for outcome in outcomes:
                report.add(outcome)
            if self._stopping():
                # Stopped between records: the page's checkpoint is not stored, so the
                # rest of the page is read again next time (already-synced ones are no-ops).
                return False
            await self._renew(every=self.lease_ttl / 4)
        if page.checkpoint and not dry_run:
            # Every change above has a durable outcome: the checkpoint may move past them.
            await self._db(self.store.set_checkpoint, self.pipeline.id, entity, page.checkpoint)
            report.checkpoints[entity.value] = page.checkpoint
            await self._renew()
        return True

    def _units(self, changes: list[Change]) -> Iterator[list[Change]]:
        """Split a page into units of work of the current size; a record appears at most
        once per unit (a later change to it starts the next one)."""
        unit: list[Change] = []
        seen: set[tuple[EntityType, str]] = set()
        for change in changes:
            key = (change.entity, change.external_id)
            if len(unit) >= self.unit_size or key in seen:
                yield unit
                unit, seen = [], set()
            unit.append(change)
            seen.add(key)
        if unit:
            yield unit

    def _size_units(self, seconds: float, outcomes: list[RecordOutcome]) -> None:
        """Size the next unit so its remote calls take about ``UNIT_SECONDS``.

        A crash inside a unit leaves its intents without results, and each costs a
        look-up in the target on the next run: against a slow, rate-limited target
        a unit is a record or two; against a fast one the bookkeeping of hundreds
        of records is shared by a few transactions."""
        writes = sum(len(o.writes) for o in outcomes)
        if not writes:
            return  # records with nothing to write say nothing about the target's pace
        per_write = seconds / writes
        per_record = per_write * max(1.0, writes / max(1, len(outcomes)))
        wanted = int(UNIT_SECONDS / per_record) if per_record > 0 else MAX_UNIT
        self.unit_size = max(1, min(MAX_UNIT, wanted, self.unit_size * 4))
