"""The console's Starlette app: pages rendered on the server with Jinja2, plain forms, no
JavaScript build and no CDN (the stylesheet and one small script ship in the package), so it
works offline and mounts under any prefix in a host product.

Pages read through ``store.console_queries`` and the engine; the two actions run the engine
with a freshly loaded config, so a mapping fixed on disk is the mapping they use: replay
``Engine.replay`` (the path of ``ledgerbridge replay``), resolving a conflict
``Engine.resolve_conflict`` (the path of ``ledgerbridge conflicts resolve``).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
import httpx
from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..config import LoadedConfig, load_config
from ..engine.lease import lease_name
from ..store import Store
from ..store import console_queries as q
from ..store.types import utcnow
from .auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Directory,
    Principal,
    Sessions,
    csrf_ok,
    signing_key,
)
from .present import csv_cell, mapping_hint, zoho_link

HERE = Path(__file__).parent
log = logging.getLogger(__name__)
Handler = Callable[[Request], Awaitable[Response]]


class Console:
    """State shared by the handlers: config source, store, users, sessions."""

    def __init__(
        self,
        config: LoadedConfig | str | Path,
        store: Store | None,
        transports: dict[str, httpx.AsyncBaseTransport] | None,
    ) -> None:
        self.source = config
        self.loaded = config if isinstance(config, LoadedConfig) else load_config(config)
        self.store = store or Store(self.loaded.config.database)
        self.transports = transports
        settings = self.loaded.config.console
        self.users = Directory(self.loaded, self.store)
        self.sessions = Sessions(
            signing_key(self.loaded), int(settings.session_ttl.total_seconds())
        )
        self.trusted_header = settings.trusted_header
        self.secure = settings.secure_cookies
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self._migrated = False
        from .jobs import Jobs

        self.jobs = Jobs(self.store)

    # ----------------------------------------------------------------- scope

    def fresh_config(self) -> LoadedConfig:
        """The config as it is on disk now (the mapping may have been fixed since start)."""
        if isinstance(self.source, LoadedConfig):
            return self.source
        return load_config(self.source)

    def tenants(self, who: Principal) -> list[str]:
        return [t.id for t in self.loaded.config.tenants if who.sees(t.id)]

    def pipelines(self, who: Principal) -> list[str]:
        orders = [p.id for t, p in self.loaded.pipelines() if who.sees(t.id)]
        catalogs = [e.pipeline.id for e in self.loaded.catalogs if who.sees(e.tenant.id)]
        return orders + catalogs  # a catalog's records and conflicts are shown like any

    def mapping_files(self) -> set[Path]:
        return {self.loaded.mapping_path(p).resolve() for _, p in self.loaded.pipelines()}

    def target_settings(self, pipeline_id: str) -> dict[str, Any]:
        for tenant, pipeline in self.loaded.pipelines():
            if pipeline.id == pipeline_id:
                return dict(tenant.connections[pipeline.target].settings)
        return {}

    def source_connection(self, pipeline_id: str) -> str:
        for tenant, pipeline in self.loaded.pipelines():
            if pipeline.id == pipeline_id:
                return f"{tenant.id}/{pipeline.source}"
        return ""

    async def ready(self) -> None:
        if not self._migrated:
            await anyio.to_thread.run_sync(self.store.migrate)
            self._migrated = True

    # ----------------------------------------------------------------- requests

    def who(self, request: Request) -> tuple[Principal | None, str | None]:
        """The user behind a request and the session's CSRF token."""
        if self.trusted_header:
            name = request.headers.get(self.trusted_header)
            if name:
                account = self.users.find(name)
                session = self.sessions.read(request.cookies.get(SESSION_COOKIE))
                csrf = session["csrf"] if session and session["u"] == name else None
                return (account.principal if account else None), csrf
        session = self.sessions.read(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None, None
        account = self.users.find(str(session["u"]))
        return (account.principal if account else None), str(session["csrf"])

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> Response:
        context.setdefault("user", request.state.user if hasattr(request.state, "user") else None)
        context.setdefault("csrf", getattr(request.state, "csrf", None))
        context["base"] = base(request)
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)


