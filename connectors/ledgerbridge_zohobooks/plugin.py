"""Registers the Zoho Books target, its emulator and its ``connect`` command."""

from __future__ import annotations

from typing import Any

from ledgerbridge.contracts import ConnectorKind, ConnectorSpec, TargetCapability
from ledgerbridge.plugin_kit import commands, lazy, sandbox_app, targets

from .catalog import SPEC as CATALOG
from .settings import ZohoBooksSecrets, ZohoBooksSettings

__all__ = ["ZohoBooksSecrets", "ZohoBooksSettings", "register_commands", "register_targets"]


def _sandbox_info(url: str) -> Any:
    from ledgerbridge.sandbox import SandboxInfo

    from .emulator.seed import (
        EMULATOR_CLIENT_ID,
        EMULATOR_CLIENT_SECRET,
        MAIN_ORG,
        MERCHANT,
        SECOND_ORG,
    )

    return SandboxInfo(
        settings={"organization_id": MAIN_ORG, "api_url": url, "accounts_url": url},
        secrets={"client_id": EMULATOR_CLIENT_ID, "client_secret": EMULATOR_CLIENT_SECRET},
        notes=(
            f"organisations of the user {MERCHANT}: {MAIN_ORG} (Acme Books, USD), "
            f"{SECOND_ORG} (Acme Europe, EUR)",
            "store the refresh token with: ledgerbridge connect zohobooks --tenant TENANT "
            f"--name NAME --client-id {EMULATOR_CLIENT_ID} --client-secret "
            f"{EMULATOR_CLIENT_SECRET} --accounts-url {url} --api-url {url}",
            f"approve the consent URL it prints with &user={MERCHANT} appended; the browser "
            "lands on the redirect URI with ?code=...: paste that code",
            f"custom fields (the web app's Field Customization): POST {url}/_emulator/"
            'customfields {"organization_id": ..., "module": "invoices", "api_name": "cf_..."}',
        ),
    )


register_commands = commands("ledgerbridge_zohobooks.cli:register")
register_targets = targets(
    ConnectorSpec(
        name="zohobooks",
        kind=ConnectorKind.TARGET,
        title="Zoho Books",
        factory=lazy("ledgerbridge_zohobooks.target:ZohoBooksTarget"),
        settings_model=ZohoBooksSettings,
        secrets_model=ZohoBooksSecrets,
        # One Zoho Books organisation lives in one data centre: the pair is the account
        # bound to one tenant (docs/connectors/zohobooks.md, "One organisation, one tenant").
        account_settings=("data_center", "organization_id"),
        capabilities=frozenset(
            {
                TargetCapability.INVOICES,
                TargetCapability.SALES_RECEIPTS,
                TargetCapability.CREDIT_NOTES,
                TargetCapability.PAYMENTS,
                TargetCapability.CUSTOMER_ADVANCES,
                TargetCapability.CREDIT_REFUNDS,
                TargetCapability.VOID,
                TargetCapability.UPSERT_BY_KEY,
                TargetCapability.FIND_BY_REFERENCE,
                TargetCapability.TAX_INCLUSIVE,
                TargetCapability.MULTI_CURRENCY,
            }
        ),
        # ``orders`` is ignored: an organisation starts without sales documents.
        emulator=sandbox_app("ledgerbridge_zohobooks.emulator:create_app"),
        sandbox_info=_sandbox_info,
        description="OAuth 2.0, all data centres; invoices, receipts, payments, credit notes.",
        catalog=CATALOG,
    )
)
