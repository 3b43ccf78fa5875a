"""Fixtures of the integrator's first hour: the Zoho Books emulator on loopback (its API
exchanges checked against Zoho's OpenAPI, as in tests/zohobooks) and a config writer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.zohobooks.conftest import Running, zoho, zoho_contract  # noqa: F401 - fixtures

seed = pytest.importorskip("ledgerbridge_zohobooks.emulator.seed")

PRESET_FIELDS = {
    "contacts": ["cf_source_customer_id"],
    "invoices": ["cf_source_order_id"],
    "creditnotes": ["cf_source_order_id"],
}


def flow(values: dict[str, Any]) -> str:
    """A YAML flow mapping (JSON is YAML)."""
    return json.dumps(values)


@pytest.fixture
def books_config(tmp_path: Path, zoho: Running) -> Callable[..., Path]:  # noqa: F811
    """``books_config(settings=..., secrets=..., database=...)``: a config with one tenant
    ``acme`` and its Zoho connection ``books`` on the emulator's main organisation."""

    def write(
        *,
        settings: dict[str, Any] | None = None,
        secrets: dict[str, Any] | None = None,
        refresh_token: bool = True,
        database: str | None = None,
    ) -> Path:
        conn_settings = {
            "organization_id": seed.MAIN_ORG,
            "api_url": zoho.url,
            "accounts_url": zoho.url,
            **(settings or {}),
        }
        conn_secrets: dict[str, Any] = {
            "client_id": seed.EMULATOR_CLIENT_ID,
            "client_secret": seed.EMULATOR_CLIENT_SECRET,
        }
        if refresh_token:
            conn_secrets["refresh_token"] = zoho.state.issue_refresh_token(
                seed.EMULATOR_CLIENT_ID, seed.MERCHANT
            )
        conn_secrets.update(secrets or {})
        path = tmp_path / "ledgerbridge.yaml"
        path.write_text(
            "version: 1\n"
            + (f"database: {json.dumps(database)}\n" if database else "")
            + "tenants:\n  - id: acme\n    connections:\n      books:\n"
            "        platform: zohobooks\n"
            f"        settings: {flow(conn_settings)}\n"
            f"        secrets: {flow(conn_secrets)}\n",
            encoding="utf-8",
        )
        return path

    return write
