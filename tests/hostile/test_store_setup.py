"""Store setup is safe however it is started: a mounted receiver answers 503 with
Retry-After until its lifespan has set the store up, ``migrate`` run by many threads or
processes at once records the head exactly once, a store left with tables but no
migration record is recognised (repaired where safe), and a new SQLite store is 0600."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.routing import Mount

import ledgerbridge.webhooks
from ledgerbridge.errors import StoreError
from ledgerbridge.store import Store

from ..conftest import PG_ENV
from .receiver_world import make_world, woo_delivery
from .test_first_deliveries import head_revision


def versions(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]


def test_a_mounted_receiver_answers_503_with_retry_after_until_its_lifespan_ran(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path)
    hooks = ledgerbridge.webhooks.app(world.config_path)
    host = Starlette(routes=[Mount("/ledgerbridge", app=hooks)])
    body, headers = woo_delivery(7, "delivery-7")

    async def post() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=host)  # runs no lifespan
        async with httpx.AsyncClient(transport=transport, base_url="http://host") as client:
            url = "/ledgerbridge/webhooks/west/shop"
            answers = [
                await client.post(url, content=body, headers=headers),
                await client.get("/ledgerbridge/health"),
            ]
            async with ledgerbridge.webhooks.started(hooks):
                answers.append(await client.post(url, content=body, headers=headers))
                answers.append(await client.get("/ledgerbridge/health"))
            return answers

    early, early_health, ready, ready_health = anyio.run(post)
    assert early.status_code == 503 and early.headers["Retry-After"].isdigit(), early.text
    assert early_health.status_code == 503 and "Retry-After" in early_health.headers
    assert (ready.status_code, ready.json()) == (200, {"status": "stored"})
    assert ready_health.status_code == 200
    store = Store(world.database_url)
    try:
        [event] = store.pending_inbox(limit=10)
    finally:
        store.close()
    assert event.delivery_id == "delivery-7"


def test_a_store_that_cannot_be_set_up_answers_503_not_500(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    broken = Store(f"sqlite:///{tmp_path / 'no-such-dir' / 'state.db'}")
    hooks = ledgerbridge.webhooks.app(world.config_path, broken)
    body, headers = woo_delivery(8, "delivery-8")

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=hooks)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://host") as client,
            ledgerbridge.webhooks.started(hooks),
        ):
            return await client.post("/webhooks/west/shop", content=body, headers=headers)

    answer = anyio.run(post)
    assert answer.status_code == 503 and "Retry-After" in answer.headers, answer.text


def migrate_from_threads(make: object, count: int = 8) -> list[BaseException]:
    stores = [make() for _ in range(count)]  # type: ignore[operator]
    start = threading.Barrier(count)
    failures: list[BaseException] = []

    def go(store: Store) -> None:
        start.wait()
        try:
            store.migrate()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=go, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for s in stores:
        s.close()
    return failures


def test_migrate_from_many_threads_at_once_on_a_fresh_sqlite_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert migrate_from_threads(lambda: Store(url)) == []
    store = Store(url)
    try:
        assert versions(store) == [head_revision()]
    finally:
        store.close()


def test_migrate_from_many_processes_at_once_on_a_fresh_sqlite_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    argv = [sys.executable, "-m", "ledgerbridge", "migrate", "--database", url]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]  # fmt: skip
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in runs]
    assert all(code == 0 for code, _ in results), results
    store = Store(url)
    try:
        assert versions(store) == [head_revision()]
    finally:
        store.close()


@pytest.fixture
def pg_schema_url() -> Iterator[tuple[str, str]]:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: set {PG_ENV}")
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = Store(url)
    with admin.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield url, schema
    finally:
        with admin.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.mark.postgres
def test_migrate_from_many_threads_at_once_on_a_fresh_postgres_schema(
    pg_schema_url: tuple[str, str],
) -> None:
    url, schema = pg_schema_url

    def make() -> Store:
        return Store(url, connect_args={"options": f"-csearch_path={schema}"})

    assert migrate_from_threads(make) == []
    store = make()
    try:
        assert versions(store) == [head_revision()]
    finally:
        store.close()


def test_tables_without_a_migration_record_and_the_full_schema_are_stamped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = Store(url)
    store.migrate()
    store.upsert_tenant("acme", "Acme")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
    with caplog.at_level(logging.WARNING, logger="ledgerbridge.store"):
        store.migrate()
    assert versions(store) == [head_revision()]
    assert "no migration record" in caplog.text
    assert store.upsert_tenant("acme").name == "Acme", "the data is kept"
    store.close()


def test_empty_half_created_tables_without_a_record_are_created_afresh(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = Store(url)
    store.migrate()
    with store.engine.begin() as conn:  # what an interrupted first migration leaves
        conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.exec_driver_sql("DROP TABLE inbox_events")
    store.migrate()
    assert versions(store) == [head_revision()]
    assert store.pending_inbox() == []
    store.close()


def test_tables_with_data_but_no_record_and_not_the_schema_are_refused_clearly(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = Store(url)
    store.migrate()
    store.upsert_tenant("acme", "Acme")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.exec_driver_sql("DROP TABLE inbox_events")
    with pytest.raises(StoreError, match="no migration record") as caught:
        store.migrate()
    assert "tenants" in str(caught.value) and "Back the database up" in str(caught.value)
    store.close()


def test_a_new_sqlite_store_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = Store(f"sqlite:///{tmp_path / 'state.db'}")
        store.migrate()
        store.upsert_tenant("acme")
        store.close()
    finally:
        os.umask(old)
    for path in tmp_path.iterdir():
        if path.name.startswith("state.db"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
