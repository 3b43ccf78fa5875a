"""Shared fixtures.

``store`` runs every store test on SQLite and -- when
``LEDGERBRIDGE_TEST_POSTGRES_URL`` is set (CI sets it) -- on PostgreSQL too, each
test in a schema of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from ledgerbridge.store import SecretBox, Store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REFDATA = SHARED / "refdata"
PG_ENV = "LEDGERBRIDGE_TEST_POSTGRES_URL"


def pip_install(target: Path, *packages: Path) -> Path:
    """Really install local packages (with their entry points) into ``target``, offline."""
    import subprocess
    import sys

    for package in packages:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
             "--no-build-isolation", "--no-index", "--target", str(target), str(package)],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return target


def refdata(*parts: str) -> Path:
    """Path into ../shared/refdata, skipping the test with a clear reason when absent."""
    path = REFDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data {path} is not present (CI has ../shared beside the repo)")
    return path


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("LEDGERBRIDGE_SECRET_KEY", key)
    return key


def _postgres_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def postgres_url_or_skip() -> str:
    """The test PostgreSQL URL; skipped without one, a failure under CI (which must run them)."""
    url = _postgres_url()
    if url is None and os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: set {PG_ENV} (.ci/run does)")
    if url is None:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (CI sets it; e.g. postgresql://postgres@127.0.0.1/test)"
        )
    return url


@contextmanager
def postgres_schema(url: str, prefix: str = "t") -> Iterator[tuple[str, str]]:
    """A fresh schema of its own in the test database, dropped afterwards: its name and a
    store URL that selects it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = Store(url)
    with admin.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    base = admin.url
    try:
        yield schema, f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL: a SQLite file, or (CI) a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    with postgres_schema(postgres_url_or_skip(), "e") as (_schema, url):
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path, secret_key: str) -> Iterator[Store]:
    if request.param == "sqlite":
        st = Store(f"sqlite:///{tmp_path / 'ledgerbridge.db'}", secrets=SecretBox([secret_key]))
        st.migrate()
        yield st
        st.close()
        return
    with postgres_schema(postgres_url_or_skip()) as (schema, _url):
        st = Store(
            _postgres_url() or "",
            secrets=SecretBox([secret_key]),
            connect_args={"options": f"-csearch_path={schema}"},
        )
        try:
            st.migrate()
            yield st
        finally:
            st.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the few long end-to-end tests (marked ``slow``) first: with ``-n 4`` the suite's
    wall time is its work shared by four processes, unless a long test is handed out last
    and runs alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
