"""The tables of the state store.

One row class per table; the columns say what a row holds.  Behaviour lives
in ``store.py`` (repository methods) and, later, in the engine -- not here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


def _ts(nullable: bool = False) -> Any:
    return Field(
        default_factory=None if nullable else utcnow,
        sa_type=UTCDateTime,
        nullable=nullable,
    )


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RecordState(StrEnum):
    """The sync-record state machine (see docs/operations.md once the engine lands)."""

    PENDING = "pending"
    SYNCED = "synced"
    RETRYING = "retrying"
    FAILED = "failed"
    NEEDS_MAPPING = "needs_mapping"
    CONFLICT = "conflict"
    SKIPPED = "skipped"
    WAITING = "waiting"  # not yet at the pipeline's posting trigger; the reason says for what


class Tenant(SQLModel, table=True):
    __tablename__ = "tenants"

    id: str = Field(primary_key=True, max_length=100)
    name: str = Field(default="", max_length=200)
    created_at: datetime = _ts()


class Connection(SQLModel, table=True):
    """A tenant's account on one platform. ``secrets`` is ciphertext, never plain text."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: str = Field(primary_key=True, max_length=200)  # "<tenant>/<name>"
    tenant_id: str = Field(foreign_key="tenants.id", index=True, max_length=100)
    name: str = Field(max_length=100)
    platform: str = Field(max_length=100)
    kind: str = Field(max_length=20)  # source | target
    settings: dict[str, Any] = _json()
    secrets: str | None = Field(default=None, sa_type=Text)
    organization_id: str | None = Field(default=None, max_length=100)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    # Set when a run met dead credentials (revoked refresh token, ...): why, and since when.
    # ``status`` shows it; a successful connect or a run that reaches the platform clears it.
    reconnect_reason: str | None = Field(default=None, sa_type=Text)
    reconnect_since: datetime | None = _ts(nullable=True)


class AccountBinding(SQLModel, table=True):
    """An account on a target platform (a Zoho Books organisation in its data centre) and
    the one tenant it belongs to.

    ``account`` is the connector's account key (``ConnectorSpec.account_key``); being the
    primary key, two processes cannot bind it to two tenants.  ``shared_with`` lists the
    tenants the owner's config shares it with explicitly (``shared_with:`` in the YAML).
    """

    __tablename__ = "account_bindings"

    account: str = Field(primary_key=True, max_length=300)
    platform: str = Field(max_length=100)
    tenant_id: str = Field(index=True, max_length=100)
    connection_id: str = Field(max_length=200)
    shared_with: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Checkpoint(SQLModel, table=True):
    """How far a pipeline has durably read one entity of its source."""

    __tablename__ = "checkpoints"

    pipeline_id: str = Field(primary_key=True, max_length=200)
    entity: str = Field(primary_key=True, max_length=50)
    value: str = Field(sa_type=Text)
    updated_at: datetime = _ts()


class CrossReference(SQLModel, table=True):
    """Binder: a source record's external id <-> the target record written for it."""

    __tablename__ = "cross_references"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "source_connection_id", "entity", "external_id",
            "target_connection_id", "target_kind",
        ),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(index=True, max_length=100)
    source_connection_id: str = Field(max_length=200)
    entity: str = Field(max_length=50)
    external_id: str = Field(max_length=200)
    target_connection_id: str = Field(max_length=200)
    target_kind: str = Field(max_length=50)
    target_id: str = Field(max_length=100)
    fingerprint: str | None = Field(default=None, max_length=128)
    snapshot: dict[str, Any] = (
        _json()
    )  # what we last wrote (totals, version, target's modified time)
    updated_at: datetime = _ts()


