"""Replays with live progress: a replay runs after the POST has answered, one record at a
time through ``Engine.replay`` (the path of ``ledgerbridge replay``), and its page shows
done/total and each record's outcome as they come -- polled by a small static script
(``static/progress.js``), or by the page refreshing itself where scripts are off.

Progress is written to the store as each record finishes (``store/console_jobs``), so any
console process serving the same store shows it -- behind a load balancer, or after a
restart; a job is seen only by the user who started it, anyone else gets 404 for its id.
A job whose runner stopped (its process ended mid-replay) says so once it has been silent
for ``STALLED``: the records it did not reach are as they were, replay them again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..store import SyncRecord
from ..store import console_jobs as stored
from ..store import console_queries as q
from ..store.console_models import ReplayJob
from ..store.types import utcnow
from .auth import Principal
from .web import Console, not_found, redirect

STALLED = timedelta(minutes=15)  # no record finished for this long: the runner is gone


@dataclass
class Job:
    id: str
    owner: str
    title: str
    record_ids: list[int]
    single: bool
    done: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False
    error: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, row: ReplayJob) -> Job:
        job = cls(
            row.id, row.owner, row.title, list(row.record_ids), row.single, row.done,
            dict(row.outcomes), list(row.results), row.finished, row.error, row.updated_at,
        )  # fmt: skip
        if not job.finished and row.updated_at < utcnow() - STALLED:
            job.finished = True
            job.error = (
                f"this replay stopped after {job.done} of {len(job.record_ids)} records (the "
                "console process running it ended); the others are as they were: replay them"
            )
        return job

    def as_json(self, base: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "total": len(self.record_ids),
            "done": self.done,
            "finished": self.finished,
            "outcomes": dict(self.outcomes),
            "results": self.results,
            "error": self.error,
        }
        if self.finished and self.single and self.results:
            only = self.results[0]
            data["next"] = f"{base}/records/{only['id']}?replayed={only['outcome']}"
        return data


class Jobs:
    """The console's replay jobs, kept in its store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def start(self, owner: str, title: str, records: list[SyncRecord], *, single: bool) -> Job:
        """``single``: the replay of one record (its page opens the record when done); a
        group's page stays, listing each record, whatever its size."""
        ids = [r.id for r in records if r.id is not None]
        return Job.of(stored.start_job(self.store, owner, title, ids, single=single))

    def get(self, job_id: str, user: Principal) -> Job | None:
        row = stored.get_job(self.store, job_id)
        return Job.of(row) if row is not None and row.owner == user.username else None


async def run(console: Console, user: Principal, job: Job) -> None:
    """Replay the job's records one by one, writing each outcome to the store."""
    from .pages import replay_records

    pipelines = console.pipelines(user)
    store = console.store
    try:
        for record_id in job.record_ids:
            record = await anyio.to_thread.run_sync(q.record_in, store, record_id, pipelines)
            error = None
            if record is None:
                outcome, label = "gone", f"record {record_id}"
            else:
                label = f"{record.entity} {record.external_id}"
                _, error = await replay_records(console, user, [record])
                after = await anyio.to_thread.run_sync(q.record_in, store, record_id, pipelines)
                outcome = "error" if error else (after.state if after else "gone")
            result = {"id": record_id, "record": label, "outcome": outcome}
            await anyio.to_thread.run_sync(stored.add_result, store, job.id, result, error)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(stored.finish_job, store, job.id)


async def started(
    console: Console, request: Request, title: str, records: list[SyncRecord], *, single: bool
) -> Response:
    """Answer the POST with the job's page (the job stored first) and replay in the
    background."""
    user: Principal = request.state.user
    job = await anyio.to_thread.run_sync(
        lambda: console.jobs.start(user.username, title, records, single=single)
    )
    response = redirect(request, f"/jobs/{job.id}")
    response.background = BackgroundTask(run, console, user, job)
    return response


async def job_page(console: Console, request: Request) -> Response:
    job = await anyio.to_thread.run_sync(
        console.jobs.get, str(request.path_params["job_id"]), request.state.user
    )
    if job is None:
        raise not_found()
    return console.render(request, "job.html", job=job, state=job.as_json(console_base(request)))


async def job_json(console: Console, request: Request) -> Response:
    job = await anyio.to_thread.run_sync(
        console.jobs.get, str(request.path_params["job_id"]), request.state.user
    )
    if job is None:
        raise not_found()
    return JSONResponse(job.as_json(console_base(request)), headers={"cache-control": "no-store"})


def console_base(request: Request) -> str:
    from .web import base

    return base(request)


__all__ = ["Job", "Jobs", "job_json", "job_page", "started"]
