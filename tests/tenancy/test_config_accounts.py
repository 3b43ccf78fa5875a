"""The config loader refuses two tenants on one target account unless both declare it shared."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerbridge.config import load_config
from ledgerbridge.errors import ConfigError

TWO_TENANTS = """\
version: 1
tenants:
  - id: acme
    connections:
      books:
        platform: zohobooks
        settings:
          data_center: {acme_dc}
          organization_id: "20234695"{acme_shared}
  - id: beta
    connections:
      books:
        platform: zohobooks
        settings:
          data_center: eu
          organization_id: "20234695"{beta_shared}
"""


def config(tmp_path: Path, *, acme_dc: str = "eu", acme: str = "", beta: str = "") -> Path:
    shared = "\n        shared_with: [{}]"
    path = tmp_path / "ledgerbridge.yaml"
    path.write_text(
        TWO_TENANTS.format(
            acme_dc=acme_dc,
            acme_shared=shared.format(acme) if acme else "",
            beta_shared=shared.format(beta) if beta else "",
        )
    )
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return [f"{loc}: {msg}" for loc, msg in err.value.problems]


def test_two_tenants_on_one_organisation_are_refused_with_both_positions(tmp_path):
    found = problems(config(tmp_path))
    path = tmp_path / "ledgerbridge.yaml"
    # Each use is reported where its organization_id is written, naming the other's position.
    assert found == [
        f"{path}:9:11: zohobooks:data_center=eu,organization_id=20234695 of acme/books is also "
        f"reached by tenant 'beta' (beta/books at {path}:16:11). One organisation belongs to one "
        "tenant: fix the settings, or declare it shared: acme/books lists beta in its shared_with "
        "and beta/books lists acme",
        f"{path}:16:11: zohobooks:data_center=eu,organization_id=20234695 of beta/books is also "
        f"reached by tenant 'acme' (acme/books at {path}:9:11). One organisation belongs to one "
        "tenant: fix the settings, or declare it shared: beta/books lists acme in its shared_with "
        "and acme/books lists beta",
    ]


def test_a_shared_organisation_needs_the_declaration_on_both_sides(tmp_path):
    assert load_config(config(tmp_path, acme="beta", beta="acme"))  # declared both ways: fine
    one_sided = problems(config(tmp_path, acme="beta"))
    assert len(one_sided) == 1 and "of beta/books is also reached by tenant 'acme'" in one_sided[0]


def test_the_same_organisation_id_in_another_data_centre_is_another_account(tmp_path):
    assert load_config(config(tmp_path, acme_dc="com"))


def test_shared_with_must_name_a_tenant_of_the_file(tmp_path):
    found = problems(config(tmp_path, acme="betta", beta="acme"))
    assert any(
        ":10:23: shared_with names tenant 'betta', which is not in this file" in p for p in found
    )


def test_ledgerbridge_check_refuses_the_config_and_exits_non_zero(tmp_path):
    path = config(tmp_path)
    env = {**os.environ, "COLUMNS": "300"}
    env.pop("LEDGERBRIDGE_LOAD_PLUGINS", None)
    out = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", "check", "-c", str(path)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert out.returncode == 6  # ExitCode.CONFIG
    assert f"{path}:9:11:" in out.stderr and f"{path}:16:11:" in out.stderr
    assert "tenant 'beta'" in out.stderr and "tenant 'acme'" in out.stderr
    assert "acme/books lists beta in its shared_with" in out.stderr
