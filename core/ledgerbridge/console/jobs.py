"""Replays with live progress: a replay runs after the POST has answered, one record at a
time through ``Engine.replay`` (the path of ``ledgerbridge replay``), and its page shows
done/total and each record's outcome as they come -- polled by a small static script
(``static/progress.js``), or by the page refreshing itself where scripts are off.

Progress lives in the console's process (a replay is short, and the records' states and
their ``operator_replay`` audit events are in the store for good); a job is seen only by
the user who started it, anyone else gets 404 for its id.
"""

from __future__ import annotations

import secrets
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..store import SyncRecord
from ..store import console_queries as q
from .auth import Principal
from .web import Console, not_found, redirect

KEPT = 200  # finished jobs remembered per process (the oldest are forgotten)


@dataclass
class Job:
    id: str
    owner: str
    title: str
    record_ids: list[int]
    single: bool
    done: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    results: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False
    error: str | None = None

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
    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()

    def start(self, owner: str, title: str, records: list[SyncRecord], *, single: bool) -> Job:
        """``single``: the replay of one record (its page opens the record when done); a
        group's page stays, listing each record, whatever its size."""
        job = Job(
            secrets.token_urlsafe(9), owner, title, [r.id for r in records if r.id is not None],
            single=single,
        )  # fmt: skip
        self._jobs[job.id] = job
        while len(self._jobs) > KEPT:
            self._jobs.popitem(last=False)
        return job

    def get(self, job_id: str, user: Principal) -> Job | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.owner == user.username else None


async def run(console: Console, user: Principal, job: Job) -> None:
    """Replay the job's records one by one, counting as each finishes."""
    from .pages import replay_records

    pipelines = console.pipelines(user)
    try:
        for record_id in job.record_ids:
            record = await anyio.to_thread.run_sync(
                q.record_in, console.store, record_id, pipelines
            )
            if record is None:
                outcome, label = "gone", f"record {record_id}"
            else:
                label = f"{record.entity} {record.external_id}"
                _, error = await replay_records(console, user, [record])
                after = await anyio.to_thread.run_sync(
                    q.record_in, console.store, record_id, pipelines
                )
                outcome = "error" if error else (after.state if after else "gone")
                if error:
                    job.error = error
            job.results.append({"id": record_id, "record": label, "outcome": outcome})
            job.outcomes[outcome] += 1
            job.done += 1
    finally:
        job.finished = True


def started(
    console: Console, request: Request, title: str, records: list[SyncRecord], *, single: bool
) -> Response:
    """Answer the POST with the job's page and replay in the background."""
    user: Principal = request.state.user
    job = console.jobs.start(user.username, title, records, single=single)
    response = redirect(request, f"/jobs/{job.id}")
    response.background = BackgroundTask(run, console, user, job)
    return response


async def job_page(console: Console, request: Request) -> Response:
    job = console.jobs.get(str(request.path_params["job_id"]), request.state.user)
    if job is None:
        raise not_found()
    return console.render(request, "job.html", job=job, state=job.as_json(console_base(request)))


async def job_json(console: Console, request: Request) -> Response:
    job = console.jobs.get(str(request.path_params["job_id"]), request.state.user)
    if job is None:
        raise not_found()
    return JSONResponse(job.as_json(console_base(request)), headers={"cache-control": "no-store"})


def console_base(request: Request) -> str:
    from .web import base

    return base(request)


__all__ = ["Job", "Jobs", "job_json", "job_page", "started"]
