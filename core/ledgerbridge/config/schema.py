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
PostingTrigger = Literal["placed", "paid", "fulfilled"]


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
    # When an order is posted (docs/engine.md, "Posting triggers"): placed (at once), paid
    # (once money is captured: any capture, or ``paid_when: full``), fulfilled (what shipped).
    posting_trigger: PostingTrigger = "placed"
    paid_when: Literal["any", "full"] = "any"
    enabled: bool = True


class TenantConfig(Strict):
    id: Identifier
    name: str = ""
    connections: dict[Identifier, ConnectionConfig] = Field(default_factory=dict)
    pipelines: list[PipelineConfig] = Field(default_factory=list)


class WorkersConfig(Strict):
    """Distributed mode (docs/deployment.md): Celery workers fed through a broker.

    Absent: the embedded mode (``ledgerbridge run``).  Each value may also come from the
    environment (``LEDGERBRIDGE_BROKER_URL``, ``LEDGERBRIDGE_REDIS_URL``), which wins.
    """

    broker_url: str | None = None  # redis://... or amqp://...
    result_backend: str | None = None  # tasks return nothing anyone waits on: none by default
    # Where account limits live: "process" (each process its own) or "redis" (shared).
    limits: Literal["process", "redis"] = "redis"
    redis_url: str | None = None  # the shared limits and dispatch budgets; default: broker's
    concurrency: int = Field(default=16, ge=1, le=1000)  # tasks at once in one worker
    queue: Identifier = "ledgerbridge"
    # A task yields its worker when its account would wait longer than this for a call.
    yield_after: Duration = timedelta(seconds=2)
    # Sweeps: due retries and unprocessed webhook events are re-dispatched this often.
    sweep_every: Duration = timedelta(seconds=30)
    # Redis broker: an unacknowledged task is handed out again after this long.
    visibility_timeout: Duration = timedelta(minutes=5)
    # A running share renews its pipeline's lease every third of this; a dead worker's
    # lease lapses after it, and its redelivered task runs.
    lease_ttl: Duration = timedelta(seconds=30)


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


class RunConfig(Strict):
    """The embedded scheduler (``ledgerbridge run``, docs/operations.md)."""

    # Pipelines running at once (different tenants; a tenant's own run one at a time).
    concurrency: int = Field(default=4, ge=1, le=100)


class LedgerbridgeConfig(Strict):
    version: Literal[1] = 1
    database: str | None = None
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)
    tenants: list[TenantConfig] = Field(default_factory=list)
    workers: WorkersConfig | None = None
    run: RunConfig = Field(default_factory=RunConfig)
