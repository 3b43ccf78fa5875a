"""Registers the Zoho Books target, its emulator and its ``connect`` command."""

from __future__ import annotations

from typing import Any

from ledgerbridge import hookimpl
from ledgerbridge.contracts import ConnectorContext, ConnectorKind, ConnectorSpec, TargetCapability
from ledgerbridge.hookspecs import Register

from .settings import DataCenterCode as DataCenter
from .settings import ZohoBooksSecrets, ZohoBooksSettings

__all__ = ["ACCOUNT_SETTINGS", "DataCenter", "ZohoBooksSecrets", "ZohoBooksSettings"]

ACCOUNT_SETTINGS = ("data_center", "organization_id")


def _factory(context: ConnectorContext) -> Any:
    from .target import ZohoBooksTarget

    return ZohoBooksTarget(context)


def _emulator(orders: int | None = None) -> Any:
    """``orders`` is ignored: an organisation starts without sales documents."""
    from .emulator import create_app

    return create_app()


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


def _catalog_spec() -> Any:
    from .catalog import SPEC

    return SPEC


@hookimpl
def register_targets(register: Register) -> None:
    register(
        ConnectorSpec(
            name="zohobooks",
            kind=ConnectorKind.TARGET,
            title="Zoho Books",
            factory=_factory,
            settings_model=ZohoBooksSettings,
            secrets_model=ZohoBooksSecrets,
            # One Zoho Books organisation lives in one data centre: the pair is the account
            # bound to one tenant (docs/connectors/zohobooks.md, "One organisation, one tenant").
            account_settings=ACCOUNT_SETTINGS,
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
            status="ready",
            emulator=_emulator,
            sandbox_info=_sandbox_info,
            description="OAuth 2.0, all data centres; invoices, receipts, payments, credit notes.",
            catalog=_catalog_spec(),
        )
    )


@hookimpl
def register_commands(cli: Any) -> None:
    from .cli import register

    register(cli)
