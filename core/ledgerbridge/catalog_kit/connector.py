"""The base of a connector's catalog half: the connection it borrows, and its call counts.

A catalog connector reuses its platform's order-side source or target (its kit client,
credentials, pacing and error table are already there), so it owns no connection of its
own: closing it closes the half it borrowed.  ``calls`` counts read pages and write
requests for a reader of the connector (a test, a bench) -- the engine does not use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..contracts.catalog import CatalogConnector, CatalogWrite, WriteResult
from .writing import one_by_one


class Closeable(Protocol):
    async def aclose(self) -> None: ...


class KitCatalog(CatalogConnector):
    """A catalog connector over a borrowed source or target (``half``).

    A platform without batch updates implements ``write_one`` (one write, one or more
    calls); a batching platform overrides ``write_variants`` and keeps its ``Outcomes``."""

    def __init__(self, half: Closeable) -> None:
        self.half = half
        self.calls = {"reads": 0, "writes": 0}

    async def aclose(self) -> None:
        await self.half.aclose()

    def read_call(self) -> None:
        self.calls["reads"] += 1

    def write_call(self) -> None:
        self.calls["writes"] += 1

    async def write_variants(self, writes: Sequence[CatalogWrite]) -> list[WriteResult]:
        return await one_by_one(writes, self.write_one)

    async def write_one(self, write: CatalogWrite) -> None:
        """Make one write (a batching connector overrides ``write_variants`` instead)."""
        raise NotImplementedError(f"{type(self).__name__} writes in batches")
