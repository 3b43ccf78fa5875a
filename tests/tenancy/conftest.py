"""The Zoho Books emulator on a real loopback socket, every exchange recorded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ledgerbridge.sandbox import serve
from ledgerbridge_zohobooks.emulator import Exchange, create_app


@dataclass
class Zoho:
    url: str
    emulator: Any
    exchanges: list[Exchange]

    @property
    def state(self) -> Any:
        return self.emulator.state

    def writes(self, since: int = 0) -> list[Exchange]:
        """The exchanges that could change books (anything but a GET)."""
        return [ex for ex in self.exchanges[since:] if ex.method != "GET"]


@pytest.fixture
def zoho() -> Iterator[Zoho]:
    exchanges: list[Exchange] = []
    app = create_app(observer=exchanges.append)
    with serve(app) as server:
        yield Zoho(server.url, app.emulator, exchanges)  # type: ignore[attr-defined]
