"""Durable state: tenants, connections, account bindings, checkpoints, cross-references, sync
records and their history, conflicts, audit events, the webhook inbox, leases."""

from .catalog_models import CatalogFieldState, CatalogVariant
from .console_models import ConsoleUser
from .models import (
    AccountBinding,
    AuditEvent,
    Checkpoint,
    ConflictRecord,
    Connection,
    CrossReference,
    InboxEvent,
    Lease,
    RecordState,
    SyncAttempt,
    SyncRecord,
    Tenant,
    WriteIntent,
)
from .record_counts import RecordStateCount
from .secrets import SecretBox, generate_key
from .store import DATABASE_URL_ENV, DEFAULT_DATABASE_URL, Store, resolve_url

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "AccountBinding",
    "AuditEvent",
    "CatalogFieldState",
    "CatalogVariant",
    "Checkpoint",
    "ConflictRecord",
    "Connection",
    "ConsoleUser",
    "CrossReference",
    "InboxEvent",
    "Lease",
    "RecordState",
    "RecordStateCount",
    "SecretBox",
    "Store",
    "SyncAttempt",
    "SyncRecord",
    "Tenant",
    "WriteIntent",
    "generate_key",
    "resolve_url",
]
