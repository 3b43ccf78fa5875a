"""The deployment walk without Docker (docs/deployment.md), reduced: the commands the docs give,
as subprocesses on PostgreSQL and Redis, a worker SIGKILLed mid-run, and the demo's three
merchants reconciled to the cent with one live invoice per order. ``make demo-workers`` runs
it with the demo's 20 orders per shop."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.distributed import main

from .services import need_postgres, need_redis

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("secret_key")]


def test_the_demo_syncs_through_two_workers_and_a_killed_one_changes_nothing(
    tmp_path: Path,
) -> None:
    need_postgres()
    need_redis()
    assert main(["--orders", "4", "--dir", str(tmp_path / "walk"), "--timeout", "300"]) == 0
    logs = {p.stem: p.read_text() for p in (tmp_path / "walk").glob("*.log")}
    assert {"w1", "w2", "beat", "serve"} <= set(logs)
    assert "share done" in logs["w2"]  # the survivor finished the work
