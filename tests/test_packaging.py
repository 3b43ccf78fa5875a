"""An installed ledgerbridge finds the shipped mapping presets, not only a source checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_the_presets_and_an_install_resolves_them(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "-w", str(tmp_path / "dist")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [wheel] = (tmp_path / "dist").glob("ledgerbridge-*.whl")
    shipped = {Path(n).name for n in zipfile.ZipFile(wheel).namelist() if "/presets/" in n}
    assert shipped == {p.name for p in (ROOT / "mappings").glob("*.yaml")}
    names = set(zipfile.ZipFile(wheel).namelist())  # the console's templates and stylesheet
    assert {
        "ledgerbridge/console/templates/record.html",
        "ledgerbridge/console/static/console.css",
    } <= names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # what `pip install` puts in site-packages
    probe = (
        "import ledgerbridge, pathlib\n"
        "from ledgerbridge.config.loader import resolve_mapping\n"
        "path = resolve_mapping('shopify-to-zohobooks', pathlib.Path('.'))\n"
        "print(ledgerbridge.__file__); print(path); print(path.exists())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True,
        check=True, timeout=60,
    ).stdout.split("\n")  # fmt: skip
    module, preset, exists = out[0], out[1], out[2]
    assert module.startswith(str(site))  # the installed copy, not the checkout
    assert preset.startswith(str(site)) and preset.endswith("shopify-to-zohobooks.yaml")
    assert exists == "True"
