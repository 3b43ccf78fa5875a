"""The webhook receiver: an ASGI app a host product mounts, or ``ledgerbridge serve`` runs.

    POST /webhooks/{tenant}/{connection}[/{secret}]

For each delivery: unknown connection -> 404; body over the limit -> 413;
signature checked by the connection's *source connector* (bad -> 401, nothing
stored); an authentic body that cannot be used -- nested too deeply, an id that is
not an id (``webhook_guards``) -> 400, nothing stored; the event is stored in the
inbox (de-duplicated on the platform's delivery id) *before* answering 2xx, and
answered fast -- processing happens later (``ledgerbridge run`` drains the inbox
through the same path as polling; in the distributed mode the receiver queues a
task that wakes the pipelines).

The store is set up (migrated, tenants and connections registered) once, in the
app's ASGI lifespan -- never on a request path, where simultaneous first deliveries
would race each other through the migrations.  Until it is ready every delivery (and
``GET /health``) is answered 503 with ``Retry-After``: platforms redeliver, nothing is
lost.  A host that mounts the receiver enters its lifespan (``started``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .config import LoadedConfig, load_config
from .errors import ConfigError, SyncError, WebhookMalformed, WebhookRejected
from .store import InboxEvent, Store
from .webhook_guards import check_event

DEFAULT_MAX_BODY = 2 * 1024 * 1024
RETRY_AFTER_SECONDS = 5
log = logging.getLogger(__name__)


def not_ready(why: str = "the store is not ready yet") -> JSONResponse:
    """503 with Retry-After: the platform redelivers later; nothing is lost."""
    return JSONResponse(
        {"error": why},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def started(receiver: Starlette) -> AbstractAsyncContextManager[Any]:
    """The receiver's lifespan, for a host app that mounts it (Starlette does not run a
    mounted app's lifespan): ``async with started(hooks): yield`` in the host's own."""
    return receiver.router.lifespan_context(receiver)


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
    owns_engine = engine is None
    engine = engine or Engine(loaded, store)
    state: dict[str, Any] = {"ready": False, "problem": None}

    async def prepare() -> bool:
        try:
            await engine.prepare()
        except Exception as exc:
            problem = (str(exc).splitlines() or [type(exc).__name__])[0]
            if state["problem"] != problem:
                log.warning("webhook receiver: the store is not ready (%s); retrying", problem)
            state["problem"] = problem
            return False
        state["ready"], state["problem"] = True, None
        return True

    async def keep_preparing() -> None:
        while not await prepare():
            await anyio.sleep(RETRY_AFTER_SECONDS)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            if not await prepare():
                tasks.start_soon(keep_preparing)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()
                if owns_engine:
                    await engine.aclose()

    from .worker.settings import configured

    notify = None
    if configured(loaded):  # distributed mode: wake the workers (ledgerbridge.worker.notify)
        from .worker.notify import notifier

        notify = notifier(loaded)

    async def receive(request: Request) -> JSONResponse:
        if not state["ready"]:
            return not_ready()
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
        what = f"webhook for {tenant_id}/{connection}"
        try:
            source.verify_webhook(delivery)
            event = source.parse_webhook(delivery)
            if event is not None:
                check_event(event, what)
        except WebhookRejected as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        except WebhookMalformed as exc:  # authentic, but not usable: stored nowhere
            return JSONResponse({"error": str(exc)}, status_code=400)
        except RecursionError:  # a source that parsed without ``load_json``
            return JSONResponse({"error": f"{what}: the body nests too deeply"}, status_code=400)
        except SyncError as exc:
            # An authentic delivery reporting a problem (e.g. the store disconnected): say
            # so loudly -- logged for the operator and answered non-2xx so it is not lost.
            log.warning("webhook for %s/%s: %s", tenant_id, connection, exc)
            return JSONResponse({"error": str(exc), **exc.summary()}, status_code=422)
        if event is None:
            return JSONResponse({"status": "acknowledged"})
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
        try:
            stored = await anyio.to_thread.run_sync(engine.store.add_inbox_event, row)
        except OperationalError as exc:  # locked, unreachable: the platform redelivers
            log.warning("webhook for %s/%s not stored: %s", tenant_id, connection, exc.orig)
            return not_ready("the store is busy or unreachable")
        if stored and notify is not None:
            await anyio.to_thread.run_sync(notify, row.connection_id)
        return JSONResponse({"status": "stored" if stored else "duplicate"})

    async def health(request: Request) -> JSONResponse:
        if not state["ready"]:
            return not_ready()
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/webhooks/{tenant}/{connection}", receive, methods=["POST"]),
        Route("/webhooks/{tenant}/{connection}/{secret}", receive, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]
    receiver = Starlette(routes=routes, lifespan=lifespan)
    # A path with a trailing slash (an API2Cart callback token ending in "/") is refused like
    # any unknown path, not redirected to one a sender may follow.
    receiver.router.redirect_slashes = False
    receiver.state.engine = engine
    receiver.state.readiness = state  # {"ready": bool, "problem": str | None}
    return receiver
