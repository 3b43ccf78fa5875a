"""The state store: one SQLAlchemy database (SQLite by default, PostgreSQL at scale).

Only the engine and the CLI use it -- connectors never do; they get what they
need (credentials, locks) through ``ConnectorContext``.  Methods are small
repository operations, each in its own transaction, so that a unit of work
can run on any worker that shares the database.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection as DBConnection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, create_engine, select

from ..errors import AccountBound, ConfigError, StoreError
from .holders import holder_is_dead
from .models import (
    AccountBinding,
    Checkpoint,
    Connection,
    CrossReference,
    InboxEvent,
    Lease,
    Tenant,
)
from .secrets import SecretBox
from .types import utcnow

DATABASE_URL_ENV = "LEDGERBRIDGE_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///ledgerbridge.db"
MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATE_LOCK_TIMEOUT = 300.0
# pg_advisory_xact_lock key every ledgerbridge migration of a PostgreSQL database takes
PG_MIGRATE_LOCK_KEY = int.from_bytes(b"lbmigrat", "big")
# alembic keeps its migration context in module globals: one migration per process at a time
_PROCESS_MIGRATE_LOCK = threading.RLock()


def resolve_url(url: str | None = None) -> str:
    """Explicit URL, else ``LEDGERBRIDGE_DATABASE_URL``, else ``./ledgerbridge.db``."""
    return url or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for in-memory SQLite and other databases."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _create_private(path: Path | None) -> None:
    """Create a new SQLite file readable by its owner only (0600) before SQLite creates
    it with the umask's mode (typically 0644); SQLite gives its -wal and -shm files the
    database file's mode.  An existing file is left as it is."""
    if path is None:
        return
    # exists already, or no such directory (SQLite says so on connect): nothing to do
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def refusal(binding: AccountBinding, tenant_id: str, connection_id: str) -> str:
    """Why ``tenant_id`` may not use an account bound to another tenant (names both)."""
    return (
        f"{binding.account} is bound to tenant {binding.tenant_id!r} "
        f"(connection {binding.connection_id}); tenant {tenant_id!r} (connection "
        f"{connection_id}) may not write to it. One organisation belongs to one tenant: fix "
        f"{connection_id}'s settings, or declare the organisation shared: "
        f"{binding.connection_id} lists {tenant_id} in its shared_with and {connection_id} "
        f"lists {binding.tenant_id} (docs/configuration.md)"
    )


