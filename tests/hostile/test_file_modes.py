"""Files holding secrets are created private (0600), and loading a config warns when a
config holding plain-text secrets, or the secret key file, is readable by others."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.run import cli_env
from demo.world import running
from ledgerbridge.config import load_config

from .receiver_world import REPO, make_world


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default: new files 0644
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_demo_writes_its_config_key_and_saved_state_private(
    tmp_path: Path, umask_022: None
) -> None:
    with running(tmp_path / "demo", orders=2) as world:
        assert "secrets:" in world.config_path.read_text()
        assert mode(world.config_path) == 0o600
        env = cli_env(world.directory)
    assert mode(Path(env["LEDGERBRIDGE_SECRET_KEY_FILE"])) == 0o600
    assert mode(tmp_path / "demo" / "emulators.pickle") == 0o600
    world.config_path.chmod(0o644)  # a second run makes an existing config private again
    with running(tmp_path / "demo", orders=2) as again:
        assert mode(again.config_path) == 0o600


def warnings_on_load(path: Path, caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ledgerbridge.config"):
        load_config(path)
    return [r.getMessage() for r in caplog.records if r.name == "ledgerbridge.config"]


def test_a_readable_config_with_plain_secrets_warns_on_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEDGERBRIDGE_SECRET_KEY_FILE", raising=False)
    world = make_world(tmp_path)
    world.config_path.chmod(0o644)
    [warning] = warnings_on_load(world.config_path, caplog)
    assert str(world.config_path) in warning and "mode 0644" in warning
    assert "tenants[west].connections.shop.secrets.webhook_secret" in warning
    assert "hostile-hook-secret" not in warning, "the warning never shows a secret"
    world.config_path.chmod(0o600)
    assert warnings_on_load(world.config_path, caplog) == []


def test_secrets_from_environment_references_do_not_warn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEDGERBRIDGE_SECRET_KEY_FILE", raising=False)
    world = make_world(tmp_path)
    text = world.config_path.read_text()
    for literal in ("ck_x", "cs_x", "hostile-hook-secret", "shpat_x", "hostile-shopify-secret",
                    "hostile-api2cart-token", "k", "s", "id", "sec", "tok"):  # fmt: skip
        text = text.replace(f": {literal},", ': "${SECRET_VALUE}",')
        text = text.replace(f": {literal}}}", ': "${SECRET_VALUE}"}')
    monkeypatch.setenv("SECRET_VALUE", "from-the-environment")
    world.config_path.write_text(text)
    world.config_path.chmod(0o644)
    assert warnings_on_load(world.config_path, caplog) == []


def test_a_readable_secret_key_file_warns_on_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(tmp_path)
    key = tmp_path / "secret.key"
    key.write_text("not-used-here")
    key.chmod(0o644)
    monkeypatch.setenv("LEDGERBRIDGE_SECRET_KEY_FILE", str(key))
    [warning] = warnings_on_load(world.config_path, caplog)
    assert f"the secret key file {key}" in warning and "0644" in warning


def test_check_shows_the_warning(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.config_path.chmod(0o644)
    done = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", "check", "-c", str(world.config_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=world.env,
    )
    assert done.returncode == 0, done.stderr
    assert "holds secrets in plain text" in done.stderr and "chmod 600" in done.stderr
