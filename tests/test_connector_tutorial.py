"""The tutorial's example connector works as a real, separately installed pip package."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import pip_install

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ledgerbridge-tinyshop"
TUTORIAL = EXAMPLE.parents[1] / "docs" / "writing-a-connector.md"
# A code block the tutorial shows as the example's code: `<!-- file: PATH -->` on the line
# before the fence, PATH relative to the example package.
SHOWN = re.compile(r"<!-- file: (?P<path>\S+) -->\n```(?P<lang>\w+)\n(?P<code>.*?)\n```", re.S)


def _blocks() -> list[tuple[str, str, str]]:
    text = TUTORIAL.read_text()
    return [(m["path"], m["lang"], m["code"]) for m in SHOWN.finditer(text)]


def test_every_code_block_of_the_tutorial_is_the_example_s_real_code():
    """The walk-through shows tinyshop's code, not a sketch of it: each marked block is a run
    of whole, consecutive lines of the named file, and no Python block goes unmarked."""
    blocks = _blocks()
    assert len(blocks) >= 8
    for path, _lang, code in blocks:
        lines = (EXAMPLE / path).read_text().splitlines()
        shown = code.splitlines()
        starts = [i for i, line in enumerate(lines) if line == shown[0]]
        assert any(lines[i : i + len(shown)] == shown for i in starts), (
            f"docs/writing-a-connector.md shows code that is not in {path}:\n{code}"
        )
    fences = re.findall(r"^```(\w+)", TUTORIAL.read_text(), re.M)
    assert fences.count("python") == sum(lang == "python" for _, lang, _ in blocks)


def test_the_example_stays_the_size_the_tutorial_promises():
    """150 lines of connector (the emulator, the preset and the tests come on top)."""
    package = EXAMPLE / "ledgerbridge_tinyshop"
    code = [p for p in package.glob("*.py") if p.name != "emulator.py"]
    assert sum(len(p.read_text().splitlines()) for p in code) <= 150


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pip_install(tmp_path_factory.mktemp("tinyshop-site"), EXAMPLE)


def _env(site: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"}
    env.pop("LEDGERBRIDGE_LOAD_PLUGINS", None)
    return env


def test_installed_example_is_listed_as_a_ready_source(site: Path):
    out = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", "connectors"],
        env=_env(site),
        capture_output=True,
        text=True,
        check=True,
    )
    [row] = [line for line in out.stdout.splitlines() if "tinyshop" in line]
    assert "source" in row and "ready" in row and "0.1.0" in row


def test_sandbox_command_serves_the_example_emulator(site: Path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledgerbridge", "sandbox", "tinyshop", "--port", str(port)],
        env=_env(site),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/orders",
                    headers={"Authorization": "Bearer tinyshop-demo-token"},
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "sandbox did not start"
                time.sleep(0.1)
        assert response.status_code == 200 and len(response.json()["orders"]) == 7
    finally:
        proc.terminate()
        proc.wait(timeout=10)


CONFIG = """\
version: 1
tenants:
  - id: acme
    connections:
      shop:
        platform: tinyshop
        settings: {base_url: "http://127.0.0.1:9"}
        secrets: {api_token: "t"}
      books:
        platform: zohobooks
        settings: {data_center: eu, organization_id: "20234695"}
    pipelines:
      - id: tiny-orders
        source: shop
        target: books
        mapping: %s
"""


def test_the_installed_example_ships_its_preset(site: Path, tmp_path: Path):
    """`register_presets`: the wheel carries the preset, `mappings presets` lists it, and a
    pipeline (directly or through a tenant file's `extends:`) names it like a built-in one."""
    listed = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", "mappings", "presets", "--json"],
        env=_env(site),
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {row["name"]: row for row in __import__("json").loads(listed.stdout)}
    assert rows["tinyshop-to-zohobooks"]["shipped_by"] == "tinyshop"
    assert str(site) in rows["tinyshop-to-zohobooks"]["path"]
    (tmp_path / "mine.yaml").write_text(
        "extends: tinyshop-to-zohobooks\nversion: 1\nsource: tinyshop\ntarget: zohobooks\n"
    )
    for mapping in ("tinyshop-to-zohobooks", "mine.yaml"):
        (tmp_path / "ledgerbridge.yaml").write_text(CONFIG % mapping)
        checked = subprocess.run(
            [
                sys.executable,
                "-m",
                "ledgerbridge",
                "check",
                "-c",
                str(tmp_path / "ledgerbridge.yaml"),
            ],
            env=_env(site),
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