class Store:
    def __init__(
        self,
        url: str | None = None,
        *,
        secrets: SecretBox | None = None,
        connect_args: dict[str, Any] | None = None,
        echo: bool = False,
    ) -> None:
        self.url = resolve_url(url)
        args = dict(connect_args or {})
        if self.url.startswith("postgresql") and "+" not in self.url.split(":", 1)[0]:
            # Plain postgresql:// would pick psycopg2; we ship psycopg 3.
            self.url = self.url.replace("postgresql", "postgresql+psycopg", 1)
        if self.url.startswith("sqlite"):
            args.setdefault("check_same_thread", False)
        self.engine: Engine = create_engine(self.url, connect_args=args, echo=echo)
        if self.url.startswith("sqlite"):
            database_file = sqlite_file(self.url)
            # just before SQLite would create the file (with the umask's mode)
            event.listen(self.engine, "do_connect", lambda *_: _create_private(database_file))
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._secrets = secrets

    # ----------------------------------------------------------------- lifecycle

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` with alembic (safe to call every start).

        One migration at a time, however many start together: a process-wide lock
        (alembic's ``context`` is module-global, so two threads migrating at once
        corrupt each other) plus a lock the database's other users see -- a file lock
        beside a SQLite file, an advisory lock on PostgreSQL.  Under that lock a store
        left with tables but no migration record is recognised and, where that is
        safe, repaired (``_recover_unrecorded``).
        """
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with (
            _PROCESS_MIGRATE_LOCK,
            self._migrate_file_lock(),
            self.engine.begin() as connection,
        ):
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATE_LOCK_KEY}
                )
            cfg.attributes["connection"] = connection
            if self._recover_unrecorded(connection):
                command.stamp(cfg, "head")
            command.upgrade(cfg, revision)

    @contextmanager
    def _migrate_file_lock(self) -> Iterator[None]:
        """A lock file beside a SQLite database file (other processes migrating it wait)."""
        path = sqlite_file(self.url)
        if path is None or not path.parent.is_dir():
            yield  # in memory, or no such directory (SQLite says so; no lock file made)
            return
        from filelock import FileLock, Timeout

        lock = FileLock(f"{path}.migrate-lock", mode=0o600)
        try:
            with lock.acquire(timeout=MIGRATE_LOCK_TIMEOUT):
                yield
        except Timeout:
            raise StoreError(
                f"another process has been migrating {path} for over "
                f"{MIGRATE_LOCK_TIMEOUT:.0f}s (lock file {lock.lock_file}); "
                "try again when it is done"
            ) from None

    def _recover_unrecorded(self, connection: DBConnection) -> bool:
        """Recognise ledgerbridge tables without a migration record; True when the
        schema is complete and only the record is missing (the caller stamps head).

        Such a store was left by an interrupted or concurrent first migration (on
        SQLite each ``CREATE TABLE`` commits by itself).  If the tables hold no rows
        they are dropped and the migration runs afresh; if they are exactly the
        current schema the record is written; anything else is refused with what to do.
        """
        import logging

        from sqlalchemy import func, inspect, select
        from sqlmodel import SQLModel

        found = set(inspect(connection).get_table_names())
        ours = [t for t in SQLModel.metadata.sorted_tables if t.name in found]
        if not ours:
            return False
        if "alembic_version" in found:
            recorded = connection.execute(text("SELECT count(*) FROM alembic_version")).scalar()
            if recorded:
                return False
        log = logging.getLogger("ledgerbridge.store")
        where = _redacted(self.url)
        names = ", ".join(t.name for t in ours)
        rows = sum(
            connection.execute(select(func.count()).select_from(t)).scalar_one() for t in ours
        )
        if rows == 0:
            for table in reversed(ours):
                table.drop(connection)
            log.warning(
                "%s had ledgerbridge tables (%s) but no migration record -- left by an "
                "interrupted or concurrent first migration; they held no rows and are "
                "created afresh",
                where,
                names,
            )
            return False
        inspector = inspect(connection)
        complete = all(
            t.name in found
            and {c.name for c in t.columns} <= {c["name"] for c in inspector.get_columns(t.name)}
            for t in SQLModel.metadata.sorted_tables
        )
        if complete:
            log.warning(
                "%s has the current ledgerbridge schema but no migration record; "
                "recording it as migrated to the latest revision",
                where,
            )
            return True
        raise StoreError(
            f"{where} has ledgerbridge tables ({names}) holding {rows} row(s) but no migration "
            "record (alembic_version), and they are not the current schema, so ledgerbridge "
            "cannot tell which migration they are at. Back the database up, then restore a "
            "backup taken before the damage or move the data to a fresh store"
        )

    def schema_is_current(self) -> bool:
        """Whether the schema is at the newest migration, read without writing anything (a
        dry run refuses a store ``migrate`` would change, rather than change it)."""
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        heads = set(ScriptDirectory.from_config(cfg).get_heads())
        with self.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        return current == heads

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @property
    def secrets(self) -> SecretBox:
        if self._secrets is None:
            self._secrets = SecretBox.from_env()
        return self._secrets

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

    # ----------------------------------------------------------------- account bindings

    def bind_account(
        self,
        account: str,
        *,
        tenant_id: str,
        connection_id: str,
        platform: str,
        shared_with: Sequence[str] | None = None,
    ) -> AccountBinding:
        """Bind ``account`` to ``tenant_id``, or confirm it is bound to (or shared with) it.

        Refuses with ``AccountBound`` naming both tenants when another tenant holds it and
        does not share it.  ``shared_with`` (the owner's declaration) replaces the stored
        one when ``tenant_id`` owns the account; ``None`` leaves it as it is.
        """
        with self.session() as s:
            return self._bind(s, account, tenant_id, connection_id, platform, shared_with)

    def _bind(
        self,
        s: Session,
        account: str,
        tenant_id: str,
        connection_id: str,
        platform: str,
        shared_with: Sequence[str] | None,
    ) -> AccountBinding:
        row = s.get(AccountBinding, account, with_for_update=True)
        if row is None:
            row = AccountBinding(
                account=account,
                platform=platform,
                tenant_id=tenant_id,
                connection_id=connection_id,
                shared_with=sorted(set(shared_with or ()) - {tenant_id}),
            )
            s.add(row)
            s.flush()  # a concurrent binder of the same account fails here (primary key)
            return row
        if row.tenant_id != tenant_id:
            if tenant_id not in row.shared_with:
                raise AccountBound(refusal(row, tenant_id, connection_id))
            return row
        if shared_with is not None:
            row.shared_with = sorted(set(shared_with) - {tenant_id})
        row.connection_id, row.updated_at = connection_id, utcnow()
        s.add(row)
        return row

    def account_binding(self, account: str) -> AccountBinding | None:
        with self.session() as s:
            return s.get(AccountBinding, account)

    def account_bindings(self, tenant_id: str | None = None) -> list[AccountBinding]:
        with self.session() as s:
            stmt = select(AccountBinding)
            if tenant_id is not None:
                stmt = stmt.where(AccountBinding.tenant_id == tenant_id)
            return list(s.exec(stmt.order_by(AccountBinding.account)))

    def check_account(self, account: str, tenant_id: str, connection_id: str) -> AccountBinding:
        """The binding that lets ``tenant_id`` write to ``account``; ``AccountBound`` if none.

        Read-only: checked before every unit of work, so an account moved to another
        tenant while a run goes on stops that run before its next write.  One primary-key
        read outside the ORM's session: it runs once per unit of work."""
        table = AccountBinding.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            found = conn.execute(sa_select(table).where(table.c.account == account)).first()
        row = AccountBinding(**found._mapping) if found is not None else None
        if row is None:
            raise AccountBound(
                f"{account} is bound to no tenant any more (it was released while "
                f"{connection_id} was running); tenant {tenant_id!r} writes nothing to it "
                "until it is bound again (restart, or `ledgerbridge connect`)"
            )
        if row.tenant_id != tenant_id and tenant_id not in row.shared_with:
            raise AccountBound(refusal(row, tenant_id, connection_id))
        return row

    def release_account(self, account: str, tenant_id: str) -> bool:
        """Unbind ``account`` from its owner ``tenant_id`` (moving an organisation to another
        tenant); ``False`` when it was not bound.  Refuses to release another tenant's."""
        with self.session() as s:
            row = s.get(AccountBinding, account, with_for_update=True)
            if row is None:
                return False
            if row.tenant_id != tenant_id:
                raise AccountBound(
                    f"{account} is bound to tenant {row.tenant_id!r}, not {tenant_id!r}: "
                    "only its own tenant releases it"
                )
            s.delete(row)
            return True

    def mark_needs_reconnect(self, connection_id: str, reason: str) -> None:
        """A run met dead credentials on this connection: ``status`` shows it until cleared."""
        with self.session() as s:
            row = s.get(Connection, connection_id)
            if row is None:
                return
            if row.reconnect_reason is None:
                row.reconnect_since = utcnow()
            row.reconnect_reason = reason
            s.add(row)

    def clear_needs_reconnect(self, connection_id: str) -> None:
        """The connection's credentials work again (a call went through)."""
        with self.session() as s:
            row = s.get(Connection, connection_id)
            if row is not None and row.reconnect_reason is not None:
                row.reconnect_reason, row.reconnect_since = None, None
                s.add(row)

    def needing_reconnect(self) -> list[Connection]:
        with self.session() as s:
            stmt = select(Connection).where(Connection.reconnect_reason.is_not(None))  # type: ignore[union-attr]
            return list(s.exec(stmt))

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

    # ----------------------------------------------------------------- leases

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take ``name`` for ``ttl`` unless someone else holds an unexpired lease.

        Works across processes and hosts: the row's primary key is the lock.  An
        expired lease may be taken over (a crashed holder cannot block forever), and
        so may one whose holder is provably dead -- same host, its process gone
        (``holders.holder_is_dead``) -- at once.
        """
        now = utcnow()
        try:
            with self.session() as s:
                row = s.get(Lease, name, with_for_update=True)
                if row is None:
                    s.add(Lease(name=name, holder=holder, expires_at=now + ttl, acquired_at=now))
                    return True
                if row.holder != holder and row.expires_at > now and not holder_is_dead(row.holder):
                    return False
                row.holder, row.expires_at, row.acquired_at = holder, now + ttl, now
                s.add(row)
                return True
        except IntegrityError:
            return False  # another process inserted it first

    def release_lease(self, name: str, holder: str) -> None:
        with self.session() as s:
            row = s.get(Lease, name)
            if row is not None and row.holder == holder:
                s.delete(row)

    def lease_holder(self, name: str) -> tuple[str, datetime] | None:
        with self.session() as s:
            row = s.get(Lease, name)
            if row is None or row.expires_at <= utcnow():
                return None
            return row.holder, row.expires_at

    def leases(self) -> list[Lease]:
        """Every lease, held or expired (``status`` shows them with holder and expiry)."""
        with self.session() as s:
            return list(s.exec(select(Lease).order_by(Lease.name)))

    def get_lease(self, name: str) -> Lease | None:
        with self.session() as s:
            return s.get(Lease, name)

    def break_lease(self, name: str, holder: str) -> bool:
        """Remove ``name`` if ``holder`` still holds it (``ledgerbridge unlock``): the holder
        confirmed by the operator, never one that took the lease since."""
        with self.session() as s:
            row = s.get(Lease, name, with_for_update=True)
            if row is None or row.holder != holder:
                return False
            s.delete(row)
            return True
