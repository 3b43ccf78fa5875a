"""The kit's pacing: spacing learnt from throttle answers, and one pause per account."""

from __future__ import annotations

import anyio
from pydantic import SecretStr

from ledgerbridge.http.pacing import PAUSES, Pacer, shared_pause


def test_the_spacing_doubles_on_throttles_and_relaxes_on_successes():
    pacer = Pacer(initial=0.5, maximum=2.0)
    for _ in range(4):
        pacer.throttled()
    assert pacer.interval == 2.0  # capped
    pacer.succeeded()
    assert pacer.interval == 1.0
    pacer.succeeded()
    pacer.succeeded()
    assert pacer.interval == 0.0


def test_one_pause_per_account_keyed_by_a_digest():
    PAUSES.clear()
    first = shared_pause(SecretStr("key-1"), "p")
    assert shared_pause(SecretStr("key-1"), "p") is first
    assert shared_pause(SecretStr("key-2"), "p") is not first
    assert all("key-1" not in k for k in PAUSES)
    first.pause(10.0)
    first.pause(5.0)  # never shortened
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    anyio.run(first.wait, 4.0, sleep)
    anyio.run(first.wait, 12.0, sleep)
    assert slept == [6.0]
    PAUSES.clear()
