"""One target account, one tenant: the run-time half of the rule.

A target account (a Zoho Books organisation in its data centre; whatever a
connector names in ``ConnectorSpec.account_settings``) belongs to one tenant,
unless the config shares it explicitly.  The config loader refuses two tenants
on one account (``config/accounts.py``); here the store's binding is

* recorded when a connection is registered (``register_connection``, used by
  ``ledgerbridge connect``) and when the engine starts (``bind_accounts``),
  refusing an account bound to another tenant;
* checked at startup against the organisations the credentials reach
  (``verify_identity``): the configured organisation must be among them;
* checked before every unit of work (``UnitGuard``): an account released or
  moved to another tenant while a run goes on stops that run before its next
  write.

Every refusal is ``AccountBound`` naming both sides; nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import LoadedConfig
from ..contracts.spec import ConnectorSpec
from ..contracts.target import TargetIdentity
from ..errors import AccountBound
from ..plugins import Registry
from ..store import Connection, Store
from .journal import off_loop


def register_connection(
    store: Store,
    spec: ConnectorSpec,
    tenant_id: str,
    name: str,
    *,
    settings: Mapping[str, Any],
    secrets: dict[str, Any] | None = None,
    organization_id: str | None = None,
) -> Connection:
    """Store a connection made interactively (``ledgerbridge connect``) and bind its account.

    Refuses with ``AccountBound`` -- the tenant row aside, nothing written -- when the
    account belongs to another tenant.  A reconnect keeps the account's sharing as the
    engine last recorded it from the config."""
    store.upsert_tenant(tenant_id)
    return store.upsert_connection(
        tenant_id,
        name,
        platform=spec.name,
        kind=spec.kind.value,
        settings=dict(settings),
        secrets=secrets,
        organization_id=organization_id,
        account=spec.account_key(settings),
        shared_with=None,
    )


def bind_accounts(store: Store, config: LoadedConfig, registry: Registry) -> set[str]:
    """Bind every configured connection's account to its tenant, or refuse (startup).

    Owners first, so that an account shared on purpose is recorded with its sharing
    before the tenants it is shared with are checked against it.  Returns the accounts
    that were bound to no tenant before (claimed now: released again if the credentials
    turn out not to reach them, so a mistyped organisation never blocks its owner)."""
    claimed: set[str] = set()
    uses: list[tuple[int, str, str, ConnectorSpec, str, list[str]]] = []
    for tenant in config.config.tenants:
        for name, conn in tenant.connections.items():
            spec = registry.connectors.get(conn.platform)
            account = spec.account_key(conn.settings) if spec is not None else None
            if spec is None or account is None:
                continue
            current = store.account_binding(account)
            owner = current is None or current.tenant_id == tenant.id
            if current is None:
                claimed.add(account)
            uses.append((0 if owner else 1, tenant.id, name, spec, account, conn.shared_with))
    for _, tenant_id, name, spec, account, shared in sorted(uses, key=lambda u: u[0]):
        store.bind_account(
            account,
            tenant_id=tenant_id,
            connection_id=f"{tenant_id}/{name}",
            platform=spec.name,
            shared_with=shared,
        )
    return claimed


def verify_identity(
    spec: ConnectorSpec, settings: Any, identity: TargetIdentity, connection_id: str
) -> None:
    """The organisation the credentials reach is the configured one, and among those
    they can reach at all (a connector's own check is not relied on)."""
    configured = getattr(settings, "organization_id", None)
    if configured is None:
        return
    configured = str(configured)
    reachable = list(identity.reachable)
    if identity.organization_id != configured or (reachable and configured not in reachable):
        raise AccountBound(
            f"{connection_id} is configured for {spec.title} organisation {configured}, but "
            f"its credentials reach {identity.organization_id} "
            f"(reachable: {', '.join(reachable) or 'none'}); nothing is written"
        )


@dataclass
class UnitGuard:
    """Before each unit of work: the target's account is still bound to this tenant."""

    store: Store
    account: str
    tenant_id: str
    connection_id: str

    async def __call__(self) -> None:
        await off_loop(self.store.check_account, self.account, self.tenant_id, self.connection_id)


__all__ = ["UnitGuard", "bind_accounts", "register_connection", "verify_identity"]
