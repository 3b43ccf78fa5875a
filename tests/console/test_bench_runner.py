"""``make bench`` (bench/run.py) runs every bench module that has a ``run()`` -- the
console's among them -- and passes over those with their own target (bench_workers)
instead of stopping at them."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_console_bench_is_part_of_make_bench() -> None:
    tree = ast.parse((BENCH / "bench_console.py").read_text())
    assert "run" in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_a_bench_without_run_is_passed_over() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--json", "workers"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == []


def test_a_bench_whose_run_takes_arguments_is_passed_over() -> None:
    """bench_shared_limits' ``run(orgs, workers, ...)`` is its own command (Redis, ~8 min):
    ``make bench`` used to stop at it with a TypeError, before the Shopify, WooCommerce and
    Zoho Books benches."""
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--json", "shared_limits"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == []
