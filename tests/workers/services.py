"""The real services the distributed tests need: reach them, or skip (fail under CI=true)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

REDIS_URL = os.environ.get("LEDGERBRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("LEDGERBRIDGE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
PG_ENV = "LEDGERBRIDGE_TEST_POSTGRES_URL"


def _missing(what: str, how: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the distributed tests: {what} ({how}; .ci/run starts it)")
    pytest.skip(f"distributed tests need {what} ({how})")


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def need_redis() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        _missing(f"Redis at {REDIS_URL}", f"{exc.__class__.__name__}")
    return REDIS_URL


def need_rabbitmq() -> str:
    if not _listening("127.0.0.1", 5672):
        _missing("RabbitMQ at 127.0.0.1:5672", "nothing listens there")
    return AMQP_URL


def need_postgres() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        _missing("PostgreSQL", f"set {PG_ENV}, e.g. postgresql://postgres@127.0.0.1:5432/test")
    assert url is not None
    return url


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A schema of its own in the test database; the URL that selects it."""
    from ledgerbridge.store import Store

    schema = f"w_{uuid.uuid4().hex[:12]}"
    admin = Store(url)
    with admin.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()
