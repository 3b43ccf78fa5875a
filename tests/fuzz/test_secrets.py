"""No secret in plain text after a small demo-like run: not in the SQLite database, not in
the captured logs (DEBUG, every logger), not in exception messages or failure reasons,
not in the cassettes.  The check itself is shown to find what it looks for."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import httpx
import pytest

from bench.fuzz import secrets as S
from ledgerbridge.config import load_config
from ledgerbridge.store import RecordState
from tests.engine.harness import woocommerce_to_zoho
from tests.engine.test_exactly_once import sync

pytestmark = pytest.mark.usefixtures("secret_key")
REPO = Path(__file__).resolve().parents[2]


def test_the_check_finds_a_planted_secret_and_an_unscrubbed_cassette(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("GET /token?refresh_token=1000.abcdef0123456789&x=1\n")
    secrets = {"1000.abcdef0123456789": "books.refresh_token", "short": "too short to look for"}
    assert [str(leak) for leak in S.scan_files([log], secrets)] == [f"{log}: books.refresh_token"]
    cassette = tmp_path / "cassettes" / "x.yaml"
    cassette.parent.mkdir()
    cassette.write_text('body: \'{"access_token": "zzq8v7c6x5b4n3m2"}\'\nuri: /?k=<API_KEY>\n')
    [leak] = S.scan_cassettes(cassette.parent, {})
    assert "access_token" in leak.what and "not scrubbed" in leak.what
    # a credential header kept as a placeholder after its scheme is scrubbed; a token is not
    cassette.write_text("authorization:\n- Zoho-oauthtoken <ACCESS_TOKEN>\n")
    assert S.scan_cassettes(cassette.parent, {}) == []
    cassette.write_text("authorization:\n- Zoho-oauthtoken 1000.f00dfacecafe\n")
    [leak] = S.scan_cassettes(cassette.parent, {})
    assert "1000" in leak.what


def test_the_cassettes_hold_no_secret() -> None:
    assert S.check(cassettes=REPO / "cassettes") == []


def test_no_secret_in_plain_text_after_a_demo_like_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with woocommerce_to_zoho(tmp_path, orders=8) as h:
        orders = h.source_app.emulator.store.orders
        first = sorted(orders)[0]
        orders[first]["line_items"][0]["total"] = "sNaN"  # one record parked, with a reason
        report, engine = sync(h)
        assert report.read == 8 and report.writes > 0
        messages = [r.reason or "" for r in engine.failures(list(RecordState))]
        assert any("sNaN" in m for m in messages)
        # deliveries refused and accepted by the receiver, answers kept as messages
        from ledgerbridge.webhooks import app
        from ledgerbridge_woocommerce.emulator.webhooks import Webhook, WebhookSender

        receiver = app(str(h.config_path))
        hook = Webhook(1, "x", "order.updated", "unused", "not-the-secret")
        forged = WebhookSender().delivery(hook, orders[first])

        async def post() -> list[str]:
            transport = httpx.ASGITransport(receiver)
            async with httpx.AsyncClient(transport=transport, base_url="http://h") as client:
                answer = await client.post(
                    "/webhooks/acme/shop", content=forged.body, headers=forged.headers
                )
                return [answer.text]

        messages += anyio.run(post)
        log = tmp_path / "captured.log"
        log.write_text("\n".join(r.getMessage() for r in caplog.records))
        assert log.stat().st_size > 0
        config = h.config_path
        secrets = S.config_secrets(config)
        assert len([v for v in secrets if len(v) >= S.MIN_LENGTH]) >= 3
        database = load_config(config).config.database
        assert database and S.database_files(database)[0].exists()
        leaks = S.check(config=config, logs=[log], messages=messages)
    assert leaks == [], [str(leak) for leak in leaks]
