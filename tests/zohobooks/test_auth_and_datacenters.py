"""Data centres, api_domain, and single-flight refresh across "processes" sharing a store."""

from __future__ import annotations

import time

import anyio
import pytest

from ledgerbridge.errors import AuthFailed
from ledgerbridge.plan import LookupKind
from ledgerbridge.store.adapters import StoreCredentials, StoreLocks
from ledgerbridge_zohobooks.datacenters import (
    DATA_CENTERS,
    data_center,
    trusted_accounts_server,
    trusted_api_domain,
)
from ledgerbridge_zohobooks.settings import ZohoBooksSettings

from .helpers import make_target


def test_every_data_centre_has_its_own_hosts_and_canada_differs():
    assert set(DATA_CENTERS) == {"com", "eu", "in", "com.au", "jp", "ca", "com.cn", "sa", "uk"}
    for code, dc in DATA_CENTERS.items():
        assert dc.api_base == f"https://www.zohoapis.{code}/books/v3"
    assert DATA_CENTERS["ca"].accounts_server == "https://accounts.zohocloud.ca"
    assert DATA_CENTERS["eu"].accounts_server == "https://accounts.zoho.eu"


def test_the_uk_data_centre_is_allowed_and_its_look_alikes_are_not():
    """Zoho's Multi-DC page lists accounts.zoho.uk (docs/connectors/zohobooks.md)."""
    assert data_center("uk").api_base == "https://www.zohoapis.uk/books/v3"
    assert trusted_accounts_server("https://accounts.zoho.uk") == "https://accounts.zoho.uk"
    assert trusted_api_domain("https://www.zohoapis.uk/") == "https://www.zohoapis.uk"
    assert ZohoBooksSettings(data_center="uk").data_center == "uk"
    for forged in ("https://accounts.zoho.co.uk", "https://accounts.zoho.uk.evil.example"):
        with pytest.raises(AuthFailed):
            trusted_accounts_server(forged)


def test_forged_hosts_are_refused():
    with pytest.raises(AuthFailed, match="forged"):
        trusted_accounts_server("https://accounts.zoho.com.evil.example")
    with pytest.raises(AuthFailed, match="api_domain"):
        trusted_api_domain("https://www.zohoapis.com.evil.example")
    assert trusted_api_domain("https://www.zohoapis.in/") == "https://www.zohoapis.in"


def test_api_domain_from_the_token_response_wins_over_configuration(zoho):
    # Configured for the EU data centre; the token response names the emulator as api_domain.
    async def main():
        target = make_target(zoho.url, zoho.state, data_center="eu")
        target.settings.api_url = None
        target.client.api_base = "https://www.zohoapis.eu/books/v3"
        try:
            return await target.lookups(LookupKind.TAXES)
        finally:
            await target.aclose()

    assert len(anyio.run(main)) == 4  # reached the emulator, not www.zohoapis.eu


def test_refresh_is_single_flight_across_processes_through_the_store(store, zoho):
    """Two workers (own caches, own lock holders) share only the store: one refresh."""
    store.upsert_tenant("t1")
    refresh = zoho.state.issue_refresh_token("1000.EMULATORCLIENT", "merchant@example.com")
    store.upsert_connection(
        "t1", "books", platform="zohobooks", kind="target",
        secrets={"refresh_token": refresh, "access_token": "1000.stale.access",
                 "access_token_expires_at": str(time.time() - 1)},
    )  # fmt: skip

    async def main():
        workers = [
            make_target(
                zoho.url,
                zoho.state,
                refresh_token="",
                credentials=StoreCredentials(store, "t1/books"),
                locks=StoreLocks(store, holder=f"worker-{n}"),
            )
            for n in range(2)
        ]
        try:
            async with anyio.create_task_group() as tg:
                for worker in workers:
                    for _ in range(10):
                        tg.start_soon(worker.lookups, LookupKind.TAXES)
            return [w.tokens.refreshes for w in workers]
        finally:
            for worker in workers:
                await worker.aclose()

    refreshes = anyio.run(main)
    assert zoho.state.refresh_requests == 1 and sorted(refreshes) == [0, 1]
    stored = store.connection_secrets("t1/books")
    assert stored["access_token"] != "1000.stale.access" and stored["refresh_token"] == refresh
    raw = store.get_connection("t1/books").secrets
    assert stored["access_token"] not in str(raw)  # encrypted at rest


def test_refresh_is_single_flight_across_real_processes(zoho, tmp_path, secret_key):
    """Three OS processes, 10 concurrent calls each, one expired token in the store."""
    import os
    import subprocess
    import sys

    from ledgerbridge.store import SecretBox, Store

    db_url = f"sqlite:///{tmp_path / 'shared.db'}"
    store = Store(db_url, secrets=SecretBox([secret_key]))
    store.migrate()
    store.upsert_tenant("t1")
    refresh = zoho.state.issue_refresh_token("1000.EMULATORCLIENT", "merchant@example.com")
    store.upsert_connection(
        "t1", "books", platform="zohobooks", kind="target",
        secrets={"refresh_token": refresh, "access_token": "1000.stale.access",
                 "access_token_expires_at": str(time.time() - 1)},
    )  # fmt: skip
    store.close()
    env = {**os.environ, "LEDGERBRIDGE_SECRET_KEY": secret_key}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.zohobooks.refresh_worker",
                zoho.url,
                db_url,
                "t1/books",
                "10",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    outputs = [w.communicate(timeout=90) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err for _, err in outputs]
    assert sorted(int(out.strip()) for out, _ in outputs) == [0, 0, 1]
    assert zoho.state.refresh_requests == 1
    assert zoho.emulator.api_calls == 30


def test_a_token_close_to_expiry_is_refreshed_before_zoho_rejects_it(zoho):
    """Four minutes left is inside the 5-minute margin: refresh first, never send it."""
    from ledgerbridge.contracts.context import MemoryCredentials

    zoho.state.access_tokens["1000.nearly.expired"] = ("merchant@example.com", time.time() + 240)
    credentials = MemoryCredentials(
        {"access_token": "1000.nearly.expired", "access_token_expires_at": str(time.time() + 240)}
    )

    async def main():
        target = make_target(zoho.url, zoho.state, credentials=credentials)
        try:
            return await target.lookups(LookupKind.TAXES)
        finally:
            await target.aclose()

    assert len(anyio.run(main)) == 4
    assert zoho.state.refresh_requests == 1
    assert all(ex.status == 200 for ex in zoho.exchanges)
    assert credentials.values["access_token"] != "1000.nearly.expired"