def base(request: Request) -> str:
    """The prefix the console is mounted under (``/console``, or a host's own)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def redirect(request: Request, path: str, **query: Any) -> RedirectResponse:
    suffix = f"?{urlencode(query)}" if query else ""
    return RedirectResponse(f"{base(request)}{path}{suffix}", status_code=303)


def not_found() -> HTTPException:
    return HTTPException(404, "not found")


def guarded(console: Console, role: str, handler: Handler, *, post: bool = False) -> Handler:
    """Log-in required, role at least ``role``; POSTs must carry the session's CSRF token."""

    async def endpoint(request: Request) -> Response:
        await console.ready()
        user, csrf = await anyio.to_thread.run_sync(console.who, request)
        if user is None:
            if post:
                return PlainTextResponse("log in first", status_code=401)
            return redirect(request, "/login", next=request.url.path)
        fresh = None
        if csrf is None:  # signed in by the trusted header: a session carries the CSRF token
            fresh, csrf = console.sessions.issue(user.username)
        request.state.user, request.state.csrf = user, csrf
        response = await _checked(console, request, role, handler, post=post)
        if fresh is not None:
            response.set_cookie(
                SESSION_COOKIE, fresh, httponly=True, samesite="lax", secure=console.secure,
                path=base(request) or "/", max_age=console.sessions.ttl,
            )  # fmt: skip
        return response

    return endpoint


async def _checked(
    console: Console, request: Request, role: str, handler: Handler, *, post: bool
) -> Response:
    """The role and CSRF checks of ``guarded``, then the handler."""
    user: Principal = request.state.user
    if not user.may(role):
        return console.render(request, "error.html", 403, message=f"needs the {role} role")
    if post:
        form = await request.form()
        if not csrf_ok(request.state.csrf, str(form.get("csrf") or "")):
            return console.render(
                request, "error.html", 403, message="the form's CSRF token is missing or stale"
            )
        request.state.form = form
    return await handler(request)


def build(
    config: LoadedConfig | str | Path,
    store: Store | None = None,
    *,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> Starlette:
    console = Console(config, store, transports)
    from . import conflicts, jobs, overview, pages

    routes = [
        Route("/login", partial(login_page, console), methods=["GET"]),
        Route("/login", partial(login_post, console), methods=["POST"]),
        Route("/logout", partial(logout, console), methods=["POST"]),
        Route("/", guarded(console, "viewer", partial(overview.overview, console))),
        Route("/records", guarded(console, "viewer", partial(pages.records, console))),
        Route(
            "/records/{record_id:int}",
            guarded(console, "viewer", partial(pages.record, console)),
        ),
        Route(
            "/records/{record_id:int}/replay",
            guarded(console, "operator", partial(pages.replay_one, console), post=True),
            methods=["POST"],
        ),
        Route("/failures", guarded(console, "viewer", partial(pages.failures, console))),
        Route(
            "/failures/replay",
            guarded(console, "operator", partial(pages.replay_group, console), post=True),
            methods=["POST"],
        ),
        Route("/conflicts", guarded(console, "viewer", partial(conflicts.conflicts, console))),
        Route(
            "/conflicts/{conflict_id:int}",
            guarded(console, "viewer", partial(conflicts.conflict, console)),
        ),
        Route(
            "/conflicts/{conflict_id:int}/resolve",
            guarded(console, "operator", partial(conflicts.resolve, console), post=True),
            methods=["POST"],
        ),
        Route(
            "/jobs/{job_id:str}.json", guarded(console, "operator", partial(jobs.job_json, console))
        ),
        Route("/jobs/{job_id:str}", guarded(console, "operator", partial(jobs.job_page, console))),
        Route("/audit", guarded(console, "viewer", partial(audit_page, console))),
        Route("/audit.csv", guarded(console, "viewer", partial(audit_csv, console))),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = "not found" if exc.status_code == 404 else str(exc.detail)
        return console.render(request, "error.html", exc.status_code, message=message)

    app = Starlette(routes=routes, exception_handlers={HTTPException: on_error})
    app.state.console = console
    return app


# --------------------------------------------------------------------------- log-in


async def login_page(console: Console, request: Request, error: str | None = None) -> Response:
    cookie, token = console.sessions.login_token()
    response = console.render(
        request,
        "login.html",
        401 if error else 200,
        login_token=token,
        error=error,
        next=request.query_params.get("next", ""),
    )
    response.set_cookie(
        LOGIN_COOKIE, cookie, httponly=True, samesite="lax", secure=console.secure,
        path=base(request) or "/", max_age=3600,
    )  # fmt: skip
    return response


async def login_post(console: Console, request: Request) -> Response:
    await console.ready()
    form = await request.form()
    if not console.sessions.login_token_ok(
        request.cookies.get(LOGIN_COOKIE), str(form.get("csrf") or "")
    ):
        return await login_page(console, request, "the log-in form expired; try again")
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    user = await anyio.to_thread.run_sync(console.users.authenticate, username, password)
    if user is None:
        log.info("console: failed log-in for %r", username[:100])
        return await login_page(console, request, "wrong user name or password")
    cookie, _ = console.sessions.issue(user.username)
    target = str(form.get("next") or "")
    root = base(request)
    if not target.startswith(f"{root}/") or target.startswith("//") or "\\" in target:
        target = f"{root}/"  # only our own pages: no open redirect
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=console.secure,
        path=root or "/", max_age=console.sessions.ttl,
    )  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path=root or "/")
    return response


