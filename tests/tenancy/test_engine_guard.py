"""The engine checks the organisation's tenant at startup and before every unit of work.

Real connectors and emulators on loopback (``tests/engine/harness.py``); what was or
was not written is read from the Zoho Books emulator's state -- the merchant's books.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import anyio
import pytest
import yaml

from ledgerbridge.errors import AccountBound, LedgerbridgeError
from ledgerbridge.store import Store
from ledgerbridge_zohobooks.emulator.seed import FOREIGN_ORG, MAIN_ORG, SECOND_ORG

from ..engine.harness import woocommerce_to_zoho
from .test_connect_binding import connect

MAIN = f"zohobooks:data_center=com,organization_id={MAIN_ORG}"
FOREIGN = f"zohobooks:data_center=com,organization_id={FOREIGN_ORG}"


def posts(h) -> int:
    """Every record the organisation holds that a sync writes (contacts, invoices, payments)."""
    org = h.org
    return sum(len(getattr(org, kind)) for kind in ("contacts", "invoices", "payments"))


def record_writes(h) -> list:
    """From now on, every API call that could change the books (anything but a GET)."""
    seen: list = []
    h.zoho.emulator.observers.append(lambda ex: seen.append(ex) if ex.method != "GET" else None)
    return seen


def bind_to_beta(store: Store, account: str = MAIN) -> None:
    store.upsert_tenant("beta")
    store.bind_account(account, tenant_id="beta", connection_id="beta/books", platform="zohobooks")


def test_startup_refuses_an_organisation_the_token_cannot_reach_before_any_pipeline_writes(
    tmp_path, secret_key, db_url
):
    with woocommerce_to_zoho(tmp_path, orders=4, db_url=db_url) as h:
        config = yaml.safe_load(h.config_path.read_text())
        acme = config["tenants"][0]
        books2 = yaml.safe_load(yaml.safe_dump(acme["connections"]["books"]))
        books2["settings"]["organization_id"] = FOREIGN_ORG  # another merchant's organisation
        acme["connections"]["books2"] = books2
        acme["pipelines"].append({**acme["pipelines"][0], "id": "pipe2", "target": "books2"})
        h.config_path.write_text(yaml.safe_dump(config))
        before, writes = posts(h), record_writes(h)

        async def main() -> None:
            async with h.engine() as engine:
                await engine.sync()

        with pytest.raises(LedgerbridgeError) as refused:
            anyio.run(main)
        assert FOREIGN_ORG in str(refused.value) and MAIN_ORG in str(refused.value)
        # Refused at startup: not even the first, well-configured pipeline wrote anything.
        assert posts(h) == before and writes == []
        store = h.store()
        assert store.account_binding(FOREIGN) is None  # the claim of this start is withdrawn
        assert store.account_binding(MAIN).tenant_id == "acme"


def test_ledgerbridge_sync_refuses_to_write_into_an_organisation_bound_to_another_tenant(
    tmp_path, secret_key
):
    with woocommerce_to_zoho(tmp_path, orders=4) as h:
        # Tenant beta connected this organisation first, through `ledgerbridge connect`.
        zoho = SimpleNamespace(url=h.zoho_url, state=h.zoho.emulator.state)
        db = Path(h.db_url.removeprefix("sqlite:///"))
        connected = connect(zoho, db, secret_key, "beta", MAIN_ORG)
        assert connected.returncode == 0, connected.stderr
        store = h.store()
        before, writes = posts(h), record_writes(h)
        env = {**os.environ, "LEDGERBRIDGE_SECRET_KEY": secret_key, "COLUMNS": "300"}
        env.pop("LEDGERBRIDGE_LOAD_PLUGINS", None)
        out = subprocess.run(
            [sys.executable, "-m", "ledgerbridge", "sync", "-c", str(h.config_path)],
            capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        assert out.returncode == 6, out.stdout + out.stderr
        assert MAIN_ORG in out.stderr
        assert "tenant 'beta'" in out.stderr and "tenant 'acme'" in out.stderr
        assert posts(h) == before and writes == []  # beta's books untouched
        assert store.account_binding(MAIN).tenant_id == "beta"
        assert store.get_connection("acme/books") is None  # acme's connection was not stored


def test_an_organisation_moved_to_another_tenant_mid_run_stops_the_run_before_its_next_write(
    tmp_path, secret_key, db_url
):
    with woocommerce_to_zoho(tmp_path, orders=6, db_url=db_url) as h:
        moved: dict[str, int] = {}
        store = h.store()
        invoices_before = len(h.org.invoices)
        writes = record_writes(h)

        def on_record(outcome) -> None:
            if moved:
                return
            # The operator moves the organisation to tenant beta while acme's run goes on.
            assert store.release_account(MAIN, "acme")
            bind_to_beta(store)
            moved["at"], moved["writes"] = posts(h), len(writes)

        async def main() -> None:
            async with h.engine(on_record=on_record) as engine:
                await engine.sync()

        with pytest.raises(AccountBound) as refused:
            anyio.run(main)
        message = str(refused.value)
        assert "tenant 'beta'" in message and "tenant 'acme'" in message and MAIN_ORG in message
        # The first order was written while acme held the organisation, nothing after the move.
        assert len(h.org.invoices) == invoices_before + 1
        assert posts(h) == moved["at"] and len(writes) == moved["writes"] > 0


def test_the_client_sends_its_own_organisation_only(tmp_path):
    from ..zohobooks.helpers import make_target

    with woocommerce_to_zoho(tmp_path, orders=1) as h:
        target = make_target(h.zoho_url, h.zoho.emulator.state)
        calls = h.zoho.emulator.api_calls

        async def main() -> None:
            try:
                await target.client.call(
                    "GET", "/invoices", params={"organization_id": SECOND_ORG}, with_org=False
                )
            finally:
                await target.aclose()

        with pytest.raises(LedgerbridgeError, match=f"organisation {SECOND_ORG}"):
            anyio.run(main)
        assert h.zoho.emulator.api_calls == calls  # the call never left


def test_an_organisation_shared_on_both_sides_starts_for_both_tenants(tmp_path, secret_key):
    with woocommerce_to_zoho(tmp_path, orders=1) as h:
        config = yaml.safe_load(h.config_path.read_text())
        acme = config["tenants"][0]
        beta = yaml.safe_load(yaml.safe_dump(acme))
        beta["id"], beta["pipelines"][0]["id"] = "beta", "beta-pipe"
        acme["connections"]["books"]["shared_with"] = ["beta"]
        beta["connections"]["books"]["shared_with"] = ["acme"]
        config["tenants"].append(beta)
        h.config_path.write_text(yaml.safe_dump(config))

        async def main() -> None:
            async with h.engine() as engine:
                await engine.prepare()
                await engine.verify_targets()

        anyio.run(main)
        binding = h.store().account_binding(MAIN)
        assert (binding.tenant_id, binding.shared_with) == ("acme", ["beta"])
        assert h.store().check_account(MAIN, "beta", "beta/books").tenant_id == "acme"


def test_a_target_reaching_another_organisation_than_configured_is_refused():
    """For connectors whose ``identity()`` does not check this itself."""
    from ledgerbridge.contracts.target import TargetIdentity
    from ledgerbridge.engine.tenancy import verify_identity
    from ledgerbridge.plugins import get_registry
    from ledgerbridge_zohobooks.settings import ZohoBooksSettings

    spec = get_registry().get("zohobooks")
    settings = ZohoBooksSettings(organization_id=MAIN_ORG)
    verify_identity(spec, settings, TargetIdentity(MAIN_ORG, reachable=(MAIN_ORG,)), "acme/books")
    for identity in (
        TargetIdentity(SECOND_ORG, reachable=(MAIN_ORG, SECOND_ORG)),
        TargetIdentity(MAIN_ORG, reachable=(SECOND_ORG,)),
    ):
        with pytest.raises(AccountBound) as refused:
            verify_identity(spec, settings, identity, "acme/books")
        assert MAIN_ORG in str(refused.value) and SECOND_ORG in str(refused.value)
