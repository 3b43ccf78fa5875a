"""The TinyShop example connector, tested the way every ledgerbridge connector is:
over real HTTP against its emulator, against its API contract, and from a scrubbed cassette."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import anyio
import httpx
import jsonschema
import pytest
from ledgerbridge_tinyshop.emulator import (
    TOKEN,
    WEBHOOK_SECRET,
    create_app,
    seed_orders,
    sign,
    webhook_body,
)
from ledgerbridge_tinyshop.source import TinyShopSecrets, TinyShopSettings, TinyShopSource
from pydantic import SecretStr

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import ConnectorContext, WebhookRequest
from ledgerbridge.errors import AuthFailed, NotFound, WebhookRejected
from ledgerbridge.sandbox import serve
from ledgerbridge.testing.cassettes import assert_scrubbed, scrubbing_vcr

HERE = Path(__file__).resolve().parents[1]
SPEC = json.loads((HERE / "ledgerbridge_tinyshop" / "openapi.json").read_text())
CASSETTES = HERE / "cassettes"


def make_source(base_url: str, token: str = TOKEN, transport=None) -> TinyShopSource:
    ctx = ConnectorContext(
        "demo/tinyshop",
        "demo",
        TinyShopSettings(base_url=base_url),
        TinyShopSecrets(api_token=SecretStr(token), webhook_secret=SecretStr(WEBHOOK_SECRET)),
        transport=transport,
    )
    return TinyShopSource(ctx)


async def read_all(source: TinyShopSource, checkpoint: str | None = None, page_size: int = 3):
    pages = [p async for p in source.changes(EntityType.ORDER, checkpoint, page_size=page_size)]
    await source.aclose()
    return pages


def test_reads_every_order_once_over_real_http_and_maps_it():
    with serve(create_app()) as server:
        pages = anyio.run(lambda: read_all(make_source(server.url)))
        resumed = anyio.run(lambda: read_all(make_source(server.url), pages[-1].checkpoint))
    orders = [c.record for p in pages for c in p.changes]
    assert [len(p.changes) for p in pages] == [3, 3, 1]
    assert len({o.source.external_id for o in orders}) == 7
    seeded = {o["id"]: o for o in seed_orders()}
    for order in orders:
        assert str(order.totals.total.amount) == seeded[order.source.external_id]["total"]
        assert order.reconciliation().ok
    assert resumed == []  # the last checkpoint: nothing is handed over twice


def test_resuming_rereads_the_overlap_window_and_hands_over_only_what_is_new():
    app = create_app()
    with serve(app) as server:
        first = anyio.run(lambda: read_all(make_source(server.url)))
        newest = datetime.fromisoformat(max(o["updated_at"] for o in app.state.orders.values()))
        # A write the list showed late: saved two minutes before the newest order read.
        late = {**seed_orders(1)[0], "id": "2001", "number": "TS-2001"}
        late["updated_at"] = (newest - timedelta(minutes=2)).isoformat()
        app.state.orders["2001"] = late
        again = anyio.run(lambda: read_all(make_source(server.url), first[-1].checkpoint))
    # The newest order is inside the window too, but that version was handed over already.
    assert [(c.external_id, c.version) for p in again for c in p.changes] == [
        ("2001", late["updated_at"])
    ]


def test_a_checkpoint_reads_only_newer_orders():
    with serve(create_app()) as server:
        first = anyio.run(lambda: read_all(make_source(server.url)))
        middle = first[0].checkpoint
        later = anyio.run(lambda: read_all(make_source(server.url), middle))
    ids = [c.external_id for p in later for c in p.changes]
    assert ids == [str(1000 + n) for n in range(4, 8)]


def test_errors_map_to_ledgerbridge_classes():
    with serve(create_app()) as server:
        with pytest.raises(AuthFailed, match="new one"):
            anyio.run(lambda: read_all(make_source(server.url, token="wrong")))

        async def missing():
            source = make_source(server.url)
            try:
                await source.fetch(EntityType.ORDER, "nope")
            finally:
                await source.aclose()

        with pytest.raises(NotFound):
            anyio.run(missing)


def test_a_malformed_order_is_parked_not_raised():
    bad = seed_orders(2)
    bad[1]["total"] = "999.00"  # does not add up
    with serve(create_app(bad)) as server:
        [page] = anyio.run(lambda: read_all(make_source(server.url)))
    ok, broken = page.changes
    assert ok.record is not None and broken.record is None
    assert "exceeds the rounding tolerance" in str(broken.error)


def test_webhooks_are_verified_on_the_raw_body():
    source = make_source("http://unused")
    body = webhook_body(seed_orders(1)[0])
    good = WebhookRequest({"X-TinyShop-Signature": sign(body)}, body)
    source.verify_webhook(good)
    event = source.parse_webhook(good)
    assert event is not None and event.external_id == "1001" and event.entity is EntityType.ORDER
    with pytest.raises(WebhookRejected):
        source.verify_webhook(WebhookRequest({"X-TinyShop-Signature": sign(body)}, body + b" "))


def test_every_request_and_response_matches_the_api_contract():
    seen: list[tuple[httpx.Request, httpx.Response]] = []

    class Recording(httpx.AsyncBaseTransport):
        def __init__(self):
            self.inner = httpx.ASGITransport(app=create_app())

        async def handle_async_request(self, request):
            response = await self.inner.handle_async_request(request)
            await response.aread()
            seen.append((request, response))
            return response

    anyio.run(lambda: read_all(make_source("http://tinyshop.test", transport=Recording())))
    assert len(seen) == 3
    for request, response in seen:
        operation = SPEC["paths"][request.url.path]["get"]
        known = {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "query"}
        for name, value in request.url.params.items():
            assert name in known, f"{name} is not a parameter of GET {request.url.path}"
            typed = int(value) if known[name]["type"] == "integer" else value
            jsonschema.validate(typed, known[name])
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        jsonschema.validate(response.json(), {**schema, "components": SPEC["components"]})


def test_cassette_replays_without_a_server():
    vcr = scrubbing_vcr(CASSETTES, {TOKEN: "<TOKEN>"}, record_mode="none")
    with vcr.use_cassette("orders.yaml"):
        pages = anyio.run(lambda: read_all(make_source("http://tinyshop.test", token="<TOKEN>")))
    assert sum(len(p.changes) for p in pages) == 7


def test_recording_scrubs_the_token(tmp_path: Path):
    with serve(create_app()) as server:
        secrets = {
            TOKEN: "<TOKEN>",
            server.url: "http://tinyshop.test",
            server.url[7:]: "tinyshop.test",
        }
        vcr = scrubbing_vcr(tmp_path, secrets, record_mode="all")
        with vcr.use_cassette("orders.yaml"):
            anyio.run(lambda: read_all(make_source(server.url)))
    assert_scrubbed(tmp_path / "orders.yaml", secrets)
    assert "tinyshop.test" in (tmp_path / "orders.yaml").read_text()