async def logout(console: Console, request: Request) -> Response:
    _, csrf = console.who(request)
    form = await request.form()
    if csrf is not None and not csrf_ok(csrf, str(form.get("csrf") or "")):
        return PlainTextResponse("CSRF token missing", status_code=403)
    response = redirect(request, "/login")
    response.delete_cookie(SESSION_COOKIE, path=base(request) or "/")
    return response


# --------------------------------------------------------------------------- audit export


def _day(text: str | None, default: date) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"not a date (YYYY-MM-DD): {text[:20]!r}") from None


async def audit_page(console: Console, request: Request) -> Response:
    user: Principal = request.state.user
    today = utcnow().date()
    return console.render(
        request,
        "audit.html",
        tenants=console.tenants(user),
        start=(today - timedelta(days=7)).isoformat(),
        end=today.isoformat(),
    )


async def audit_csv(console: Console, request: Request) -> Response:
    """Writes (and operator actions) of one tenant from ``from`` to ``to`` (days, inclusive)."""
    user: Principal = request.state.user
    tenant = request.query_params.get("tenant", "")
    if tenant not in console.tenants(user):
        raise not_found()
    today = utcnow().date()
    first = _day(request.query_params.get("from"), today - timedelta(days=7))
    last = _day(request.query_params.get("to"), today)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    columns = ("at", "tenant", "pipeline", "record_id", "source_id", "source_version",
               "operation", "outcome", "target_id", "idempotency_key", "duration_ms",
               "attempt", "user")  # fmt: skip

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        async for events in iterate_in_threadpool(
            q.audit_export(console.store, tenant, start, end)
        ):
            for e in events:
                writer.writerow(
                    csv_cell(v)
                    for v in (
                        e.at.isoformat(timespec="seconds"), e.tenant_id, e.pipeline_id,
                        e.record_id, e.source_id, e.source_version, e.operation, e.outcome,
                        e.target_id, e.idempotency_key, e.duration_ms, e.attempt, e.user,
                    )
                )  # fmt: skip
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    name = f"audit-{tenant}-{first.isoformat()}-{last.isoformat()}.csv"
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


__all__ = ["Console", "build", "lease_name", "mapping_hint", "zoho_link"]
