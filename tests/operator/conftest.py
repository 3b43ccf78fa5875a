"""The operator surface as a new user meets it: the demo's emulators on loopback and
``python -m ledgerbridge ...`` run as subprocesses against a config file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from demo.run import cli_env
from demo.world import Running, running
from ledgerbridge.exitcodes import ExitCode

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Operator:
    """One demo world plus a way to type ``ledgerbridge`` commands at it."""

    world: Running
    env: dict[str, str]

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ledgerbridge", *args, "-c", str(self.world.config_path)]

    def cli(
        self, *args: str, ok: bool = True, code: int = ExitCode.OK
    ) -> subprocess.CompletedProcess[str]:
        """Run a command; with ``ok``, its exit code must be ``code`` (docs: "Exit codes")."""
        done = subprocess.run(
            self.argv(*args), env=self.env, capture_output=True, text=True, timeout=120, cwd=REPO
        )
        if ok:
            assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
        return done

    def json(self, *args: str, code: int = ExitCode.OK) -> Any:
        return json.loads(self.cli(*args, "--json", code=code).stdout)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )


def make_operator(tmp: Path, orders: int) -> Iterator[Operator]:
    with running(tmp / "demo", orders=orders) as world:
        env = cli_env(world.directory)
        done = subprocess.run(
            [sys.executable, "-m", "ledgerbridge", "migrate", "--database", world.database_url],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        yield Operator(world, env)


@pytest.fixture
def operator(tmp_path: Path) -> Iterator[Operator]:
    yield from make_operator(tmp_path, orders=12)
