"""Bulk operations for long histories: start, poll, then stream the JSONL record by record.

The result file is read line by line from the network and re-assembled into
one object per root record: a row with ``__parentId`` is attached to the
object it names, under the connection its GID type belongs to.  Only a window
of the most recent roots is held (children follow their parent, though not
always directly), so memory stays flat however many orders the file holds.
A child whose root has already left the window is reported in ``late`` so the
caller re-reads that record instead of trusting an incomplete one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ledgerbridge.errors import PermissionDenied, RateLimited, TransientError, ValidationFailed

from . import queries
from .client import OLD_ORDERS_HINT, ShopifyClient
from .mapping_common import PLATFORM, loads

CHILD_FIELD = {
    "LineItem": "lineItems",
    "ShippingLine": "shippingLines",
    "ProductVariant": "variants",
}


def _gid_type(gid: str) -> str:
    parts = str(gid).split("/")
    return parts[3] if len(parts) > 4 else ""


@dataclass
class Reassembler:
    """Turns a stream of JSONL rows back into nested root objects, holding only ``window`` roots."""

    window: int = 256
    late: set[str] = field(default_factory=set)
    _open: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)
    _owner: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def add(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """Take one row; returns the roots that left the window (complete)."""
        parent = row.pop("__parentId", None)
        if parent is None:
            ident = row["id"]
            self._open[ident] = row
            self._owner[ident] = (ident, row)
            out = []
            while len(self._open) > self.window:
                out.append(self._close(next(iter(self._open))))
            return out
        owner = self._owner.get(parent)
        if owner is None:
            self.late.add(parent)
            return []
        root_id, container = owner
        name = CHILD_FIELD.get(_gid_type(row.get("id", "")))
        if name is None:
            raise ValidationFailed(
                f"shopify bulk result: cannot place a row of type {_gid_type(row.get('id', ''))!r} "
                f"under {parent}",
                platform=PLATFORM,
            )
        connection = container.setdefault(name, {"nodes": [], "pageInfo": {"hasNextPage": False}})
        connection["nodes"].append(row)
        if "id" in row:
            self._owner[row["id"]] = (root_id, row)
        return []

    def _close(self, ident: str) -> dict[str, Any]:
        root = self._open.pop(ident)
        for key in [k for k, (r, _) in self._owner.items() if r == ident]:
            del self._owner[key]
        return root

    def finish(self) -> list[dict[str, Any]]:
        return [self._close(k) for k in list(self._open)]


@dataclass
class BulkRunner:
    client: ShopifyClient
    poll_seconds: float = 2.0

    async def run(self, query: str) -> dict[str, Any]:
        """Start a bulk query and wait for it; returns the finished ``BulkOperation``."""
        data = await self.client.execute(queries.BULK_RUN, {"query": query}, operation="BulkRun")
        payload = data.get("bulkOperationRunQuery") or {}
        errors = payload.get("userErrors") or []
        if errors:
            message = "; ".join(e.get("message", "") for e in errors)
            if "already in progress" in message:
                raise RateLimited(
                    f"shopify bulk: another bulk query is running ({message})",
                    retry_after=None,
                    platform=PLATFORM,
                )
            raise ValidationFailed(f"shopify bulk query rejected: {message}", platform=PLATFORM)
        started = payload["bulkOperation"]
        while True:
            await self.client.clock.sleep(self.poll_seconds)
            poll = await self.client.execute(queries.BULK_POLL, operation="BulkPoll")
            op = poll.get("currentBulkOperation") or {}
            if op.get("id") != started["id"]:
                raise TransientError(
                    f"shopify bulk: {started['id']} is no longer the current operation",
                    platform=PLATFORM,
                )
            status = op.get("status")
            if status == "COMPLETED":
                return dict(op)
            if status in ("FAILED", "CANCELED", "EXPIRED"):
                code = op.get("errorCode")
                if code == "ACCESS_DENIED":
                    raise PermissionDenied(
                        f"shopify bulk {started['id']} failed: access denied; {OLD_ORDERS_HINT}",
                        platform=PLATFORM,
                        code=code,
                    )
                raise TransientError(
                    f"shopify bulk {started['id']} ended {status} ({code})",
                    platform=PLATFORM,
                    code=code,
                )

    async def rows(self, url: str | None) -> AsyncIterator[dict[str, Any]]:
        """The result file's rows, one parsed line at a time (an empty result has no URL)."""
        if not url:
            return
        async with self.client.download(url) as response:
            async for line in response.aiter_lines():
                if line.strip():
                    yield loads(line)
