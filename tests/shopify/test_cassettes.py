"""Recorded HTTP (vcrpy) against the emulator, token scrubbed, replayed without any server.

Re-record the committed cassette with ``python -m tests.shopify.test_cassettes``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.sandbox import serve
from ledgerbridge.testing.cassettes import assert_scrubbed, scrubbing_vcr
from ledgerbridge_shopify.emulator import ALL_SCOPES, create_app

from .helpers import ScaledClock, make_source

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "shopify"
CASSETTE = "fetch_orders.yaml"
RECORDING_TOKEN = "shpat_recording_0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SECRETS = {RECORDING_TOKEN: "<SHOPIFY_ACCESS_TOKEN>"}


def record(directory: Path) -> Path:
    """Run the connector against a loopback emulator with recording on."""
    clock = ScaledClock(5000)
    app = create_app(orders=100, clock=clock.now, tokens={RECORDING_TOKEN: ALL_SCOPES})
    recorder = scrubbing_vcr(directory, SECRETS, record_mode="all")
    (directory / CASSETTE).unlink(missing_ok=True)  # a fresh recording, not appended to the old

    async def scenario(url: str) -> None:
        source = make_source(base_url=url, clock=clock, token=RECORDING_TOKEN)
        await source.fetch(EntityType.ORDER, "5000000007")
        await source.fetch(EntityType.ORDER, "5000000097")
        await source.aclose()

    with serve(app) as server, recorder.use_cassette(CASSETTE):
        asyncio.run(scenario(server.url))
    return directory / CASSETTE


def _recorded_base_url(path: Path) -> str:
    data = yaml.safe_load(path.read_text())
    uri = data["interactions"][0]["request"]["uri"]
    return uri.split("/admin/api/")[0]


def test_replay_committed_cassette_without_a_server() -> None:
    path = CASSETTES / CASSETTE
    assert_scrubbed(path, SECRETS)
    player = scrubbing_vcr(CASSETTES, SECRETS, record_mode="none")

    async def scenario() -> tuple[Order, Order]:
        # the token is not the recording one: replay matches method, URL and body only
        source = make_source(
            base_url=_recorded_base_url(path), clock=ScaledClock(1e6), token="replay"
        )
        refunded = await source.fetch(EntityType.ORDER, "5000000007")
        long = await source.fetch(EntityType.ORDER, "5000000097")
        await source.aclose()
        assert isinstance(refunded, Order) and isinstance(long, Order)
        return refunded, long

    with player.use_cassette(CASSETTE) as cassette:
        refunded, long = asyncio.run(scenario())
        assert cassette.all_played
    assert refunded.number == "#1007" and len(refunded.refunds) == 1
    assert (
        refunded.discrepancies() == []
        and refunded.amount_refunded == refunded.refunds[0].credit_total
    )
    assert len(long.lines) == 30 and len(long.refunds[0].lines) == 30


def test_rerecording_scrubs_the_token(tmp_path: Path) -> None:
    path = record(tmp_path)
    text = path.read_text()
    assert RECORDING_TOKEN not in text
    assert "graphql.json" in text and "OrderById" in text
    assert_scrubbed(path, SECRETS)


if __name__ == "__main__":
    CASSETTES.mkdir(parents=True, exist_ok=True)
    print(record(CASSETTES))
