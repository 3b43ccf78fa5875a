"""The console's replay jobs in the store (``console_replay_jobs``, migration 0009).

A replay runs in the console process that took the POST; its progress is written here
record by record, so the progress page -- polled by any console process serving the same
store, before or after a restart -- reads the same figures.  Finished jobs are kept a week.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlmodel import col, delete

from .console_models import ReplayJob
from .store import Store
from .types import utcnow

KEPT_FOR = timedelta(days=7)  # finished jobs older than this are removed as new ones start


def start_job(
    store: Store, owner: str, title: str, record_ids: list[int], *, single: bool
) -> ReplayJob:
    """A new job of ``owner``'s, nothing done yet (and the week-old finished jobs gone)."""
    job = ReplayJob(
        id=secrets.token_urlsafe(12), owner=owner, title=title, record_ids=list(record_ids),
        single=single,
    )  # fmt: skip
    with store.session() as s:
        s.exec(
            delete(ReplayJob).where(
                col(ReplayJob.finished), col(ReplayJob.created_at) < utcnow() - KEPT_FOR
            )
        )
        s.add(job)
        s.flush()
        s.refresh(job)
        s.expunge(job)
    return job


def get_job(store: Store, job_id: str) -> ReplayJob | None:
    with store.session() as s:
        job = s.get(ReplayJob, job_id)
        if job is not None:
            s.expunge(job)
        return job


def add_result(store: Store, job_id: str, result: dict[str, Any], error: str | None) -> None:
    """One more record replayed: its result (id, record, outcome), and the error, if any,
    that stopped its replay.  Only the job's runner writes the job."""
    with store.session() as s:
        job = s.get(ReplayJob, job_id)
        if job is None:
            return
        outcomes = dict(job.outcomes)
        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
        job.outcomes, job.results = outcomes, [*job.results, result]  # new objects: JSON
        job.done += 1
        job.error = error or job.error
        job.updated_at = utcnow()
        s.add(job)


def finish_job(store: Store, job_id: str, error: str | None = None) -> None:
    with store.session() as s:
        job = s.get(ReplayJob, job_id)
        if job is None:
            return
        job.finished, job.error, job.updated_at = True, error or job.error, utcnow()
        s.add(job)


__all__ = ["KEPT_FOR", "add_result", "finish_job", "get_job", "start_job"]
