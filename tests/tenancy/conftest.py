"""The Zoho Books emulator on a real loopback socket, every exchange recorded."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.sandbox import serve
from ledgerbridge.store import Store
from ledgerbridge_zohobooks.emulator import Exchange, create_app

from ..conftest import PG_ENV


@dataclass
class Zoho:
    url: str
    emulator: Any
    exchanges: list[Exchange]

    @property
    def state(self) -> Any:
        return self.emulator.state

    def writes(self, since: int = 0) -> list[Exchange]:
        """The exchanges that could change books (anything but a GET)."""
        return [ex for ex in self.exchanges[since:] if ex.method != "GET"]


@pytest.fixture
def zoho() -> Iterator[Zoho]:
    exchanges: list[Exchange] = []
    app = create_app(observer=exchanges.append)
    with serve(app) as server:
        yield Zoho(server.url, app.emulator, exchanges)  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL: a SQLite file, or a fresh PostgreSQL schema (the engine tests' pattern)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    url = os.environ.get(PG_ENV)
    if url is None and os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: set {PG_ENV}")
    if url is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (CI sets it)")
    schema = f"n_{uuid.uuid4().hex[:12]}"
    admin = Store(url)
    with admin.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    base = admin.url
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with admin.engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.close()
