"""A share does not ask the target who it is when the engine asked less than a minute ago.

Each share of a distributed worker makes a new runner; each asked Zoho Books
``GET /organizations`` before its first record -- a third of an organisation's calls under
a stream of webhooks. The engine's answer (from its start-up check) is reused for
``identities.TTL``; a dead target forgets it, so the next run asks again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from ledgerbridge.contracts.target import TargetIdentity
from ledgerbridge.engine.identities import TTL, Identities

from .test_units_of_work import _recorded

pytestmark = pytest.mark.usefixtures("secret_key")


def test_shares_of_one_engine_ask_the_organisation_once(tmp_path: Path) -> None:
    context, box = _recorded(tmp_path, orders=3)
    with context as h:
        engine = h.engine()

        async def shares() -> None:
            async with engine:
                for n in range(3):
                    await engine.work("pipe", holder=f"task-{n}", lease_ttl=timedelta(seconds=5))

        anyio.run(shares)
        asked = box["r"].count("GET", "/books/v3/organizations")
        assert asked == 1, asked  # the start-up check; before: one more per share


def test_a_remembered_identity_lapses_and_is_forgotten_on_demand() -> None:
    clock = {"now": 0.0}
    identities = Identities(now=lambda: clock["now"])
    who = TargetIdentity(organization_id="1", name="Org", base_currency="USD", reachable=("1",))
    identities.put("t/books", who)
    clock["now"] = TTL - 1
    assert identities.get("t/books") == who
    clock["now"] = TTL
    assert identities.get("t/books") is None
    identities.put("t/books", who)
    identities.forget("t/books")
    assert identities.get("t/books") is None
    assert identities.get("other") is None
