"""The shape of ``ledgerbridge.yaml``: tenants, their connections, their pipelines."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr

from ..canonical import EntityType
from ..canonical.money import ExactDecimal

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _duration(value: Any) -> Any:
    if isinstance(value, int | Decimal):
        return timedelta(seconds=int(value))
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError("expected a duration such as 30s, 5m, 1h or 1d")
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConnectionConfig(Strict):
    """An account on one platform. ``settings`` and ``secrets`` are checked
    against the connector's own models once the connector is known."""

    platform: Identifier
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, SecretStr] = Field(default_factory=dict)
    # The other tenants whose connections reach the same account (a Zoho Books organisation)
    # on purpose. Both sides declare it; otherwise one account belongs to one tenant.
    shared_with: list[Identifier] = Field(default_factory=list)


PostingPolicy = Literal["invoice", "sales_receipt", "daily_summary"]


class PipelineConfig(Strict):
    id: Identifier
    source: Identifier
    target: Identifier
    mapping: str
    posting_policy: PostingPolicy | None = None  # None: the mapping's posting_policy
    entities: list[EntityType] = Field(default_factory=lambda: [EntityType.ORDER])
    interval: Duration = timedelta(minutes=5)
    rounding_tolerance: ExactDecimal = Decimal("0.01")
    # auto: once the pipeline has run, its intents vouch that a write was never attempted
    # and the target may skip its search before creating; always: search on every create.
    search_before_create: Literal["auto", "always"] = "auto"
    enabled: bool = True


class TenantConfig(Strict):
    id: Identifier
    name: str = ""
    connections: dict[Identifier, ConnectionConfig] = Field(default_factory=dict)
    pipelines: list[PipelineConfig] = Field(default_factory=list)


class ConsoleUserConfig(Strict):
    """A console log-in declared in the config (``ledgerbridge users hash`` makes the hash)."""

    username: Identifier
    password_hash: SecretStr
    role: Literal["viewer", "operator", "admin"] = "viewer"
    tenants: list[str] = Field(default_factory=list)  # tenant ids, or ["*"] for all


class ConsoleConfig(Strict):
    """The operator console (docs/console.md)."""

    secret_key: SecretStr | None = None  # signs session cookies; else LEDGERBRIDGE_CONSOLE_KEY
    session_ttl: Duration = timedelta(hours=8)
    secure_cookies: bool = False  # True behind HTTPS
    trusted_header: str | None = None  # e.g. X-Forwarded-User from an SSO proxy; off by default
    users: list[ConsoleUserConfig] = Field(default_factory=list)


class LedgerbridgeConfig(Strict):
    version: Literal[1] = 1
    database: str | None = None
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)
    tenants: list[TenantConfig] = Field(default_factory=list)
