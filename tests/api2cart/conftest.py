"""Fixtures for the API2Cart connector tests: emulator, contract, sources, a fake clock."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge_api2cart.client import _GATES
from ledgerbridge_api2cart.emulator import create_app, create_state
from ledgerbridge_api2cart.emulator.app import EmulatorState
from ledgerbridge_api2cart.settings import Api2CartSecrets, Api2CartSettings
from ledgerbridge_api2cart.source import Api2CartSource
from tests.conftest import REFDATA

from .contract import ContractTransport, OpenApiContract

API_KEY = "test-api-key-7f3a9c"
STORES = {
    "store-key-generic-51d0": ("Shopify", "USD"),
    "store-key-etsy-88b2": ("EtsyAPIv3", "EUR"),
    "store-key-amazon-0c41": ("AmazonSP", "USD"),
}
GENERIC, ETSY, AMAZON = STORES

SPEC = REFDATA / "api2cart-openapi" / "openapi.json"


@functools.cache
def load_contract() -> OpenApiContract | None:
    """The official spec, or None when ../shared/refdata is absent (test_contract.py skips)."""
    return OpenApiContract.load(SPEC) if SPEC.exists() else None


@dataclass
class FakeClock:
    """Records every wait instead of sleeping, so throttling tests take no time."""

    t: float = 0.0
    waits: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.t += seconds


@dataclass
class Harness:
    state: EmulatorState
    app: Any
    clock: FakeClock
    transports: list[ContractTransport] = field(default_factory=list)

    @property
    def emulator(self) -> Any:
        return self.app.emulator

    def source(
        self,
        store_key: str = GENERIC,
        *,
        api_key: str = API_KEY,
        base_url: str = "http://api2cart.test/v1.1",
        inner: httpx.AsyncBaseTransport | None = None,
        **settings: Any,
    ) -> Api2CartSource:
        transport = ContractTransport(inner or httpx.ASGITransport(self.app), load_contract())
        self.transports.append(transport)
        cart = self.state.stores[store_key].cart_id if store_key in self.state.stores else None
        context = ConnectorContext(
            connection_id="tenant-a/api2cart",
            tenant_id="tenant-a",
            settings=Api2CartSettings(base_url=base_url, cart=cart, **settings),
            secrets=Api2CartSecrets(
                api_key=SecretStr(api_key),
                store_key=SecretStr(store_key),
                webhook_token=SecretStr("hook-token-4b1e"),
            ),
            transport=transport,
            clock=self.clock,
        )
        return Api2CartSource(context)

    @property
    def violations(self) -> list[str]:
        return [v for t in self.transports for v in t.violations]


@pytest.fixture(autouse=True)
def _fresh_account_gates() -> Iterator[None]:
    """The account pause is process-wide by design; tests must not inherit one."""
    _GATES.clear()
    yield
    _GATES.clear()


@pytest.fixture
def harness() -> Iterator[Harness]:
    state = create_state(api_key=API_KEY, stores=STORES, orders=25)
    h = Harness(state=state, app=create_app(state), clock=FakeClock())
    yield h
    # Every request sent and every answer received in any test validates against the spec.
    assert h.violations == [], h.violations
