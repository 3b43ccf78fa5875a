"""Recorded API2Cart traffic: replayed offline, and re-recorded to prove it holds no secret.

``cassettes/api2cart/etsy_orders.yaml`` was recorded against the emulator by
``python -m tests.api2cart.test_cassettes`` (the same ``record`` function the
re-recording test runs).  On replay, vcrpy answers at the transport, so the
emulator behind it is never reached -- and the contract transport still checks
every request and answer.
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import httpx
import pytest
import yaml

from ledgerbridge.canonical import EntityType
from ledgerbridge.testing.cassettes import assert_scrubbed, scrubbing_vcr
from ledgerbridge_api2cart.emulator import create_app, create_state
from ledgerbridge_api2cart.webhooks import ensure_webhook

from ..conftest import REFDATA
from .conftest import API_KEY, ETSY, STORES, FakeClock, Harness
from .contract import OpenApiContract

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "api2cart"
NAME = "etsy_orders.yaml"
TOKEN = "hook-token-4b1e"
SECRETS = {API_KEY: "<API_KEY>", ETSY: "<STORE_KEY>", TOKEN: "<WEBHOOK_TOKEN>"}
CALLBACK = f"https://ledgerbridge.example/hooks/api2cart/tenant-a/{TOKEN}"


async def scenario(harness: Harness) -> dict[str, object]:
    """A walk of every order page, one order read back, one webhook subscription."""
    source = harness.source(ETSY)
    try:
        ids = []
        async for page in source.changes(EntityType.ORDER, None, page_size=10):
            ids += [(c.external_id, c.deleted, c.error is None) for c in page.changes]
        order = await source.fetch(EntityType.ORDER, ids[0][0])
        hook = await ensure_webhook(
            source.client, entity="order", action="update", callback=CALLBACK
        )
        return {"ids": ids, "total": order.totals.total.amount, "hook": hook}
    finally:
        await source.aclose()


def _harness() -> Harness:
    state = create_state(api_key=API_KEY, stores=STORES, orders=25)
    return Harness(state=state, app=create_app(state), clock=FakeClock())


def record(directory: Path) -> dict[str, object]:
    harness = _harness()
    vcr = scrubbing_vcr(directory, SECRETS, record_mode="all")
    with vcr.use_cassette(NAME):
        result = anyio.run(lambda: scenario(harness))
    assert harness.violations == []
    return result


class _Unreachable:
    """An ASGI app that fails the test if a replayed request ever reaches it."""

    async def __call__(self, scope, receive, send):
        raise AssertionError("replay reached the network")


def test_replay_offline_matches_a_live_run(harness: Harness):
    live = anyio.run(lambda: scenario(_harness()))
    harness.app = _Unreachable()
    vcr = scrubbing_vcr(CASSETTES, SECRETS, record_mode="none")
    with vcr.use_cassette(NAME):
        replayed = anyio.run(lambda: scenario(harness))
    assert replayed == live
    assert len(replayed["ids"]) == 27 and all(ok for _, _, ok in replayed["ids"])


def test_recorded_cassettes_hold_no_secret(tmp_path: Path):
    record(tmp_path)
    fresh = tmp_path / NAME
    assert_scrubbed(fresh, SECRETS)
    assert_scrubbed(CASSETTES / NAME, SECRETS)
    text = fresh.read_text()
    assert "<WEBHOOK_TOKEN>" in text  # the callback URL was scrubbed, not dropped
    recorded = yaml.safe_load(text)["interactions"]
    committed = yaml.safe_load((CASSETTES / NAME).read_text())["interactions"]
    assert [i["request"]["uri"] for i in recorded] == [i["request"]["uri"] for i in committed]
    for interaction in recorded:
        # The credential headers stay, as placeholders: the request still shows (and is
        # checked against, below) the spec's security scheme.
        headers = {k.lower(): v for k, v in interaction["request"]["headers"].items()}
        assert headers["x-api-key"] == ["<API_KEY>"] and headers["x-store-key"] == ["<STORE_KEY>"]


def test_recorded_requests_match_the_openapi_and_its_security_scheme():
    """Every committed request, replayed into API2Cart's OpenAPI: declared query parameters,
    the security headers (``x-api-key``, ``x-store-key``) present, bodies valid."""
    path = REFDATA / "api2cart-openapi" / "openapi.json"
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must have the API2Cart OpenAPI at {path}")
        pytest.skip(f"reference data {path} is not present (CI has ../shared beside the repo)")
    contract = OpenApiContract.load(path)
    committed = yaml.safe_load((CASSETTES / NAME).read_text())["interactions"]
    problems = []
    for interaction in committed:
        recorded = interaction["request"]
        request = httpx.Request(
            recorded["method"],
            recorded["uri"],
            headers={k: v[0] for k, v in recorded["headers"].items()},
            content=(recorded["body"] or "").encode(),
        )
        problems += contract.check_request(request)
    assert not problems, "\n".join(problems)


def test_the_cassette_shows_cursor_pages_sent_alone_and_verbatim():
    committed = yaml.safe_load((CASSETTES / NAME).read_text())["interactions"]
    urls = [httpx.URL(i["request"]["uri"]) for i in committed]
    methods = [u.path.rsplit("/", 1)[-1] for u in urls]
    assert methods[:4] == ["order.status.list.json"] + ["order.list.json"] * 3
    for url in urls[2:4]:
        query = url.query.decode()
        assert query.startswith("page_cursor=") and "&" not in query
        assert "%25" not in query  # encoded once, as received


if __name__ == "__main__":
    print(record(CASSETTES))