class SyncRecord(SQLModel, table=True):
    """One source record in one pipeline, and where it stands."""

    __tablename__ = "sync_records"
    __table_args__ = (UniqueConstraint("pipeline_id", "entity", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(index=True, max_length=100)
    pipeline_id: str = Field(index=True, max_length=200)
    entity: str = Field(max_length=50)
    external_id: str = Field(max_length=200, index=True)
    # The order number a merchant and an accountant see (``Order.number``: Shopify's "#1003",
    # WooCommerce's "1003"), as the source shows it; set when the record is first mapped
    # (a record that could not be read has none).  ``store/orders.py`` finds records by it.
    number: str | None = Field(default=None, max_length=200, index=True)
    source_version: str | None = Field(default=None, max_length=100)
    synced_version: str | None = Field(default=None, max_length=100)
    state: str = Field(default=RecordState.PENDING.value, max_length=20, index=True)  # RecordState
    reason: str | None = Field(default=None, sa_type=Text)
    error_class: str | None = Field(default=None, max_length=100)
    error_code: str | None = Field(default=None, max_length=100)
    missing_key: str | None = Field(default=None, max_length=300)
    retry_safe: bool = True
    attempt_count: int = 0
    next_attempt_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class SyncAttempt(SQLModel, table=True):
    """History of a record: every state change with its timing and error."""

    __tablename__ = "sync_attempts"

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="sync_records.id", index=True)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    started_at: datetime = _ts()
    finished_at: datetime | None = _ts(nullable=True)
    error: dict[str, Any] = _json()
    request_summary: dict[str, Any] = _json()


class ConflictRecord(SQLModel, table=True):
    __tablename__ = "conflicts"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(index=True, max_length=100)
    pipeline_id: str = Field(max_length=200)
    record_id: int | None = Field(default=None, foreign_key="sync_records.id")
    entity: str = Field(max_length=50)
    external_id: str = Field(max_length=200)
    target_id: str | None = Field(default=None, max_length=100)
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source_snapshot: dict[str, Any] = _json()
    target_snapshot: dict[str, Any] = _json()
    status: str = Field(default="open", max_length=20, index=True)
    resolution: str | None = Field(default=None, max_length=20)
    created_at: datetime = _ts()
    resolved_at: datetime | None = _ts(nullable=True)


class AuditEvent(SQLModel, table=True):
    """One remote write, linked to the source change that caused it."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(index=True, max_length=100)
    pipeline_id: str = Field(max_length=200)
    record_id: int | None = Field(default=None, foreign_key="sync_records.id", index=True)
    source_id: str = Field(max_length=200, index=True)
    source_version: str | None = Field(default=None, max_length=100)
    idempotency_key: str = Field(max_length=400, index=True)
    operation: str = Field(max_length=50)
    target_id: str | None = Field(default=None, max_length=100)
    outcome: str = Field(max_length=30)
    duration_ms: int | None = None
    attempt: int = 1
    at: datetime = _ts()
    details: dict[str, Any] = _json()


class InboxEvent(SQLModel, table=True):
    """A verified webhook delivery waiting to be processed (de-duplicated per connection)."""

    __tablename__ = "inbox_events"
    __table_args__ = (UniqueConstraint("connection_id", "delivery_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(index=True, max_length=100)
    connection_id: str = Field(max_length=200)
    delivery_id: str = Field(max_length=200)
    topic: str = Field(max_length=100)
    entity: str = Field(max_length=50)
    external_id: str = Field(max_length=200)
    version: str | None = Field(default=None, max_length=100)
    deleted: bool = False
    status: str = Field(default="new", max_length=20, index=True)
    received_at: datetime = _ts()
    processed_at: datetime | None = _ts(nullable=True)


class WriteIntent(SQLModel, table=True):
    """A remote write we are about to make (``pending``) or made (``done``).

    Recorded *before* the call and completed *after* it: a ``pending`` intent
    found later means the outcome is unknown (crash, lost response), so the
    engine looks the document up by business key before writing again.
    """

    __tablename__ = "write_intents"

    key: str = Field(primary_key=True, max_length=400)
    tenant_id: str = Field(index=True, max_length=100)
    pipeline_id: str = Field(max_length=200)
    record_id: int | None = Field(default=None, foreign_key="sync_records.id", index=True)
    scope: str = Field(max_length=300, index=True)  # key without the version: pending lookups
    operation: str = Field(max_length=50)
    status: str = Field(default="pending", max_length=20)  # pending | done | adopted
    target_id: str | None = Field(default=None, max_length=100)
    created_at: datetime = _ts()
    completed_at: datetime | None = _ts(nullable=True)


class Lease(SQLModel, table=True):
    """A named lock shared by every process using the store (pipeline runs, token refresh)."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=300)
    holder: str = Field(max_length=200)
    expires_at: datetime = _ts()
    acquired_at: datetime = _ts()


__all__ = [
    "AccountBinding",
    "AuditEvent",
    "Checkpoint",
    "ConflictRecord",
    "Connection",
    "CrossReference",
    "InboxEvent",
    "Lease",
    "RecordState",
    "SyncAttempt",
    "SyncRecord",
    "Tenant",
    "WriteIntent",
]
