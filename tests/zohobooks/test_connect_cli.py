"""``ledgerbridge connect zohobooks`` end to end against the emulator's OAuth endpoints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import typer
from typer.testing import CliRunner

from ledgerbridge.store import SecretBox, Store
from ledgerbridge_zohobooks.cli import consent_url, register
from ledgerbridge_zohobooks.datacenters import data_center
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MAIN_ORG,
    MERCHANT,
)
from ledgerbridge_zohobooks.scopes import SCOPE_STRING


def cli_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """test root"""

    register(app)
    register(app)  # idempotent: plugins may be loaded twice
    return app


def base_args(zoho, db: Path) -> list[str]:
    return [
        "connect", "zohobooks",
        "--client-id", EMULATOR_CLIENT_ID,
        "--client-secret", EMULATOR_CLIENT_SECRET,
        "--accounts-url", zoho.url, "--api-url", zoho.url,
        "--database-url", f"sqlite:///{db}",
        "--tenant", "acme", "--name", "books",
    ]  # fmt: skip


def test_connect_stores_an_encrypted_refresh_token_and_the_org(zoho, tmp_path, secret_key):
    db = tmp_path / "lb.db"
    code = zoho.state.issue_grant_code(EMULATOR_CLIENT_ID, MERCHANT)
    env = {
        **os.environ,
        "LEDGERBRIDGE_SECRET_KEY": secret_key,
        "LEDGERBRIDGE_LOAD_PLUGINS": "zohobooks",
    }
    args = [*base_args(zoho, db), "--code", code, "--organization-id", MAIN_ORG]
    out = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    consent = next(line for line in out.stdout.splitlines() if "/oauth/v2/auth?" in line)
    query = parse_qs(urlparse(consent).query)
    assert query["scope"] == [SCOPE_STRING] and query["access_type"] == ["offline"]
    assert query["prompt"] == ["consent"] and query["client_id"] == [EMULATOR_CLIENT_ID]
    assert f"organisation {MAIN_ORG}" in out.stdout
    store = Store(f"sqlite:///{db}", secrets=SecretBox([secret_key]))
    try:
        row = store.get_connection("acme/books")
        assert row.organization_id == MAIN_ORG and row.platform == "zohobooks"
        assert row.settings["organization_id"] == MAIN_ORG
        secrets = store.connection_secrets("acme/books")
        assert secrets["refresh_token"] in zoho.state.refresh_tokens
        assert secrets["refresh_token"] not in str(row.secrets)  # encrypted at rest
        assert secrets["refresh_token"] not in out.stdout + out.stderr
    finally:
        store.close()
    assert zoho.state.code_exchanges == 1


def test_several_organisations_need_a_choice(zoho, tmp_path, secret_key):
    code = zoho.state.issue_grant_code(EMULATOR_CLIENT_ID, MERCHANT)
    result = CliRunner().invoke(cli_app(), [*base_args(zoho, tmp_path / "x.db"), "--code", code])
    assert result.exit_code == 1
    assert "10234695 (Acme Books)" in result.output and "--organization-id" in result.output


def test_a_used_grant_code_explains_itself(zoho, tmp_path, secret_key):
    result = CliRunner().invoke(
        cli_app(), [*base_args(zoho, tmp_path / "x.db"), "--code", "1000.used"]
    )
    assert result.exit_code == 1 and "invalid_code" in result.output


def test_a_forged_accounts_server_never_gets_the_secret(zoho, tmp_path, secret_key):
    code = zoho.state.issue_grant_code(EMULATOR_CLIENT_ID, MERCHANT)
    args = [
        *base_args(zoho, tmp_path / "x.db"),
        "--code",
        code,
        "--accounts-server",
        "https://evil.example",
    ]
    result = CliRunner().invoke(cli_app(), args)
    assert result.exit_code == 1 and "forged" in result.output
    assert zoho.state.token_requests == 0


@pytest.mark.parametrize(
    ("dc", "host"),
    [
        ("ca", "https://accounts.zohocloud.ca"),
        ("eu", "https://accounts.zoho.eu"),
        ("uk", "https://accounts.zoho.uk"),
    ],
)
def test_consent_url_uses_the_data_centres_accounts_host(dc, host):
    url = consent_url(data_center(dc).accounts_server, "c", "http://127.0.0.1/cb", "st")
    assert url.startswith(f"{host}/oauth/v2/auth?")
    assert parse_qs(urlparse(url).query)["state"] == ["st"]
