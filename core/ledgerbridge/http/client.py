"""``KitClient``: the HTTP client a connector gets from its ``ConnectorContext``.

It owns what every platform client used to write again: the transport seam, a timeout, the
auth flow, transport failures as ``TransientError`` (or ``OutcomeUnknown`` for a write whose
request may have arrived), error statuses through the connector's ``ErrorTable``, and retries
by error class (``ledgerbridge.retry``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from ..contracts import ConnectorContext
from ..errors import OutcomeUnknown, TransientError
from ..retry import DEFAULT_POLICY, RetryPolicy, call_with_retry
from .responses import ErrorTable, parse_json

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class KitClient:
    def __init__(
        self,
        context: ConnectorContext,
        base_url: str,
        errors: ErrorTable,
        *,
        auth: httpx.Auth | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.errors = errors
        self.policy = policy
        # a write is not repeated after a transport failure (its answer may be lost)
        self.write_policy = replace(policy, retry_transient=False)
        self.http = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            transport=context.transport,
            timeout=timeout,
            headers=headers,
        )

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call with retries by class; a 2xx response, else the table's error.

        A request that is not safe (POST, PUT...) is not retried after a transport failure: its
        answer may be lost after the platform acted, so it raises ``OutcomeUnknown`` and the
        caller reads back before writing again."""
        method = method.upper()
        safe = method in SAFE_METHODS
        policy = self.policy if safe else self.write_policy

        async def once() -> httpx.Response:
            try:
                response = await self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                what = f"{self.errors.platform}: {method} {path} failed: {type(exc).__name__}"
                if safe or isinstance(exc, httpx.ConnectError):
                    raise TransientError(what, platform=self.errors.platform) from exc
                raise OutcomeUnknown(
                    what + "; the request may have been applied", platform=self.errors.platform
                ) from exc
            if response.is_success:
                return response
            raise self.errors.error_for(response)

        return await call_with_retry(once, policy)

    async def get_json(self, path: str, expect: type = object, **params: Any) -> Any:
        response = await self.send("GET", path, params=params or None)
        return parse_json(response, expect, platform=self.errors.platform)

    async def aclose(self) -> None:
        await self.http.aclose()
