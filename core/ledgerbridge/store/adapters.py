"""The store seen through the connector contracts.

Connectors never touch the store; the engine hands them these adapters inside
a ``ConnectorContext``: ``StoreLocks`` (a ``LockProvider`` whose locks hold
across processes and hosts, through the ``leases`` table) and
``StoreCredentials`` (a ``CredentialStore`` over a connection's encrypted
secrets).  Store calls run in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import anyio
import anyio.to_thread

from .holders import default_holder
from .store import Store

__all__ = ["StoreCredentials", "StoreLocks", "default_holder"]


class StoreLocks:
    """Named locks shared by every process using the same store.

    Inside one process an anyio lock serialises tasks (they share a holder
    name); across processes the lease row does.  A lease outlives a crashed
    holder by at most ``ttl`` seconds -- on the same host not at all: a holder
    whose process is gone is taken over at once (``store.holders``).
    """

    def __init__(
        self, store: Store, holder: str | None = None, *, poll: float = 0.05, max_poll: float = 0.5
    ) -> None:
        self.store = store
        self.holder = holder or default_holder()
        self._poll, self._max_poll = poll, max_poll
        self._local: dict[str, anyio.Lock] = {}

    def lock(self, name: str, *, ttl: float = 30.0) -> AbstractAsyncContextManager[None]:
        return self._lock(name, ttl)

    @asynccontextmanager
    async def _lock(self, name: str, ttl: float) -> AsyncIterator[None]:
        local = self._local.setdefault(name, anyio.Lock())
        async with local:
            delay = self._poll
            while not await anyio.to_thread.run_sync(
                self.store.acquire_lease, name, self.holder, timedelta(seconds=ttl)
            ):
                await anyio.sleep(delay)
                delay = min(delay * 2, self._max_poll)
            try:
                yield
            finally:
                await anyio.to_thread.run_sync(self.store.release_lease, name, self.holder)


class StoreCredentials:
    """One connection's secrets: read and rotated through the store's encryption."""

    def __init__(self, store: Store, connection_id: str) -> None:
        self.store = store
        self.connection_id = connection_id

    async def load(self, name: str) -> str | None:
        secrets = await anyio.to_thread.run_sync(self.store.connection_secrets, self.connection_id)
        value = secrets.get(name)
        return None if value is None else str(value)

    async def save(self, name: str, value: str) -> None:
        def write() -> None:
            self.store.update_connection_secrets(self.connection_id, **{name: value})

        await anyio.to_thread.run_sync(write)
