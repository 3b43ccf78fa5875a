"""Progress of long commands (``sync``, ``replay``, backfills): done, total, ETA -- on stderr.

Why here and not in the engine: the engine only says what it learns -- ``on_expect``
(``n`` more records to come for a pipeline: a page read, the due retries, the records
to replay) and ``on_record`` (one record reached its outcome) -- and this module turns
that into what a person or a log reader sees.  Results stay on stdout, so ``--json``
output remains parseable while progress runs.

* On a terminal (stderr is a TTY, human logs): a live ``rich.progress`` bar per
  pipeline with ``done/total``, counters, elapsed time and the time remaining.
* Otherwise (piped, cron, a container, or ``--log-format json``): a log line per
  pipeline every ``LEDGERBRIDGE_PROGRESS_EVERY`` seconds (default 10) and one when
  it ends -- ``north-orders: 40/200 done, ETA 12s`` with ``done``, ``total`` and
  ``eta_seconds`` as fields.

A sync's total is what is known so far: the records of the pages read (a source
reads a page before its records are processed), so it grows as pages arrive;
a replay's and the due retries' totals are known from the start.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .engine import RecordOutcome
from .logs import bound, json_logs
from .store import RecordState

log = logging.getLogger("ledgerbridge.progress")

EVERY_ENV = "LEDGERBRIDGE_PROGRESS_EVERY"
PARKED = (RecordState.FAILED, RecordState.NEEDS_MAPPING, RecordState.CONFLICT)
COUNTERS = "written {task.fields[written]} · parked {task.fields[parked]}"


@dataclass
class Count:
    """One pipeline's figures."""

    total: int = 0
    done: int = 0
    written: int = 0
    parked: int = 0
    began: float = field(default_factory=time.monotonic)
    logged: float = field(default_factory=time.monotonic)

    def eta(self) -> float | None:
        """Seconds left at the pace so far (``None`` before the first record)."""
        if self.done <= 0 or self.total <= self.done:
            return None if self.done <= 0 else 0.0
        return (time.monotonic() - self.began) / self.done * (self.total - self.done)


def _every() -> float:
    try:
        return max(0.0, float(os.environ.get(EVERY_ENV, "10")))
    except ValueError:
        return 10.0


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    whole = int(seconds + 0.5)
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


class ProgressReport:
    """``with ProgressReport("syncing") as progress: Engine(..., on_record=progress.record,
    on_expect=progress.expect)``; see the module doc for what it shows where."""

    def __init__(self, label: str, *, live: bool | None = None, every: float | None = None) -> None:
        self.label = label
        self.every = _every() if every is None else every
        if live is None:
            live = sys.stderr.isatty() and not json_logs()
        self.counts: dict[str, Count] = {}
        self.bar: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        if live:
            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=None),
                MofNCompleteColumn(),
                TextColumn(COUNTERS),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )

    # ----------------------------------------------------------------- engine callbacks

    def expect(self, pipeline_id: str, count: int) -> None:
        """``count`` more records are coming for ``pipeline_id`` (fewer when negative: an
        estimate corrected once the read is over)."""
        figures = self._count(pipeline_id)
        figures.total = max(figures.done, figures.total + count)
        self._show(pipeline_id, figures)

    def record(self, outcome: RecordOutcome) -> None:
        """One record reached its outcome."""
        figures = self._count(outcome.pipeline_id)
        figures.done += 1
        figures.total = max(figures.total, figures.done)
        figures.written += sum(1 for _, result in outcome.writes if result == "written")
        figures.parked += 1 if outcome.state in PARKED else 0
        self._show(outcome.pipeline_id, figures)

    def waiting(self, seconds: float, reason: str) -> None:
        """A rate-limit wait: shown on the bar (the log line says it already)."""
        if self.bar is not None:
            for task in self.tasks.values():
                self.bar.update(task, description=f"[yellow]waiting {seconds:.0f}s ({reason})[/]")

    # ----------------------------------------------------------------- rendering

    def _count(self, pipeline_id: str) -> Count:
        if pipeline_id not in self.counts:
            self.counts[pipeline_id] = Count()
            if self.bar is not None:
                self.tasks[pipeline_id] = self.bar.add_task(
                    f"{self.label} {pipeline_id}", total=None, written=0, parked=0
                )
            else:
                self.counts[pipeline_id].logged = float("-inf")  # the first figures: at once
        return self.counts[pipeline_id]

    def _show(self, pipeline_id: str, figures: Count) -> None:
        if self.bar is not None:
            self.bar.update(
                self.tasks[pipeline_id],
                description=f"{self.label} {pipeline_id}",
                total=figures.total or None,
                completed=figures.done,
                written=figures.written,
                parked=figures.parked,
            )
            return
        now = time.monotonic()
        if now - figures.logged >= self.every:
            figures.logged = now
            self._log(pipeline_id, figures)

    def _log(self, pipeline_id: str, figures: Count, final: bool = False) -> None:
        eta = figures.eta()
        fields: dict[str, Any] = {
            "done": figures.done,
            "total": figures.total,
            "written": figures.written,
            "parked": figures.parked,
            "eta_seconds": None if eta is None else round(eta, 1),
        }
        with bound(pipeline=pipeline_id):
            if final:
                seconds = time.monotonic() - figures.began
                log.info(
                    "%s: %d/%d done in %s (written %d, parked %d)", pipeline_id, figures.done,
                    figures.total, _clock(seconds), figures.written, figures.parked,
                    extra=fields,
                )  # fmt: skip
            else:
                log.info(
                    "%s: %d/%d done, ETA %s", pipeline_id, figures.done, figures.total,
                    _clock(eta), extra=fields,
                )  # fmt: skip

    # ----------------------------------------------------------------- lifetime

    def __enter__(self) -> ProgressReport:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            for pipeline_id, task in self.tasks.items():
                self.bar.update(task, description=f"done {pipeline_id}")
            self.bar.stop()
            return
        for pipeline_id, figures in self.counts.items():
            self._log(pipeline_id, figures, final=True)


__all__ = ["EVERY_ENV", "ProgressReport"]
