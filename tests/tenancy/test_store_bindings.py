"""The store binds a target account to one tenant (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledgerbridge.errors import AccountBound
from ledgerbridge.plugins import get_registry
from ledgerbridge.store import Store

ACME_ORG = "zohobooks:data_center=eu,organization_id=20234695"


def connect(store: Store, tenant: str, account: str, **kw: object):
    store.upsert_tenant(tenant)
    return store.upsert_connection(
        tenant,
        "books",
        platform="zohobooks",
        kind="target",
        settings={"data_center": "eu", "organization_id": "20234695"},
        secrets={"refresh_token": f"1000.{tenant}-token"},
        organization_id="20234695",
        account=account,
        **kw,
    )


def connection_ids(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(text("SELECT id FROM connections")))


def test_the_zoho_account_is_the_data_centre_and_the_organisation():
    spec = get_registry().get("zohobooks")
    assert spec.account_settings == ("data_center", "organization_id")
    assert spec.account_key({"data_center": "eu", "organization_id": "20234695"}) == ACME_ORG
    # The settings model's default data centre counts; an unset organisation names no account.
    assert (
        spec.account_key({"organization_id": "1"}) == "zohobooks:data_center=com,organization_id=1"
    )
    assert spec.account_key({"data_center": "eu"}) is None
    assert spec.account_key({"organization_id": "not-digits"}) is None  # invalid: loader reports


def test_a_connection_to_an_organisation_bound_to_another_tenant_is_refused(store: Store):
    connect(store, "acme", ACME_ORG)
    with pytest.raises(AccountBound) as refused:
        connect(store, "beta", ACME_ORG)
    message = str(refused.value)
    assert "'acme'" in message and "'beta'" in message and "20234695" in message
    assert "acme/books" in message and "beta/books" in message
    # Nothing of beta's connection reached the database: not the row, not its token.
    assert connection_ids(store) == ["acme/books"]
    binding = store.account_binding(ACME_ORG)
    assert binding is not None and binding.tenant_id == "acme"
    # Its own tenant reconnects freely (a new refresh token), the binding unchanged.
    connect(store, "acme", ACME_ORG)
    assert store.account_binding(ACME_ORG).tenant_id == "acme"


def test_a_shared_organisation_admits_only_the_tenants_its_owner_names(store: Store):
    connect(store, "acme", ACME_ORG, shared_with=["beta"])
    connect(store, "beta", ACME_ORG)  # named by the owner
    with pytest.raises(AccountBound, match="'gamma'"):
        connect(store, "gamma", ACME_ORG)
    assert store.check_account(ACME_ORG, "beta", "beta/books").tenant_id == "acme"
    # A reconnect without a declaration (``None``) keeps the sharing ...
    connect(store, "acme", ACME_ORG)
    assert store.account_binding(ACME_ORG).shared_with == ["beta"]
    # ... the owner's config dropping it ends it.
    store.bind_account(
        ACME_ORG, tenant_id="acme", connection_id="acme/books", platform="zohobooks", shared_with=[]
    )
    with pytest.raises(AccountBound, match="'beta'"):
        store.check_account(ACME_ORG, "beta", "beta/books")


def test_check_refuses_an_account_released_or_moved_to_another_tenant(store: Store):
    connect(store, "acme", ACME_ORG)
    assert store.check_account(ACME_ORG, "acme", "acme/books").tenant_id == "acme"
    with pytest.raises(AccountBound, match="only its own tenant releases it"):
        store.release_account(ACME_ORG, "beta")
    assert store.release_account(ACME_ORG, "acme") is True
    with pytest.raises(AccountBound, match="bound to no tenant"):
        store.check_account(ACME_ORG, "acme", "acme/books")
    store.bind_account(ACME_ORG, tenant_id="beta", connection_id="beta/books", platform="zohobooks")
    with pytest.raises(AccountBound) as moved:
        store.check_account(ACME_ORG, "acme", "acme/books")
    assert "'beta'" in str(moved.value) and "'acme'" in str(moved.value)
    assert [b.tenant_id for b in store.account_bindings()] == ["beta"]
