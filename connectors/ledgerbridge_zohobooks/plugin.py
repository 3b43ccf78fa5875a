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


def _emulator() -> Any:
    from .emulator import create_app

    return create_app()


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
            description="OAuth 2.0, all data centres; invoices, receipts, payments, credit notes.",
        )
    )


@hookimpl
def register_commands(cli: Any) -> None:
    from .cli import register

    register(cli)
