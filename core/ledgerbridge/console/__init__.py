"""The operator web console (docs/console.md): sync state, parked records with their reason
and the mapping they need, replay, audit export -- for support staff who do not use the CLI.

    from ledgerbridge.console import app
    host.mount("/console", app("ledgerbridge.yaml"))

``ledgerbridge serve`` mounts it at ``/console`` beside the webhook receiver.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from ..config import LoadedConfig
    from ..store import Store

PREFIX = "/console"


def app(config: LoadedConfig | str | Path, store: Store | None = None, **kw: Any) -> Starlette:
    """The console for ``config`` (a path or a loaded config), reading ``store`` (default:
    the config's database).  Mount it under any prefix; links follow the mount."""
    from .web import build

    return build(config, store, **kw)


def with_console(
    receiver: Starlette | None, config: LoadedConfig | str | Path, *, only: str | None = None
) -> Starlette:
    """The webhook receiver with the console mounted at ``/console``.  The receiver's
    lifespan (it sets the store up; 503 until then) is entered by the outer app, since
    Starlette runs no mounted app's lifespan.  ``only="receiver"`` is the receiver alone,
    ``only="console"`` the console alone (``/`` leads to it)."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse
    from starlette.routing import Mount, Route

    from ..webhooks import started

    if only == "console":

        async def home(_request: object) -> RedirectResponse:
            return RedirectResponse(f"{PREFIX}/", status_code=307)

        return Starlette(routes=[Route("/", home), Mount(PREFIX, app(config))])
    assert receiver is not None, "the receiver is served unless only='console'"
    if only == "receiver":
        return receiver

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> Any:
        async with started(receiver):
            yield

    return Starlette(routes=[Mount(PREFIX, app(config)), Mount("/", receiver)], lifespan=lifespan)


__all__ = ["PREFIX", "app", "with_console"]
