"""The store's connection to its database: the URL (``LEDGERBRIDGE_DATABASE_URL``), the
engine (SQLite files private to their owner, WAL and foreign keys on), sessions and the
secret box.  Each part of the store (``migrate``, ``accounts``, ``leases``, ``store``)
builds on ``StoreBase``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from .secrets import SecretBox

DATABASE_URL_ENV = "LEDGERBRIDGE_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///ledgerbridge.db"


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


def redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class StoreBase:
    """One database, its engine and sessions."""

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
