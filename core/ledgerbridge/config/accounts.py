"""One target account, one tenant: the config-load half of the rule.

A target connector names the settings that identify the account it writes to
(``ConnectorSpec.account_settings``; Zoho Books: data centre and organisation).
Two tenants whose connections reach the same account would write into each
other's books, so the loader refuses it -- with the position of every
connection involved -- unless each of those connections lists the others'
tenants in ``shared_with``.  The store holds the same rule at run time
(``Store.bind_account``); this check catches it before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SourceLocation
from ..plugins import Registry
from ..yamlfile import YamlDocument
from .schema import LedgerbridgeConfig

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class _Use:
    """One connection reaching an account."""

    tenant: str
    connection: str
    at: Loc  # the connection in the YAML
    shared_with: frozenset[str]


def check_accounts(
    config: LedgerbridgeConfig, doc: YamlDocument, registry: Registry
) -> list[tuple[SourceLocation, str]]:
    problems: list[tuple[SourceLocation, str]] = []
    tenants = {t.id for t in config.tenants}
    uses: dict[str, list[_Use]] = {}
    for ti, tenant in enumerate(config.tenants):
        for name, conn in tenant.connections.items():
            at: Loc = ("tenants", ti, "connections", name)
            for si, named in enumerate(conn.shared_with):
                if named not in tenants:
                    problems.append(
                        (
                            doc.locate((*at, "shared_with", si)),
                            f"shared_with names tenant {named!r}, which is not in this file "
                            f"(tenants: {', '.join(sorted(tenants))})",
                        )
                    )
            spec = registry.connectors.get(conn.platform)
            account = spec.account_key(conn.settings) if spec is not None else None
            if spec is None or account is None:
                continue
            setting = next((s for s in reversed(spec.account_settings) if s in conn.settings), None)
            where: Loc = (*at, "settings", setting) if setting else at
            uses.setdefault(account, []).append(
                _Use(tenant.id, name, where, frozenset(conn.shared_with))
            )
    for account, found in uses.items():
        for use in found:
            for other in found:
                if other.tenant == use.tenant or other.tenant in use.shared_with:
                    continue
                there = doc.locate(other.at)
                problems.append(
                    (
                        doc.locate(use.at),
                        f"{account} of {use.tenant}/{use.connection} is also reached by "
                        f"tenant {other.tenant!r} ({other.tenant}/{other.connection} at {there}). "
                        "One organisation belongs to one tenant: fix the settings, or declare "
                        f"it shared: {use.tenant}/{use.connection} lists {other.tenant} in its "
                        f"shared_with and {other.tenant}/{other.connection} lists {use.tenant}",
                    )
                )
    return problems
