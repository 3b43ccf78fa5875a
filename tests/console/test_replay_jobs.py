"""A replay's progress is in the store: a second console process serving the same store
shows it while it runs and when it is done, so does a console started afresh, and a
replay whose process ended says so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio
import pytest

import ledgerbridge.console
import ledgerbridge.console.pages as pages
from demo.run import fix_mapping
from ledgerbridge.store import Store
from ledgerbridge.store import console_jobs as stored
from ledgerbridge.store.console_models import ReplayJob
from ledgerbridge.store.types import utcnow

from .conftest import Client, World, csrf_of


def test_progress_shows_from_another_console_and_after_a_restart(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    parked = world.parked_id()
    assert fix_mapping(world.demo)
    other_store = Store(world.demo.database_url)  # another process's own connections
    seen_while_running: list[dict[str, Any]] = []
    replay = pages.replay_records

    async def main() -> dict[str, Any]:
        first = Client(ledgerbridge.console.app(world.config_path, world.store))
        second = Client(ledgerbridge.console.app(world.config_path, other_store))
        stranger = Client(ledgerbridge.console.app(world.config_path, other_store))
        try:
            await first.login("ada")
            await second.login("ada")
            await stranger.login("olga")

            async def watched(*args: Any, **kw: Any) -> Any:
                # the replay is under way in the first console: the second one reads it
                answer = await second.get(f"/jobs/{job_id[0]}.json")
                seen_while_running.append(answer.json())
                return await replay(*args, **kw)

            monkeypatch.setattr(pages, "replay_records", watched)
            csrf = csrf_of((await first.get(f"/records/{parked}")).text)
            posted = await first.post(f"/records/{parked}/replay", {"csrf": csrf})
            assert posted.status_code == 303
            assert posted.headers["location"].endswith(f"/jobs/{job_id[0]}")
            return {
                "second": (await second.get(f"/jobs/{job_id[0]}.json")).json(),
                "page": (await second.get(f"/jobs/{job_id[0]}")).text,
                "stranger": (await stranger.get(f"/jobs/{job_id[0]}.json")).status_code,
            }
        finally:
            for client in (first, second, stranger):
                await client.aclose()

    job_id: list[str] = []
    # The job id is known once the POST answers; the background replay runs before the
    # transport returns, so ``watched`` reads it from the job the store already holds.
    original_start = stored.start_job

    def start(*args: Any, **kw: Any) -> ReplayJob:
        job = original_start(*args, **kw)
        job_id.append(job.id)
        return job

    monkeypatch.setattr(stored, "start_job", start)
    out = anyio.run(main)
    assert seen_while_running == [
        {**seen_while_running[0], "done": 0, "total": 1, "finished": False, "results": []}
    ]
    assert (out["second"]["done"], out["second"]["finished"]) == (1, True)
    assert out["second"]["outcomes"] == {"synced": 1}
    assert out["second"]["next"].endswith(f"/records/{parked}?replayed=synced")
    assert 'id="job-count">1/1<' in out["page"]
    assert out["stranger"] == 404

    async def restarted() -> dict[str, Any]:
        fresh = Client(ledgerbridge.console.app(world.config_path, Store(world.demo.database_url)))
        try:
            await fresh.login("ada")
            return (await fresh.get(f"/jobs/{job_id[0]}.json")).json()
        finally:
            await fresh.aclose()

    assert anyio.run(restarted) == out["second"]
    other_store.close()


def test_a_replay_whose_process_ended_says_so(world: World) -> None:
    job = stored.start_job(world.store, "ada", "replay of 3 records", [1, 2, 3], single=False)
    stored.add_result(
        world.store, job.id, {"id": 1, "record": "order 1", "outcome": "synced"}, None
    )
    with world.store.session() as s:
        row = s.get(ReplayJob, job.id)
        assert row is not None
        row.updated_at = utcnow() - timedelta(hours=1)
        s.add(row)

    async def main() -> dict[str, Any]:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("ada")
            return (await client.get(f"/jobs/{job.id}.json")).json()
        finally:
            await client.aclose()

    state = anyio.run(main)
    assert (state["done"], state["total"], state["finished"]) == (1, 3, True)
    assert "stopped after 1 of 3" in state["error"]
