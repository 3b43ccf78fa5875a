"""A pipeline's lease: one run of a pipeline at a time, across processes and hosts.

The lease is a row in the store's ``leases`` table named ``pipeline:<id>``,
held for ``LEASE_TTL`` and renewed while the run goes on.  A run that finds
it held by a live worker stops with ``PipelineBusy`` naming the holder.  A
crashed worker's lease does not block its pipeline: on the same host a holder
whose process is gone is taken over at once (``store.holders``); from another
host it expires after ``LEASE_TTL``, or ``ledgerbridge unlock PIPELINE``
releases it after the operator confirmed the holder.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from ..errors import LedgerbridgeError
from ..store import Store
from .journal import off_loop

LEASE_TTL = timedelta(minutes=10)


class PipelineBusy(LedgerbridgeError):
    """Another run of the same pipeline holds its lease."""


def lease_name(pipeline_id: str) -> str:
    return f"pipeline:{pipeline_id}"


class PipelineLease:
    """``async with PipelineLease(store, pipeline_id, holder):`` -- raises ``PipelineBusy``."""

    def __init__(
        self, store: Store, pipeline_id: str, holder: str, ttl: timedelta = LEASE_TTL
    ) -> None:
        self.store, self.pipeline_id, self.holder = store, pipeline_id, holder
        self.ttl = ttl  # a distributed worker holds a short lease renewed by a heartbeat
        self.name = lease_name(pipeline_id)
        self._renewed = time.monotonic()

    async def __aenter__(self) -> PipelineLease:
        taken = await off_loop(self.store.acquire_lease, self.name, self.holder, self.ttl)
        if not taken:
            holder = await off_loop(self.store.lease_holder, self.name)
            who = f"{holder[0]} until {holder[1]:%H:%M:%S} UTC" if holder else "another worker"
            raise PipelineBusy(
                f"pipeline {self.pipeline_id} is already running ({who}); if that worker is "
                f"gone, `ledgerbridge unlock {self.pipeline_id}` releases it"
            )
        self._renewed = time.monotonic()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await off_loop(self.store.release_lease, self.name, self.holder)

    async def renew(self, every: timedelta | None = None) -> bool:
        """Extend the lease (``every``: only when that long has passed since the last time).

        False: another holder has it now (ours lapsed and was taken over) -- the run must
        stop between records."""
        if every is not None and time.monotonic() - self._renewed < every.total_seconds():
            return True
        taken = bool(await off_loop(self.store.acquire_lease, self.name, self.holder, self.ttl))
        if taken:
            self._renewed = time.monotonic()
        return taken


__all__ = ["LEASE_TTL", "PipelineBusy", "PipelineLease", "lease_name"]
