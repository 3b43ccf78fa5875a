"""The Zoho Books emulator: OAuth, organisations, the resources the connector writes, limits.

It answers with Zoho's envelope (``{"code": 0, "message": ..., "<key>": ...}``)
and Zoho's error codes (14/57 auth, 1002 not found, 44/45/1070 as HTTP 429,
4016 no lines, 24016 over-applied payments), keeps state per organisation in
memory, and enforces the three rate limits.  Generic faults (latency, 5xx,
"write committed, response lost") come from ``ledgerbridge.sandbox.FaultInjector``
around it; Zoho-specific ones (429 bursts, token revocation) are knobs here.

``observers`` receive every API exchange (request and response), which the
contract tests validate against Zoho's OpenAPI.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ledgerbridge.sandbox import FaultConfig, FaultInjector

from ..jsonmoney import dumps, loads
from .seed import seed_state
from .state import EmulatorState, Organization, ZohoError

API = "/books/v3"


@dataclass
class Exchange:
    """One API call as the emulator saw it (for contract validation)."""

    method: str
    path: str  # relative to /books/v3
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int
    response: Any


@dataclass
class EmulatorLimits:
    """Zoho's limits and the Zoho-specific faults, changeable while running."""

    per_minute: int = 100
    daily: dict[str, int] = field(
        default_factory=lambda: {"free": 1000, "standard": 2000, "professional": 5000}
    )
    default_daily: int = 10000
    concurrency: dict[str, int] = field(default_factory=lambda: {"free": 5})
    default_concurrency: int = 10
    burst_44: int = 0  # answer the next N API calls 429 code 44
    burst_1070: int = 0  # answer the next N API calls 429 code 1070
    hold: float = 0.0  # seconds each API call stays "in process" (exercises the 1070 cap)
    token_ttl: float = 3600.0
    rate_limit_headers: bool = True


Handler = Callable[[Request, Organization | None, Any], Awaitable[tuple[int, dict[str, Any]]]]


