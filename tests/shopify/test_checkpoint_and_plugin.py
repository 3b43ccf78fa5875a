"""Checkpoint format and the plugin's registration (factory, emulator, settings)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.errors import ValidationFailed
from ledgerbridge.incremental import MAX_SEEN, Watermark, parse_instant
from ledgerbridge.plugins import get_registry
from ledgerbridge_shopify.checkpoint import LANE, Checkpoint
from ledgerbridge_shopify.emulator import DEFAULT_TOKEN
from ledgerbridge_shopify.plugin import ShopifySecrets, ShopifySettings
from ledgerbridge_shopify.source import ShopifySource


def handed_over(pairs: list[tuple[str, str]], overlap: timedelta) -> Checkpoint:
    """The checkpoint after ``(id, updatedAt)`` records were handed over (what a read stores)."""
    moments = [(ident, parse_instant(updated)) for ident, updated in pairs]
    return Checkpoint().with_lane(LANE, Watermark().handed_over(moments, overlap))


def test_checkpoint_round_trip_and_overlap() -> None:
    cp = handed_over(
        [("1", "2026-01-01T10:00:00Z"), ("2", "2026-01-01T10:05:00Z")], timedelta(minutes=2)
    )
    assert cp.since == datetime(2026, 1, 1, 10, 5, tzinfo=UTC)
    assert json.loads(cp.dumps()) == {
        "since": "2026-01-01T10:05:00Z",
        "seen": {"2": "2026-01-01T10:05:00Z"},  # "1" is outside the overlap window
    }
    again = Checkpoint.loads(cp.dumps())
    assert again == cp
    assert again.search(timedelta(minutes=2)) == "updated_at:>='2026-01-01T10:03:00Z'"
    assert again.search(timedelta(minutes=2), day_granularity=True) == "updated_at:>='2026-01-01'"
    assert again.lane(LANE).seen_at("2", parse_instant("2026-01-01T10:05:00+00:00"))
    # changed again: not skipped
    assert not again.lane(LANE).seen_at("2", parse_instant("2026-01-01T10:06:00Z"))


def test_checkpoint_seen_set_is_bounded_keeping_the_newest() -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    pairs = [
        (str(i), (base + timedelta(seconds=i // 10)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for i in range(3000)
    ]
    cp = handed_over(pairs, timedelta(hours=1))
    seen = json.loads(cp.dumps())["seen"]
    assert len(seen) == MAX_SEEN and "2999" in seen and "0" not in seen
    assert cp.since == base + timedelta(seconds=299)


def test_checkpoint_accepts_iso_and_rejects_garbage() -> None:
    assert Checkpoint.loads("2026-02-03T04:05:06+00:00").since == datetime(
        2026, 2, 3, 4, 5, 6, tzinfo=UTC
    )
    assert Checkpoint.loads(None) == Checkpoint()
    with pytest.raises(ValidationFailed, match="checkpoint"):
        Checkpoint.loads("last tuesday")


def test_settings_validate() -> None:
    assert ShopifySettings(shop="acme").api_version == "2025-01"
    with pytest.raises(ValidationError):
        ShopifySettings(shop="acme", api_version="latest")
    with pytest.raises(ValidationError):
        ShopifySettings(shop="acme", page_size=500)


def test_registered_spec_builds_the_source_and_the_emulator() -> None:
    spec = get_registry().get("shopify")
    assert spec.status == "ready" and spec.emulator is not None
    app = spec.emulator()
    context = ConnectorContext(
        connection_id="c",
        tenant_id="t",
        settings=ShopifySettings(shop="emulated", base_url="http://sandbox"),
        secrets=ShopifySecrets(access_token=SecretStr(DEFAULT_TOKEN)),
        transport=httpx.ASGITransport(app=app),
    )
    source = spec.build(context)
    assert isinstance(source, ShopifySource)

    async def read() -> str:
        currency = await source.shop_currency()
        await source.aclose()
        return currency

    assert asyncio.run(read()) == "USD"


def test_token_never_appears_in_errors() -> None:
    from ledgerbridge_shopify.emulator import create_app

    secret = "shpat_do_not_leak_0123456789abcdef"
    context = ConnectorContext(
        connection_id="c",
        tenant_id="t",
        settings=ShopifySettings(shop="emulated", base_url="http://sandbox"),
        secrets=ShopifySecrets(access_token=SecretStr(secret)),
        transport=httpx.ASGITransport(app=create_app(orders=1)),
    )
    source = ShopifySource(context)
    with pytest.raises(Exception) as err:
        asyncio.run(source.shop_currency())
    assert secret not in str(err.value) and secret not in json.dumps(err.value.summary())  # type: ignore[attr-defined]
    assert secret not in repr(context.secrets)
    asyncio.run(source.aclose())
