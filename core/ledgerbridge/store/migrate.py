"""Schema migrations (alembic), one at a time however many processes start together,
and the repair of a store left with tables but no migration record."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection as DBConnection

from ..errors import StoreError
from .base import StoreBase, redacted, sqlite_file

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATE_LOCK_TIMEOUT = 300.0
# pg_advisory_xact_lock key every ledgerbridge migration of a PostgreSQL database takes
PG_MIGRATE_LOCK_KEY = int.from_bytes(b"lbmigrat", "big")
# alembic keeps its migration context in module globals: one migration per process at a time
_PROCESS_MIGRATE_LOCK = threading.RLock()


class Migrations(StoreBase):
    """The store's schema, brought to the newest migration."""

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
        where = redacted(self.url)
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