class ZohoBooksEmulator:
    def __init__(
        self,
        state: EmulatorState | None = None,
        limits: EmulatorLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = state or seed_state()
        self.limits = limits or EmulatorLimits()
        self.clock = clock
        self.observers: list[Callable[[Exchange], None]] = []
        self._minute: dict[str, deque[float]] = {}
        self._daily: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}
        self.api_calls = 0

    # ------------------------------------------------------------------ plumbing

    def _envelope(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Response:
        return Response(
            dumps(body), status_code=status, media_type="application/json", headers=headers
        )

    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        if not header.startswith("Zoho-oauthtoken "):
            raise ZohoError(
                401,
                14,
                "The request could not be authenticated as the authentication value you entered "
                "is invalid. Enter a valid authentication value and try again.",
            )
        found = self.state.access_tokens.get(header.removeprefix("Zoho-oauthtoken ").strip())
        if found is None or found[1] <= time.time():
            raise ZohoError(401, 57, "You are not authorized to perform this operation")
        return found[0]

    def _org_for(self, request: Request, user: str) -> Organization:
        org_id = request.query_params.get("organization_id")
        if not org_id:
            raise ZohoError(400, 6041, "Please send the organization_id parameter.")
        org = self.state.organizations.get(org_id)
        if org is None or org_id not in self.state.user_orgs.get(user, []):
            raise ZohoError(400, 6041, "You are not a user of this organization.")
        return org

    def _enforce_limits(self, org: Organization) -> dict[str, str]:
        lim = self.limits
        if lim.burst_44 > 0:
            lim.burst_44 -= 1
            raise ZohoError(
                429,
                44,
                "For security reasons your organization has been blocked as it have exceeded the "
                "maximum number of requests per minute that can originate from an organization.",
            )
        if lim.burst_1070 > 0:
            lim.burst_1070 -= 1
            raise _concurrency_error()
        daily_cap = lim.daily.get(org.plan, lim.default_daily)
        used = self._daily.get(org.organization_id, 0)
        if used >= daily_cap:
            raise ZohoError(
                429,
                45,
                "The API call for this organization has exceeded the maximum call rate limit "
                f"of {daily_cap}.",
            )
        window = self._minute.setdefault(org.organization_id, deque())
        now = self.clock()
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= lim.per_minute:
            raise ZohoError(
                429,
                44,
                "For security reasons your organization has been blocked as it have exceeded the "
                "maximum number of requests per minute that can originate from an organization.",
            )
        cap = lim.concurrency.get(org.plan, lim.default_concurrency)
        if self._in_flight.get(org.organization_id, 0) >= cap:
            raise _concurrency_error()
        window.append(now)
        self._daily[org.organization_id] = used + 1
        if not lim.rate_limit_headers:
            return {}
        return {
            "X-Rate-Limit-Limit": str(daily_cap),
            "X-Rate-Limit-Remaining": str(daily_cap - used - 1),
            "X-Rate-Limit-Reset": str(int(86400 - time.time() % 86400)),
        }

    def api(
        self, handler: Handler, *, needs_org: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            body: Any = None
            status, payload, headers = 500, {"code": 1000, "message": "Internal error"}, {}
            org_id: str | None = None
            try:
                if raw:
                    try:
                        body = loads(raw)
                    except ValueError:
                        raise ZohoError(400, 1038, "JSON is not well formed") from None
                user = self._authenticate(request)
                org = self._org_for(request, user) if needs_org else None
                if org is not None:
                    headers = self._enforce_limits(org)
                    org_id = org.organization_id
                    self._in_flight[org_id] = self._in_flight.get(org_id, 0) + 1
                self.api_calls += 1
                if self.limits.hold:
                    import anyio

                    await anyio.sleep(self.limits.hold)
                status, payload = await handler(request, org, body if body is not None else {})
            except ZohoError as exc:
                status, payload = exc.status, {"code": exc.code, "message": exc.message}
            finally:
                if org_id is not None:
                    self._in_flight[org_id] -= 1
            exchange = Exchange(
                method=request.method,
                path=request.url.path.removeprefix(API),
                query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                status=status,
                response=payload,
            )
            for observer in self.observers:
                observer(exchange)
            return self._envelope(status, payload, headers)

        return endpoint

    # ------------------------------------------------------------------ OAuth

    async def oauth_auth(self, request: Request) -> Response:
        """Consent page stand-in: ``&user=...`` approves at once and redirects with a code."""
        params = request.query_params
        client_id = params.get("client_id", "")
        if client_id not in self.state.clients:
            return Response("invalid_client", status_code=400)
        user = params.get("user")
        if not user:
            return Response(
                "Zoho Books emulator consent: add &user=<email> to approve "
                f"(scopes: {params.get('scope', '')})",
                media_type="text/plain",
            )
        code = self.state.issue_grant_code(client_id, user)
        base = str(request.base_url).rstrip("/")
        query = {"code": code, "location": "us", "accounts-server": base}
        if params.get("state"):
            query["state"] = params["state"]
        return RedirectResponse(f"{params.get('redirect_uri', '')}?{urlencode(query)}")

    async def oauth_token(self, request: Request) -> Response:
        # application/x-www-form-urlencoded, parsed by hand (no multipart dependency).
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        data = {**dict(request.query_params), **form}
        self.state.token_requests += 1
        client_id, secret = data.get("client_id", ""), data.get("client_secret", "")
        if self.state.clients.get(client_id) != secret or not client_id:
            return self._envelope(200, {"error": "invalid_client"})
        grant = data.get("grant_type")
        base = str(request.base_url).rstrip("/")
        if grant == "authorization_code":
            self.state.code_exchanges += 1
            found = self.state.grant_codes.pop(data.get("code", ""), None)
            if found is None or found[0] != client_id:
                return self._envelope(200, {"error": "invalid_code"})
            user = found[1]
            refresh = self.state.issue_refresh_token(client_id, user)
            access = self._mint(user)
            self.state.minted(access, refresh)
            return self._envelope(
                200,
                {
                    "access_token": access,
                    "refresh_token": refresh,
                    "api_domain": base,
                    "token_type": "Bearer",
                    "expires_in": int(self.limits.token_ttl),
                },
            )
        if grant == "refresh_token":
            self.state.refresh_requests += 1
            found = self.state.refresh_tokens.get(data.get("refresh_token", ""))
            if found is None or found[0] != client_id:
                return self._envelope(200, {"error": "invalid_code"})
            access = self._mint(found[1])
            self.state.minted(access, data.get("refresh_token", ""))
            return self._envelope(
                200,
                {
                    "access_token": access,
                    "api_domain": base,
                    "token_type": "Bearer",
                    "expires_in": int(self.limits.token_ttl),
                },
            )
        return self._envelope(200, {"error": "unsupported_grant_type"})

    async def oauth_revoke(self, request: Request) -> Response:
        self.state.refresh_tokens.pop(request.query_params.get("token", ""), None)
        return self._envelope(200, {"status": "success"})

    def _mint(self, user: str) -> str:
        presets = self.state.preset_access_tokens
        token = presets.pop(0) if presets else f"1000.{self.state.ids.next()}.access"
        self.state.access_tokens[token] = (user, time.time() + self.limits.token_ttl)
        return token

    # ------------------------------------------------------------------ app

    def app(self) -> Starlette:
        from . import resources

        r = resources.Resources(self)
        routes = [
            Route("/oauth/v2/auth", self.oauth_auth, methods=["GET"]),
            Route("/oauth/v2/token", self.oauth_token, methods=["POST"]),
            Route("/oauth/v2/token/revoke", self.oauth_revoke, methods=["POST"]),
            Route(
                f"{API}/organizations", self.api(r.organizations, needs_org=False), methods=["GET"]
            ),
        ]
        for path, method, handler in r.routes():
            routes.append(Route(API + path, self.api(handler), methods=[method]))
        from . import controls

        routes += controls.routes(self)
        return Starlette(routes=routes)


def _concurrency_error() -> ZohoError:
    return ZohoError(
        429,
        1070,
        "You have reached the maximum number of in process requests allowed. "
        "Kindly try again after some time.",
    )


def create_app(
    state: EmulatorState | None = None,
    *,
    limits: EmulatorLimits | None = None,
    faults: FaultConfig | None = None,
    observer: Callable[[Exchange], None] | None = None,
) -> FaultInjector:
    """The emulator wrapped in generic fault injection; ``.app`` is the Starlette app.

    ``emulator = app.emulator`` gives tests the state and knobs.
    """
    emulator = ZohoBooksEmulator(state, limits)
    if observer is not None:
        emulator.observers.append(observer)
    wrapped = FaultInjector(emulator.app(), faults or FaultConfig())
    wrapped.emulator = emulator  # type: ignore[attr-defined]
    return wrapped
