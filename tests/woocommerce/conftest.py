"""Fixtures for the WooCommerce connector: emulator, sources wired to it, a clock that never waits."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.retry import RetryPolicy
from ledgerbridge.sandbox import FaultConfig, serve
from ledgerbridge_woocommerce.emulator import (
    DEFAULT_KEY,
    DEFAULT_SECRET,
    EmulatorConfig,
    create_app,
    seed,
)
from ledgerbridge_woocommerce.settings import WooCommerceSecrets, WooCommerceSettings
from ledgerbridge_woocommerce.source import WooCommerceSource
from tests.conftest import refdata

FAST = RetryPolicy(attempts=4, initial=0.01, maximum=0.05, jitter=0)


class FakeClock:
    """Records every wait instead of sleeping, so back-off is asserted, not endured."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def now(self) -> float:
        return sum(self.waits)

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def example(name: str) -> Any:
    """A WooCommerce documentation example, parsed as the connector parses responses."""
    return json.loads(refdata("woocommerce-examples", name).read_text(), parse_float=Decimal)


def make_source(
    app: Any = None,
    *,
    url: str = "https://shop.test",
    transport: httpx.AsyncBaseTransport | None = None,
    clock: FakeClock | None = None,
    key: str = DEFAULT_KEY,
    secret: str = DEFAULT_SECRET,
    webhook_secret: str | None = "whsec-test",
    **settings: Any,
) -> WooCommerceSource:
    context = ConnectorContext(
        connection_id="woo-1",
        tenant_id="t1",
        settings=WooCommerceSettings(store_url=url, **settings),
        secrets=WooCommerceSecrets(
            consumer_key=key, consumer_secret=secret, webhook_secret=webhook_secret
        ),
        transport=transport if transport is not None else httpx.ASGITransport(app),
        clock=clock or FakeClock(),
    )
    return WooCommerceSource(context, policy=FAST)


def live_source(server: Any, **kw: Any) -> WooCommerceSource:
    """A source reading the emulator on a loopback port: plain http, so OAuth 1.0a signed."""
    return make_source(url=server.url, allow_http=True, transport=httpx.AsyncHTTPTransport(), **kw)


@pytest.fixture
def app() -> Any:
    return create_app(seed(orders=24), EmulatorConfig(), FaultConfig())


@pytest.fixture
def source_for() -> Callable[..., WooCommerceSource]:
    return make_source


@pytest.fixture
def live(app: Any) -> Iterator[Any]:
    """The emulator on a loopback port (real sockets, plain http: OAuth 1.0a)."""
    with serve(app) as server:
        yield server
