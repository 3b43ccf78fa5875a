"""The checkpoint format, the modified_from value, and the registered connector/emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import httpx
import pytest

from ledgerbridge.contracts import ConnectorContext, ConnectorKind
from ledgerbridge.plugins import Registry
from ledgerbridge_api2cart.checkpoint import Checkpoint, filter_value
from ledgerbridge_api2cart.emulator import DEFAULT_API_KEY
from ledgerbridge_api2cart.source import Api2CartSource


def test_checkpoint_round_trips_and_never_moves_back():
    mark = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    cp = Checkpoint().advanced("modified", mark)
    assert Checkpoint.loads(cp.dumps()) == cp
    assert cp.advanced("modified", mark - timedelta(hours=1)) == cp
    assert cp.advanced("deleted", mark).lane("deleted").mark == mark
    assert Checkpoint.loads(None) == Checkpoint() == Checkpoint.loads("")


def test_a_bare_iso_datetime_from_backfill_sets_both_watermarks():
    cp = Checkpoint.loads("2026-01-05T10:00:00+02:00")
    assert (
        cp.lane("modified").mark == cp.lane("deleted").mark == datetime(2026, 1, 5, 8, tzinfo=UTC)
    )


def test_a_garbled_checkpoint_is_a_clear_error():
    with pytest.raises(ValueError, match="neither this connector's JSON checkpoint"):
        Checkpoint.loads("page 3 of 9")


def test_modified_from_is_written_in_the_filter_zone_with_the_overlap():
    mark = datetime(2026, 1, 5, 10, 0, 30, tzinfo=UTC)
    assert filter_value(mark, timedelta(hours=3), "UTC") == "2026-01-05 07:00:30"
    assert filter_value(mark, timedelta(0), "America/New_York") == "2026-01-05 05:00:30"


def test_the_registered_connector_is_ready_and_its_emulator_answers():
    registry = Registry()
    registry.load_entry_points(allow={"api2cart"})
    spec = registry.get("api2cart")
    assert spec.status == "ready" and spec.kind is ConnectorKind.SOURCE
    settings = spec.settings_model.model_validate(
        {"base_url": "http://sandbox/v1.1", "cart": "EtsyAPIv3"}
    )
    secrets = spec.secrets_model.model_validate(
        {"api_key": DEFAULT_API_KEY, "store_key": "sandbox-store-etsy"}
    )
    assert "sandbox-store-etsy" not in repr(secrets)  # SecretStr
    app = spec.emulator()
    context = ConnectorContext("t/a2c", "t", settings, secrets, transport=httpx.ASGITransport(app))
    source = spec.build(context)
    assert isinstance(source, Api2CartSource)

    async def statuses():
        try:
            return await source.status_book()
        finally:
            await source.aclose()

    book = anyio.run(statuses)
    assert set(book.store_statuses) == {"paid", "completed", "canceled"}
