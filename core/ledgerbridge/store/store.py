"""The state store: one SQLAlchemy database (SQLite by default, PostgreSQL at scale).

Only the engine and the CLI use it -- connectors never do; they get what they
need (credentials, locks) through ``ConnectorContext``.  Methods are small
repository operations, each in its own transaction, so that a unit of work
can run on any worker that shares the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from ..errors import ConfigError
from .accounts import AccountStore, refusal
from .base import DATABASE_URL_ENV, DEFAULT_DATABASE_URL, resolve_url, sqlite_file
from .leases import LeaseStore
from .migrate import MIGRATIONS, Migrations
from .models import (
    Checkpoint,
    Connection,
    CrossReference,
    InboxEvent,
    Tenant,
)
from .types import utcnow


class Store(Migrations, AccountStore, LeaseStore):
    """The state store: schema (``migrate``), account bindings (``accounts``), leases
    (``leases``); here tenants, connections, checkpoints, cross-references, the inbox."""

    # ----------------------------------------------------------------- tenants & connections

    def upsert_tenant(self, tenant_id: str, name: str = "") -> Tenant:
        with self.session() as s:
            row = s.get(Tenant, tenant_id)
            if row is None:
                row = Tenant(id=tenant_id, name=name)
            else:
                row.name = name or row.name
            s.add(row)
            return row

    def upsert_connection(
        self,
        tenant_id: str,
        name: str,
        *,
        platform: str,
        kind: str,
        settings: dict[str, Any] | None = None,
        secrets: dict[str, Any] | None = None,
        organization_id: str | None = None,
        account: str | None = None,
        shared_with: Sequence[str] | None = None,
    ) -> Connection:
        """Create or update a connection; ``secrets`` are encrypted before reaching the database.

        ``account`` (``ConnectorSpec.account_key``): the target account the connection
        reaches is bound to ``tenant_id`` in the same transaction -- or, when it is bound
        to another tenant that does not share it, ``AccountBound`` and nothing is written.
        """
        conn_id = f"{tenant_id}/{name}"
        with self.session() as s:
            if account is not None:
                self._bind(s, account, tenant_id, conn_id, platform, shared_with)
            row = s.get(Connection, conn_id) or Connection(
                id=conn_id, tenant_id=tenant_id, name=name, platform=platform, kind=kind
            )
            row.platform, row.kind = platform, kind
            if settings is not None:
                row.settings = dict(settings)
            if secrets is not None:
                row.secrets = self.secrets.encrypt(secrets) if secrets else None
                # New credentials (``ledgerbridge connect``): no longer known to be dead.
                row.reconnect_reason, row.reconnect_since = None, None
            if organization_id is not None:
                row.organization_id = organization_id
            row.updated_at = utcnow()
            s.add(row)
            return row

    def get_connection(self, connection_id: str) -> Connection | None:
        with self.session() as s:
            return s.get(Connection, connection_id)

    def connection_secrets(self, connection_id: str) -> dict[str, Any]:
        row = self.get_connection(connection_id)
        if row is None or not row.secrets:
            return {}
        return self.secrets.decrypt(row.secrets)

    def update_connection_secrets(self, connection_id: str, **changes: Any) -> None:
        """Merge ``changes`` into a connection's encrypted secrets (e.g. a new refresh token)."""
        with self.session() as s:
            row = s.get(Connection, connection_id)
            if row is None:
                raise ConfigError(f"unknown connection {connection_id!r}")
            current = self.secrets.decrypt(row.secrets) if row.secrets else {}
            current.update(changes)
            row.secrets = self.secrets.encrypt(current)
            row.updated_at = utcnow()
            s.add(row)

    # ----------------------------------------------------------------- checkpoints

    def get_checkpoint(self, pipeline_id: str, entity: str) -> str | None:
        with self.session() as s:
            row = s.get(Checkpoint, (pipeline_id, entity))
            return row.value if row else None

    def set_checkpoint(self, pipeline_id: str, entity: str, value: str) -> None:
        with self.session() as s:
            row = s.get(Checkpoint, (pipeline_id, entity)) or Checkpoint(
                pipeline_id=pipeline_id, entity=entity, value=value
            )
            row.value, row.updated_at = value, utcnow()
            s.add(row)

    # ----------------------------------------------------------------- cross-references

    def get_xref(
        self,
        tenant_id: str,
        source_connection_id: str,
        entity: str,
        external_id: str,
        target_connection_id: str,
        target_kind: str,
    ) -> CrossReference | None:
        with self.session() as s:
            stmt = select(CrossReference).where(
                CrossReference.tenant_id == tenant_id,
                CrossReference.source_connection_id == source_connection_id,
                CrossReference.entity == entity,
                CrossReference.external_id == external_id,
                CrossReference.target_connection_id == target_connection_id,
                CrossReference.target_kind == target_kind,
            )
            return s.exec(stmt).first()

    def put_xref(self, ref: CrossReference) -> CrossReference:
        """Insert or update the binding (same source record + target kind = one row)."""
        existing = self.get_xref(
            ref.tenant_id,
            ref.source_connection_id,
            ref.entity,
            ref.external_id,
            ref.target_connection_id,
            ref.target_kind,
        )
        with self.session() as s:
            if existing is not None:
                existing.target_id, existing.fingerprint = ref.target_id, ref.fingerprint
                existing.updated_at = utcnow()
                s.add(existing)
                return existing
            s.add(ref)
            return ref

    # ----------------------------------------------------------------- inbox

    def add_inbox_event(self, event_row: InboxEvent) -> bool:
        """Store a webhook event; ``False`` when this delivery was already stored (duplicate)."""
        try:
            with self.session() as s:
                s.add(event_row)
        except IntegrityError:
            return False
        return True

    def pending_inbox(self, connection_id: str | None = None, limit: int = 100) -> list[InboxEvent]:
        with self.session() as s:
            stmt = select(InboxEvent).where(InboxEvent.status == "new")
            if connection_id is not None:
                stmt = stmt.where(InboxEvent.connection_id == connection_id)
            stmt = stmt.order_by(InboxEvent.id).limit(limit)  # type: ignore[arg-type]
            return list(s.exec(stmt))


__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "MIGRATIONS",
    "Store",
    "refusal",
    "resolve_url",
    "sqlite_file",
]
