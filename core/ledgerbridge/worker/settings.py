"""The distributed mode's settings: ``workers:`` in ``ledgerbridge.yaml``, the environment wins."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from ..config import LoadedConfig, WorkersConfig
from ..errors import ConfigError

BROKER_ENV = "LEDGERBRIDGE_BROKER_URL"
REDIS_ENV = "LEDGERBRIDGE_REDIS_URL"
BACKEND_ENV = "LEDGERBRIDGE_RESULT_BACKEND"


@dataclass(frozen=True)
class WorkerSettings:
    broker_url: str
    redis_url: str
    result_backend: str | None
    limits: str
    concurrency: int
    queue: str
    yield_after: float
    sweep_every: float
    visibility_timeout: float
    lease_ttl: timedelta = timedelta(seconds=30)

    @classmethod
    def of(cls, loaded: LoadedConfig) -> WorkerSettings:
        workers = loaded.config.workers or WorkersConfig()
        broker = os.environ.get(BROKER_ENV) or workers.broker_url
        if not broker:
            raise ConfigError(
                f"{loaded.path}: the distributed mode needs a broker: set workers.broker_url "
                f"(redis://... or amqp://...) or {BROKER_ENV}"
            )
        redis_url = os.environ.get(REDIS_ENV) or workers.redis_url
        if not redis_url:
            if not broker.startswith(("redis://", "rediss://")):
                raise ConfigError(
                    f"{loaded.path}: workers.redis_url is needed (shared limits and dispatch "
                    f"budgets live in Redis; the broker {broker.split('://')[0]}:// is not Redis)"
                )
            redis_url = broker
        return cls(
            broker_url=broker,
            redis_url=redis_url,
            result_backend=os.environ.get(BACKEND_ENV) or workers.result_backend,
            limits=workers.limits,
            concurrency=workers.concurrency,
            queue=workers.queue,
            yield_after=workers.yield_after.total_seconds(),
            sweep_every=workers.sweep_every.total_seconds(),
            visibility_timeout=workers.visibility_timeout.total_seconds(),
            lease_ttl=workers.lease_ttl,
        )


def configured(loaded: LoadedConfig) -> bool:
    """Whether this deployment runs the distributed mode (a broker is configured)."""
    workers = loaded.config.workers
    return bool(os.environ.get(BROKER_ENV) or (workers is not None and workers.broker_url))
