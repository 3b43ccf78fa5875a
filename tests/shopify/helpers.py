"""Shared pieces for the Shopify tests: a scaled clock and a source wired to an emulator."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from pydantic import SecretStr

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge_shopify.emulator import DEFAULT_TOKEN
from ledgerbridge_shopify.plugin import ShopifySecrets, ShopifySettings
from ledgerbridge_shopify.source import ShopifySource

APP_SECRET = "shpss_test_app_secret_0123456789"


class ScaledClock:
    """Time that runs ``factor`` times faster than the wall clock, for client and emulator alike."""

    def __init__(self, factor: float = 1000.0) -> None:
        self.factor = factor
        self.slept = 0.0
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.factor

    async def sleep(self, seconds: float) -> None:
        self.slept += seconds
        await asyncio.sleep(seconds / self.factor)


def make_source(
    *,
    app: Any = None,
    base_url: str = "http://emulated.test",
    clock: Any = None,
    token: str = DEFAULT_TOKEN,
    **settings: Any,
) -> ShopifySource:
    transport = httpx.ASGITransport(app=app) if app is not None else None
    context = ConnectorContext(
        connection_id="c1",
        tenant_id="t1",
        settings=ShopifySettings(shop="emulated", base_url=base_url, **settings),
        secrets=ShopifySecrets(access_token=SecretStr(token), app_secret=SecretStr(APP_SECRET)),
        transport=transport,
        clock=clock or ScaledClock(),
    )
    return ShopifySource(context)
