"""A ``product.child_item.list`` answer holding a child that is not an object.

Such a child names no parent, so it cannot be parked on its own. Before, it raised an
``AttributeError`` outside every guard and stopped the whole read (source and catalog alike).
Now each product of that page is parked naming the entry: none is read without a child it may
have (a catalog would take the missing child for a deleted variant), and a replay reads them
once the platform answers properly.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx

from ledgerbridge.canonical import EntityType
from ledgerbridge.catalog_kit import PageOfProducts
from ledgerbridge_api2cart.catalog_sync import Api2CartCatalog

from .conftest import Harness


class GarbledChildren(httpx.AsyncBaseTransport):
    """The emulator, with a bare string slipped into every ``product.child_item.list`` page."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("product.child_item.list.json"):
            return response
        body = json.loads(await response.aread())
        body["result"]["children"].append("not a child")
        return httpx.Response(response.status_code, json=body)


def test_the_source_parks_every_product_of_the_page_naming_the_entry(harness: Harness) -> None:
    source = harness.source(currency="USD", inner=GarbledChildren(harness.app))

    async def read() -> list[Any]:
        try:
            return [c async for p in source.changes(EntityType.PRODUCT, None) for c in p.changes]
        finally:
            await source.aclose()

    changes = anyio.run(read)
    assert len(changes) == 8 and all(c.record is None for c in changes)
    reasons = {c.error.message for c in changes if c.error}
    assert len(reasons) == 8
    assert all("product.child_item.list children[" in r and "(str)" in r for r in reasons)
    harness.transports.clear()  # the answer breaks the spec on purpose


def test_the_catalog_parks_the_page_instead_of_stopping(harness: Harness) -> None:
    source = harness.source(currency="USD", inner=GarbledChildren(harness.app))
    catalog = Api2CartCatalog(source.context)

    async def read() -> list[PageOfProducts]:
        try:
            return [page async for page in catalog.catalog_changes(None)]
        finally:
            await catalog.aclose()
            await source.aclose()

    pages = anyio.run(read)
    assert sum(len(p.products) for p in pages) == 0
    refused = [r for p in pages for r in p.unreadable.values()]
    assert len(refused) == 8
    assert all(r.details["field"].startswith("product.child_item.list children[") for r in refused)
    harness.transports.clear()  # the answer breaks the spec on purpose
