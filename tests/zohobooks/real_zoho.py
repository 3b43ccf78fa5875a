"""Recording against a real Zoho Books organisation (maintainers only; see docs/recording.md).

Credentials come from the environment and never from files:
``ZOHO_CLIENT_ID``, ``ZOHO_CLIENT_SECRET``, ``ZOHO_REFRESH_TOKEN``,
``ZOHO_ORGANIZATION_ID`` and ``ZOHO_DATA_CENTER`` (com, eu, in, com.au, jp, ca, com.cn, sa, uk).
"""

from __future__ import annotations

import os

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.contracts.context import MemoryCredentials
from ledgerbridge_zohobooks.settings import ZohoBooksSecrets, ZohoBooksSettings
from ledgerbridge_zohobooks.target import ZohoBooksTarget

from .cassette_scenarios import ORG_PLACEHOLDER, secrets_for


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set (see docs/recording.md)")
    return value


def real_target() -> ZohoBooksTarget:
    context = ConnectorContext(
        connection_id="recording/books",
        tenant_id="recording",
        settings=ZohoBooksSettings(
            data_center=_env("ZOHO_DATA_CENTER"),  # type: ignore[arg-type]
            organization_id=_env("ZOHO_ORGANIZATION_ID"),
            key_field="cf_ledgerbridge_key",
        ),
        secrets=ZohoBooksSecrets(
            client_id=_env("ZOHO_CLIENT_ID"),
            client_secret=_env("ZOHO_CLIENT_SECRET"),
            refresh_token=_env("ZOHO_REFRESH_TOKEN"),
        ),
        credentials=MemoryCredentials(),
    )
    return ZohoBooksTarget(context)


def real_secrets() -> dict[str, str]:
    values = secrets_for(
        client_id=_env("ZOHO_CLIENT_ID"),
        client_secret=_env("ZOHO_CLIENT_SECRET"),
        refresh_token=_env("ZOHO_REFRESH_TOKEN"),
        organization_id=_env("ZOHO_ORGANIZATION_ID"),
        tokens=[],
    )
    assert values[_env("ZOHO_ORGANIZATION_ID")] == ORG_PLACEHOLDER
    return values
