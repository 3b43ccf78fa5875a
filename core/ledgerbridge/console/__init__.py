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
    from starlette.types import ASGIApp

    from ..config import LoadedConfig
    from ..store import Store

PREFIX = "/console"


def app(config: LoadedConfig | str | Path, store: Store | None = None, **kw: Any) -> Starlette:
    """The console for ``config`` (a path or a loaded config), reading ``store`` (default:
    the config's database).  Mount it under any prefix; links follow the mount."""
    from .web import build

    return build(config, store, **kw)


def with_console(host: ASGIApp, config: LoadedConfig | str | Path) -> Starlette:
    """``host`` (the webhook receiver) with the console mounted at ``/console``."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    return Starlette(routes=[Mount(PREFIX, app(config)), Mount("/", host)])


__all__ = ["PREFIX", "app", "with_console"]
