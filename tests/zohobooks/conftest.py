"""Fixtures: the Zoho Books emulator on a real loopback socket, its requests recorded.

Every exchange a test causes is validated against Zoho's official OpenAPI when
the test ends (``contract.py``), so no test can send a request the real API
would not accept without failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ledgerbridge.sandbox import FaultConfig, serve
from ledgerbridge_zohobooks.emulator import Exchange, ZohoBooksEmulator, create_app

from .contract import ZohoContract, load_contract


@dataclass
class Running:
    url: str
    emulator: ZohoBooksEmulator
    faults: FaultConfig
    exchanges: list[Exchange]

    @property
    def state(self):  # type: ignore[no-untyped-def]
        return self.emulator.state


@pytest.fixture(scope="session")
def zoho_contract() -> ZohoContract | None:
    return load_contract()


@pytest.fixture
def zoho(zoho_contract: ZohoContract | None) -> Iterator[Running]:
    exchanges: list[Exchange] = []
    faults = FaultConfig()
    app = create_app(faults=faults, observer=exchanges.append)
    with serve(app) as server:
        yield Running(server.url, app.emulator, faults, exchanges)  # type: ignore[attr-defined]
    if zoho_contract is not None:
        problems = [p for ex in exchanges for p in zoho_contract.check_exchange(ex)]
        assert not problems, "requests/responses outside Zoho's OpenAPI:\n" + "\n".join(problems)
