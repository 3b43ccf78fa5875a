"""Several `ledgerbridge sync` processes starting together on one store (as the demo
does) must not trip over each other registering the same tenants and connections."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from ledgerbridge.engine.assembly import retry_on_race as _retry_on_race


def race(times: int) -> list[int]:
    calls: list[int] = []

    def upsert() -> None:
        calls.append(1)
        if len(calls) <= times:  # another process inserted the row between read and insert
            raise IntegrityError("INSERT INTO tenants", {}, Exception("UNIQUE constraint failed"))

    _retry_on_race(upsert)
    return calls


def test_a_lost_insert_race_is_retried_once_and_then_finds_the_row() -> None:
    assert race(times=1) == [1, 1]
    assert race(times=0) == [1]


def test_a_persistent_integrity_error_is_not_swallowed() -> None:
    with pytest.raises(IntegrityError):
        race(times=2)
