"""The log pipeline's redaction: a config, a connection, request headers, a token
refresh URL, a database URL and an exception, logged with their secrets, in both
formats -- the secrets never reach the output; ids and error codes stay readable."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
import structlog
from pydantic import SecretStr

from ledgerbridge import logs

SECRETS = {
    "refresh_token": "1000.f00dfeedrefresh",
    "client_secret": "zoho-client-s3cr3t",
    "access_token": "shpat_0123456789abcdef",
    "consumer_key": "ck_live_abcdef0123",
    "consumer_secret": "cs_live_abcdef0123",
    "api_key": "a2c-api-key-9876",
    "webhook_secret": "whsec_abc123",
    "password": "hunter2-db-pass",
}
CONFIG = {
    "database": f"postgresql://ledger:{SECRETS['password']}@db.internal:5432/ledger",
    "tenants": [
        {
            "id": "north",
            "connections": {
                "books": {
                    "platform": "zohobooks",
                    "settings": {"organization_id": "30000001"},
                    "secrets": {
                        "client_id": "1000.CLIENTID",
                        "client_secret": SECRETS["client_secret"],
                        "refresh_token": SECRETS["refresh_token"],
                    },
                },
                "shop": {
                    "platform": "woocommerce",
                    "secrets": {
                        "consumer_key": SECRETS["consumer_key"],
                        "consumer_secret": SECRETS["consumer_secret"],
                        "webhook_secret": SECRETS["webhook_secret"],
                    },
                },
            },
        }
    ],
}


@pytest.fixture(params=["human", "json"])
def captured(request: pytest.FixtureRequest) -> Iterator[tuple[str, io.StringIO]]:
    out = io.StringIO()
    logs.configure("debug", request.param, stream=out)
    try:
        yield request.param, out
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "ledgerbridge"]:
            root.removeHandler(handler)
        root.setLevel(logging.WARNING)
        structlog.reset_defaults()


def test_secrets_never_reach_the_log(captured: tuple[str, io.StringIO]) -> None:
    fmt, out = captured
    log = logging.getLogger("ledgerbridge.test")
    with logs.bound(tenant="north", pipeline="north-orders"):
        log.info("loaded config %s", CONFIG)
        log.info("connection", extra={"connection": CONFIG["tenants"][0]["connections"]})
        request = httpx.Request(
            "POST",
            "https://accounts.example/oauth/v2/token"
            f"?refresh_token={SECRETS['refresh_token']}&client_id=1000.CLIENTID"
            f"&client_secret={SECRETS['client_secret']}&grant_type=refresh_token",
            headers={"Authorization": f"Zoho-oauthtoken {SECRETS['access_token']}"},
        )
        log.debug("request %s %s headers=%s", request.method, request.url, dict(request.headers))
        log.warning("shop headers: X-API-Key: %s", SECRETS["api_key"])
        log.info("bearer: Authorization: Bearer %s", SECRETS["access_token"])
        structlog.get_logger("ledgerbridge.test").info(
            "secrets model", secrets={"api_key": SecretStr(SECRETS["api_key"])},
            token=SECRETS["access_token"], error_code="1002",
        )  # fmt: skip
        try:
            raise RuntimeError(f"refresh failed: refresh_token={SECRETS['refresh_token']}")
        except RuntimeError:
            log.exception("token refresh")
    text = out.getvalue()
    for name, secret in SECRETS.items():
        assert secret not in text, (name, text)
    assert logs.MASK in text
    # what a support person needs stays readable
    for kept in ("30000001", "1000.CLIENTID", "db.internal", "1002", "grant_type=refresh_token"):
        assert kept in text, (kept, text)
    if fmt == "json":
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        assert len(lines) == 7
        assert all(
            line["tenant"] == "north" and line["pipeline"] == "north-orders" for line in lines
        )
        assert {line["level"] for line in lines} == {"debug", "info", "warning", "error"}
        assert "RuntimeError" in lines[-1]["exception"]


def test_levels_and_formats_are_checked() -> None:
    with pytest.raises(ValueError, match="chatty"):
        logs.resolve_level("chatty")
    with pytest.raises(ValueError, match="xml"):
        logs.resolve_format("xml")
    assert logs.resolve_level("WARNING") == logging.WARNING


def test_global_options_written_after_the_command_move_before_it() -> None:
    from ledgerbridge.cli import hoist_global_options

    argv = ["sync", "p1", "--log-level", "debug", "--log-format=json", "-c", "x.yaml"]
    assert hoist_global_options(argv) == [
        "--log-level", "debug", "--log-format=json", "sync", "p1", "-c", "x.yaml",
    ]  # fmt: skip
    celery = ["worker", "--", "--log-level", "x"]
    assert hoist_global_options(celery) == celery
