"""``ledgerbridge connect zohobooks`` in one attempt, into the config's store, and the
``mappings`` commands using what it stored.

The grant code is single-use: a user reaching several organisations is asked which one
after the one exchange (the refresh token waits in memory), never sent back for a new
code.  ``connect`` and ``migrate`` take ``-c`` and use the config's ``database:``; the
``mappings`` commands read the refresh token ``connect`` stored, as the engine does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ledgerbridge.store import SecretBox, Store
from tests.test_cli import run

from .conftest import PRESET_FIELDS, seed


def connect(zoho, config: Path, *extra: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    code = zoho.state.issue_grant_code(seed.EMULATOR_CLIENT_ID, seed.MERCHANT)
    args = [
        "connect", "zohobooks", "-c", str(config),
        "--client-id", seed.EMULATOR_CLIENT_ID, "--client-secret", seed.EMULATOR_CLIENT_SECRET,
        "--accounts-url", zoho.url, "--api-url", zoho.url,
        "--tenant", "acme", "--name", "books", "--code", code, *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "LEDGERBRIDGE_DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "ledgerbridge", *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=60, cwd=config.parent,
    )  # fmt: skip


def test_connect_asks_which_organisation_after_one_exchange(zoho, books_config, secret_key):
    database = f"sqlite:///{books_config(refresh_token=False).parent / 'state.db'}"
    config = books_config(refresh_token=False, database=database)
    out = connect(zoho, config, stdin="2\n")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"1. {seed.MAIN_ORG}" in out.stdout and f"2. {seed.SECOND_ORG}" in out.stdout
    assert zoho.state.code_exchanges == 1  # one grant code, one exchange
    assert f"organisation {seed.SECOND_ORG}" in out.stdout
    store = Store(database, secrets=SecretBox([secret_key]))  # the config's database
    try:
        row = store.get_connection("acme/books")
        assert row is not None and row.organization_id == seed.SECOND_ORG
        assert store.connection_secrets("acme/books")["refresh_token"] in zoho.state.refresh_tokens
    finally:
        store.close()


def test_a_used_grant_code_is_named_as_such(zoho, books_config, secret_key):
    config = books_config(refresh_token=False)
    code = zoho.state.issue_grant_code(seed.EMULATOR_CLIENT_ID, seed.MERCHANT)
    zoho.state.grant_codes.pop(code)  # already exchanged once
    out = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", "connect", "zohobooks", "-c", str(config),
         "--client-id", seed.EMULATOR_CLIENT_ID, "--client-secret", seed.EMULATOR_CLIENT_SECRET,
         "--accounts-url", zoho.url, "--api-url", zoho.url, "--code", code,
         "--organization-id", seed.MAIN_ORG],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 1
    assert "the grant code was already used or has expired" in out.stderr
    assert "refresh token" not in out.stderr


def test_migrate_uses_the_configs_database(tmp_path: Path, books_config):
    database = tmp_path / "from-config.db"
    config = books_config(database=f"sqlite:///{database}")
    out = run("migrate", "-c", str(config), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert database.exists() and not (tmp_path / "ledgerbridge.db").exists()


def test_mappings_use_the_credentials_connect_stored(zoho, books_config, secret_key):
    database = f"sqlite:///{books_config(refresh_token=False).parent / 'state.db'}"
    # The config names the client and the organisation; the refresh token lives only in
    # the store, where `connect` put it (the README's path).
    config = books_config(
        refresh_token=False, database=database, settings={"custom_fields": PRESET_FIELDS}
    )
    done = connect(zoho, config, "--organization-id", seed.MAIN_ORG)
    assert done.returncode == 0, done.stderr
    out = run("mappings", "validate", "woocommerce-to-zohobooks", "--against", "acme/books",
              "-c", str(config), cwd=config.parent)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no Zoho refresh token" not in out.stderr
    assert "references exist in acme/books" in out.stdout
