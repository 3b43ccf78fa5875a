"""The Celery application, configured from ``ledgerbridge.yaml`` (``workers:``) or the environment.

``ledgerbridge worker`` / ``ledgerbridge beat`` configure it from ``--config``;
``celery -A ledgerbridge.worker.app worker`` works too when ``LEDGERBRIDGE_CONFIG``
names the file.  Every task is acknowledged *after* it ran (``acks_late``) and
handed out again if its worker dies (``reject_on_worker_lost``): the engine's
intents, bindings and checkpoints make running a share twice harmless.
"""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery

from ..config import load_config
from .settings import WorkerSettings

CONFIG_ENV = "LEDGERBRIDGE_CONFIG"

app = Celery("ledgerbridge", include=["ledgerbridge.worker.tasks"])


def configure(settings: WorkerSettings) -> Celery:
    """Point ``app`` at the deployment's broker; the same settings on every process."""
    app.conf.update(
        broker_url=settings.broker_url,
        result_backend=settings.result_backend,
        task_ignore_result=settings.result_backend is None,
        task_default_queue=settings.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # one message at a time per worker slot: a prefetched message would sit behind
        # a slow share instead of going to an idle worker
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a broker restart is waited out, not fatal
        broker_transport_options={"visibility_timeout": settings.visibility_timeout},
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        # The command line's log handler (ledgerbridge.logs) writes to whatever sys.stderr is;
        # Celery's redirect would turn stderr into a logger, feeding each line back into
        # logging, where its recursion guard drops it: the worker's own log went silent.
        worker_redirect_stdouts=False,
        beat_schedule={
            "ledgerbridge-sweep": {"task": "ledgerbridge.sweep", "schedule": settings.sweep_every}
        },
    )
    return app


def configure_from(path: str | Path) -> WorkerSettings:
    """Configure ``app`` from a config file (and remember it for the worker's runtime)."""
    os.environ[CONFIG_ENV] = str(Path(path).resolve())
    settings = WorkerSettings.of(load_config(path))
    configure(settings)
    return settings


if os.environ.get(CONFIG_ENV) and Path(os.environ[CONFIG_ENV]).exists():
    configure_from(os.environ[CONFIG_ENV])
