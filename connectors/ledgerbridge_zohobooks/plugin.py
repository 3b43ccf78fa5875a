"""Registers the Zoho Books target. Shell until the Zoho Books connector issue lands."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ledgerbridge import hookimpl
from ledgerbridge.contracts import ConnectorKind, ConnectorSpec, TargetCapability
from ledgerbridge.hookspecs import Register

DataCenter = Literal["com", "eu", "in", "com.au", "jp", "ca", "com.cn", "sa"]


class ZohoBooksSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_center: DataCenter = "com"
    organization_id: str | None = Field(default=None, pattern=r"^\d*$")


class ZohoBooksSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: SecretStr | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None


@hookimpl
def register_targets(register: Register) -> None:
    register(
        ConnectorSpec(
            name="zohobooks",
            kind=ConnectorKind.TARGET,
            title="Zoho Books",
            settings_model=ZohoBooksSettings,
            secrets_model=ZohoBooksSecrets,
            capabilities=frozenset(
                {
                    TargetCapability.INVOICES,
                    TargetCapability.SALES_RECEIPTS,
                    TargetCapability.CREDIT_NOTES,
                    TargetCapability.PAYMENTS,
                    TargetCapability.VOID,
                    TargetCapability.UPSERT_BY_KEY,
                    TargetCapability.FIND_BY_REFERENCE,
                }
            ),
            status="shell",
            description="OAuth 2.0, all data centres; invoices, receipts, payments, credit notes.",
        )
    )
