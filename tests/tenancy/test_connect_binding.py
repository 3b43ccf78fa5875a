"""``ledgerbridge connect zohobooks`` records the organisation's tenant and refuses a second one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ledgerbridge.store import SecretBox, Store
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MAIN_ORG,
    MERCHANT,
    SECOND_ORG,
)


def connect(zoho, db: Path, key: str, tenant: str, org: str) -> subprocess.CompletedProcess[str]:
    code = zoho.state.issue_grant_code(EMULATOR_CLIENT_ID, MERCHANT)
    env = {**os.environ, "LEDGERBRIDGE_SECRET_KEY": key, "COLUMNS": "300"}
    env["LEDGERBRIDGE_LOAD_PLUGINS"] = "zohobooks"
    args = [
        "connect", "zohobooks",
        "--client-id", EMULATOR_CLIENT_ID, "--client-secret", EMULATOR_CLIENT_SECRET,
        "--accounts-url", zoho.url, "--api-url", zoho.url, "--database-url", f"sqlite:///{db}",
        "--tenant", tenant, "--name", "books", "--code", code, "--organization-id", org,
    ]  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "ledgerbridge", *args],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


def test_connect_refuses_an_organisation_bound_to_another_tenant(zoho, tmp_path, secret_key):
    db = tmp_path / "lb.db"
    first = connect(zoho, db, secret_key, "acme", MAIN_ORG)
    assert first.returncode == 0, first.stderr

    second = connect(zoho, db, secret_key, "beta", MAIN_ORG)
    assert second.returncode == 6  # ExitCode.CONFIG
    assert f"organization_id={MAIN_ORG}" in second.stderr
    assert "tenant 'acme'" in second.stderr and "tenant 'beta'" in second.stderr
    assert "Connected" not in second.stdout

    store = Store(f"sqlite:///{db}", secrets=SecretBox([secret_key]))
    try:
        assert store.get_connection("beta/books") is None  # nothing of beta's was stored
        binding = store.account_binding(f"zohobooks:data_center=com,organization_id={MAIN_ORG}")
        assert binding is not None
        assert (binding.tenant_id, binding.connection_id) == ("acme", "acme/books")
        # The same user may still connect beta to an organisation nobody holds.
        third = connect(zoho, db, secret_key, "beta", SECOND_ORG)
        assert third.returncode == 0, third.stderr
        assert store.get_connection("beta/books").organization_id == SECOND_ORG
    finally:
        store.close()
