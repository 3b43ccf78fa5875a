"""The catalog half's product read stops on a broken answer instead of looping for ever.

Before the read went through the kit's ``connection_pages``, a shop (or a proxy in front of
it) that answered ``hasNextPage: true`` with the cursor it had just been given made the
catalog run ask for the same page again and again: the run never ended and never said why.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from pydantic import SecretStr

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.errors import TransientError
from ledgerbridge_shopify.catalog import ShopifyCatalog
from ledgerbridge_shopify.plugin import ShopifySecrets, ShopifySettings

from .helpers import ScaledClock


def _answer(request: httpx.Request) -> httpx.Response:
    query = json.loads(request.content)["query"]
    if "currencyCode" in query and "products" not in query:
        return httpx.Response(200, json={"data": {"shop": {"currencyCode": "USD"}}})
    page = {"nodes": [], "pageInfo": {"hasNextPage": True, "endCursor": "same-cursor"}}
    return httpx.Response(200, json={"data": {"products": page}})


def test_a_cursor_answered_twice_raises_instead_of_reading_for_ever() -> None:
    asked: list[Any] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if len(asked) > 50:
            raise AssertionError("the catalog read is looping on one cursor")
        return _answer(request)

    context = ConnectorContext(
        connection_id="c1",
        tenant_id="t1",
        settings=ShopifySettings(shop="emulated", base_url="http://emulated.test"),
        secrets=ShopifySecrets(access_token=SecretStr("shpat_test")),
        transport=httpx.MockTransport(answer),
        clock=ScaledClock(),
    )

    async def read() -> None:
        catalog = ShopifyCatalog(context)
        try:
            async for _page in catalog.catalog_changes(None):
                pass
        finally:
            await catalog.aclose()

    with pytest.raises(TransientError, match="came back twice"):
        anyio.run(read)
    assert len(asked) <= 5
