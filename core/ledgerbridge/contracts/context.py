"""What the engine gives a connector when it builds one."""

from __future__ import annotations

import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel

from ..canonical.reconcile import DEFAULT_ROUNDING_TOLERANCE

if TYPE_CHECKING:
    from ..limits import LimiterProvider

S = TypeVar("S", bound=BaseModel)
T = TypeVar("T", bound=BaseModel)


class CredentialStore(Protocol):
    """Where a connector keeps credentials that change at run time (rotated tokens).

    The engine implements it over the encrypted store; a connector only sees
    names and values.
    """

    async def load(self, name: str) -> str | None: ...

    async def save(self, name: str, value: str) -> None: ...


class LockProvider(Protocol):
    """Named locks that hold across processes (e.g. one token refresh at a time)."""

    def lock(self, name: str, *, ttl: float = 30.0) -> AbstractAsyncContextManager[None]: ...


class Clock(Protocol):
    """Time, injectable so rate limits and expiries can be tested on a scaled clock."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        import anyio

        await anyio.sleep(seconds)


class ProcessLocalLocks:
    """Locks within one process only -- the default when no store is attached."""

    def __init__(self) -> None:
        import anyio

        self._anyio = anyio
        self._locks: dict[str, Any] = {}

    def lock(self, name: str, *, ttl: float = 30.0) -> AbstractAsyncContextManager[None]:
        lock: AbstractAsyncContextManager[None] = self._locks.setdefault(name, self._anyio.Lock())
        return lock


class MemoryCredentials:
    """Credentials held in memory only (tests, one-off runs)."""

    def __init__(self, initial: dict[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(initial or {})

    async def load(self, name: str) -> str | None:
        return self.values.get(name)

    async def save(self, name: str, value: str) -> None:
        self.values[name] = value


@dataclass
class ConnectorContext:
    """Everything a connector instance gets from its host.

    ``transport`` is the test seam (httpx's): tests pass an ASGI transport to an
    in-process emulator, production leaves it ``None`` for real sockets.
    """

    connection_id: str
    tenant_id: str
    settings: BaseModel
    secrets: BaseModel
    transport: httpx.AsyncBaseTransport | None = None
    credentials: CredentialStore = field(default_factory=MemoryCredentials)
    locks: LockProvider = field(default_factory=ProcessLocalLocks)
    clock: Clock = field(default_factory=SystemClock)
    rounding_tolerance: Decimal = DEFAULT_ROUNDING_TOLERANCE
    # Where rate limits live (``ledgerbridge.limits``): None -- in this process (embedded);
    # the distributed mode passes limits shared by every worker.
    limiters: LimiterProvider | None = None

    @property
    def validation_context(self) -> dict[str, Any]:
        """Pass as ``context=`` when validating canonical orders."""
        return {"rounding_tolerance": self.rounding_tolerance}

    def as_models(self, settings: type[S], secrets: type[T]) -> tuple[S, T]:
        """The settings and secrets as the connector's own models, typed: a host that built
        them from other models (a test's, an older schema's) has them validated again, so a
        connector never casts or asserts them."""
        return _as(self.settings, settings), _as(self.secrets, secrets)


def _as(value: BaseModel, model: type[S]) -> S:
    return value if isinstance(value, model) else model.model_validate(value.model_dump())
