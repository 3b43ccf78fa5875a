"""The webhook receiver: an ASGI app a host product mounts, or ``ledgerbridge serve`` runs.

    POST /webhooks/{tenant}/{connection}[/{secret}]

For each delivery: unknown connection -> 404; body over the limit -> 413;
signature checked by the connection's *source connector* (bad -> 401, nothing
stored); the event is stored in the inbox (de-duplicated on the platform's
delivery id) *before* answering 2xx, and answered fast -- processing happens
later (``ledgerbridge run`` drains the inbox through the same path as polling;
in the distributed mode the receiver queues a task that wakes the pipelines).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .config import LoadedConfig, load_config
from .errors import ConfigError, SyncError, WebhookRejected
from .store import InboxEvent, Store

DEFAULT_MAX_BODY = 2 * 1024 * 1024
log = logging.getLogger(__name__)


def app(
    config: LoadedConfig | str | Path,
    store: Store | None = None,
    *,
    engine: Any = None,
    max_body: int = DEFAULT_MAX_BODY,
) -> Starlette:
    """Build the receiver for every source connection in ``config``."""
    from .engine import Engine

    loaded = config if isinstance(config, LoadedConfig) else load_config(config)
    engine = engine or Engine(loaded, store)
    state = {"prepared": False}
    from .worker.settings import configured

    notify = None
    if configured(loaded):  # distributed mode: wake the workers (ledgerbridge.worker.notify)
        from .worker.notify import notifier

        notify = notifier(loaded)

    async def receive(request: Request) -> JSONResponse:
        tenant_id = request.path_params["tenant"]
        connection = request.path_params["connection"]
        try:
            source = engine.source(tenant_id, connection)
        except ConfigError:
            return JSONResponse({"error": "unknown connection"}, status_code=404)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            return JSONResponse({"error": "body too large"}, status_code=413)
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) > max_body:
                return JSONResponse({"error": "body too large"}, status_code=413)
        body = bytes(buffer)
        from .contracts.source import WebhookRequest

        delivery = WebhookRequest(
            headers=dict(request.headers),
            body=body,
            path=request.url.path,
            query=dict(request.query_params),
        )
        try:
            source.verify_webhook(delivery)
            event = source.parse_webhook(delivery)
        except WebhookRejected as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        except SyncError as exc:
            # An authentic delivery reporting a problem (e.g. the store disconnected): say
            # so loudly -- logged for the operator and answered non-2xx so it is not lost.
            log.warning("webhook for %s/%s: %s", tenant_id, connection, exc)
            return JSONResponse({"error": str(exc), **exc.summary()}, status_code=422)
        if event is None:
            return JSONResponse({"status": "acknowledged"})
        if not state["prepared"]:
            await engine.prepare()
            state["prepared"] = True
        row = InboxEvent(
            tenant_id=tenant_id,
            connection_id=f"{tenant_id}/{connection}",
            delivery_id=event.delivery_id,
            topic=event.topic,
            entity=event.entity.value,
            external_id=event.external_id,
            version=event.version,
            deleted=event.deleted,
        )
        stored = await anyio.to_thread.run_sync(engine.store.add_inbox_event, row)
        if stored and notify is not None:
            await anyio.to_thread.run_sync(notify, row.connection_id)
        return JSONResponse({"status": "stored" if stored else "duplicate"})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/webhooks/{tenant}/{connection}", receive, methods=["POST"]),
        Route("/webhooks/{tenant}/{connection}/{secret}", receive, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]
    receiver = Starlette(routes=routes)
    receiver.state.engine = engine
    return receiver
