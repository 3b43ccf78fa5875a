"""Cassettes: replayed without any server, and re-recorded with every key scrubbed."""

from __future__ import annotations

from decimal import Decimal

import httpx

from ledgerbridge.testing.cassettes import assert_scrubbed, scrubbing_vcr

from .recording import CASSETTE, CASSETTES, SECRETS, read_orders, record


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"replay must not reach the network: {request.url}")


def NoNetwork() -> httpx.MockTransport:
    """A transport that fails if called; vcrpy answers before it is reached."""
    return httpx.MockTransport(_unreachable)


def test_replay_reads_mapped_orders_from_the_committed_cassette():
    vcr = scrubbing_vcr(CASSETTES, SECRETS, record_mode="none")
    with vcr.use_cassette(CASSETTE) as cassette:
        pages = read_orders(NoNetwork())
    orders = [c.record for p in pages for c in p.changes]
    assert len(orders) == 12 and cassette.play_count == len(cassette.data)
    assert all(o.discrepancies() == [] for o in orders)
    first = orders[0]
    assert (first.number, first.totals.total.amount) == ("1001", Decimal("17.60"))
    assert any(o.refunds for o in orders) and any(o.customer.is_guest for o in orders)
    assert_scrubbed(CASSETTES / CASSETTE, SECRETS)


def test_rerecording_scrubs_every_secret(tmp_path):
    path, pages = record(tmp_path)
    assert sum(len(p.changes) for p in pages) == 12
    assert_scrubbed(path, SECRETS)
    text = path.read_text()
    # The Authorization header stays as a placeholder (the scheme shows, the credentials not).
    for line in text.splitlines():
        if "basic " in line.lower():
            assert line.strip() == "- Basic <CREDENTIALS>", line
    # and the same recording replays
    vcr = scrubbing_vcr(tmp_path, SECRETS, record_mode="none")
    with vcr.use_cassette(CASSETTE):
        again = read_orders(NoNetwork())
    assert [c.version for p in again for c in p.changes] == [
        c.version for p in pages for c in p.changes
    ]


def test_query_parameter_credentials_are_replaced_by_placeholders(tmp_path):
    from ledgerbridge.canonical import EntityType
    from ledgerbridge_woocommerce.emulator import EmulatorConfig, create_app, seed

    from .conftest import make_source

    app = create_app(seed(orders=3), EmulatorConfig(strip_authorization=True))
    # the credentials reach the transport vcrpy patches (below httpx's own logging)
    source = make_source(transport=httpx.ASGITransport(app), auth="query")
    vcr = scrubbing_vcr(tmp_path, SECRETS, record_mode="all")

    async def main():
        try:
            return [p async for p in source.changes(EntityType.ORDER, None)]
        finally:
            await source.aclose()

    import anyio

    with vcr.use_cassette("query.yaml"):
        pages = anyio.run(main)
    assert sum(len(p.changes) for p in pages) == 3
    assert_scrubbed(tmp_path / "query.yaml", SECRETS)
    text = (tmp_path / "query.yaml").read_text()
    assert (
        "consumer_secret=%3CCONSUMER_SECRET%3E" in text
        or "consumer_secret=<CONSUMER_SECRET>" in text
    )
