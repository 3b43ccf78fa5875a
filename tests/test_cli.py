"""The CLI as a user runs it (a real subprocess: entry points, exit codes, output)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

import ledgerbridge


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("LEDGERBRIDGE_LOAD_PLUGINS", None)
    return subprocess.run(
        [sys.executable, "-m", "ledgerbridge", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
    )


def test_version():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"ledgerbridge {ledgerbridge.__version__}"


def test_connectors_lists_the_four_builtins_marking_shells():
    out = run("connectors")
    assert out.returncode == 0
    rows = {
        line.split("│")[1].strip(): line for line in out.stdout.splitlines() if line.count("│") > 3
    }
    assert {"shopify", "woocommerce", "api2cart", "zohobooks"} <= set(rows)
    assert "target" in rows["zohobooks"] and "source" in rows["shopify"]
    for name, row in rows.items():
        if name in {"shopify", "woocommerce", "api2cart", "zohobooks"}:
            assert "ready" in row or "shell (not built yet)" in row


def test_init_writes_a_config_that_check_accepts(tmp_path: Path):
    assert run("init", cwd=tmp_path).returncode == 0
    again = run("init", cwd=tmp_path)
    assert again.returncode == 1 and "exists" in again.stderr
    out = run("check", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "acme-shop-to-books" in out.stdout and "OK" in out.stdout


def test_check_reports_file_line_and_column_and_fails(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text("version: 1\ntenants:\n  - id: acme\n    conections: {}\n")
    out = run("check", "-c", "bad.yaml", cwd=tmp_path)
    assert out.returncode == 6  # ExitCode.CONFIG
    assert (
        "bad.yaml:4:5: tenants.0.conections: unknown key 'conections' (did you mean 'connections'?)"
        in out.stderr
    )


def test_keygen_prints_a_usable_key():
    out = run("keygen")
    assert out.returncode == 0
    Fernet(out.stdout.strip().encode())  # raises if the key is malformed


def test_migrate_creates_the_store(tmp_path: Path):
    db = tmp_path / "state.db"
    out = run("migrate", env={"LEDGERBRIDGE_DATABASE_URL": f"sqlite:///{db}"})
    assert out.returncode == 0 and db.exists() and "up to date" in out.stdout


def test_sandbox_of_a_connector_without_emulator_is_a_clear_error():
    out = run("sandbox", "nonexistent")
    assert out.returncode == 6 and "no connector named 'nonexistent'" in out.stderr
