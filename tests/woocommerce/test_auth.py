"""Basic over https, the query-parameter fallback, OAuth 1.0a over plain http, and refusals."""

from __future__ import annotations

import logging
import re

import anyio
import httpx
import pytest

from ledgerbridge.canonical import EntityType
from ledgerbridge.errors import AuthFailed, ConfigError
from ledgerbridge_woocommerce.client import OAuth1Auth
from ledgerbridge_woocommerce.emulator import (
    DEFAULT_KEY,
    DEFAULT_SECRET,
    EmulatorConfig,
    create_app,
    seed,
)
from ledgerbridge_woocommerce.source import WooCommerceSource

from .conftest import make_source


async def first_page(source: WooCommerceSource) -> list[str]:
    try:
        async for page in source.changes(EntityType.ORDER, None, page_size=5):
            return [c.external_id for c in page.changes]
        return []
    finally:
        await source.aclose()


def test_basic_auth_over_https_reads_orders(app):
    ids = anyio.run(first_page, make_source(app))
    assert len(ids) == 5
    assert make_source(app).client.mode == "basic"


def test_wrong_secret_is_refused_with_woocommerce_error(app):
    with pytest.raises(AuthFailed) as caught:
        anyio.run(first_page, make_source(app, secret="cs_wrong", auth="basic"))
    assert caught.value.code == "woocommerce_rest_authentication_error"
    assert caught.value.status_code == 401 and "cs_wrong" not in str(caught.value)


def test_dropped_authorization_header_falls_back_to_query_parameters_once(caplog):
    app = create_app(seed(orders=6), EmulatorConfig(strip_authorization=True))
    source = make_source(app)
    with caplog.at_level(logging.DEBUG):
        ids = anyio.run(first_page, source)
    assert len(ids) == 5 and source.client.mode == "query"
    requests = app.emulator.config.requests
    assert "consumer_key" not in requests[0] and "consumer_key=" in requests[1]
    # The secret reached the server but never httpx's request log.
    assert DEFAULT_SECRET not in caplog.text and "drops the Authorization header" in caplog.text


def test_forced_basic_does_not_fall_back():
    app = create_app(seed(orders=3), EmulatorConfig(strip_authorization=True))
    with pytest.raises(AuthFailed):
        anyio.run(first_page, make_source(app, auth="basic"))
    assert len(app.emulator.config.requests) == 1


def test_plain_http_store_is_refused_unless_explicitly_allowed(app):
    with pytest.raises(ConfigError, match="not https"):
        make_source(app, url="http://shop.test")
    with pytest.raises(ConfigError, match="only oauth1"):
        make_source(app, url="http://shop.test", allow_http=True, auth="basic")
    assert make_source(app, url="http://shop.test", allow_http=True).client.mode == "oauth1"


def test_missing_keys_are_a_config_error(app):
    with pytest.raises(ConfigError, match="consumer_secret"):
        make_source(app, secret="")


def test_oauth1_signed_requests_are_accepted_over_real_http(live):
    source = make_source(url=live.url, allow_http=True, transport=httpx.AsyncHTTPTransport())
    ids = anyio.run(first_page, source)
    assert len(ids) == 5


def _signed(url: str, tamper: str | None = None) -> httpx.Response:
    """One request signed by the connector's OAuth1Auth, optionally altered after signing."""

    class Tampering(OAuth1Auth):
        def auth_flow(self, request):
            for signed in super().auth_flow(request):
                if tamper == "query":
                    signed.url = signed.url.copy_set_param("per_page", "100")
                elif tamper == "signature":
                    header = signed.headers["Authorization"]
                    signed.headers["Authorization"] = header.replace(
                        'oauth_signature="', 'oauth_signature="A'
                    )
                yield signed

    with httpx.Client(auth=Tampering(DEFAULT_KEY, DEFAULT_SECRET)) as client:
        return client.get(url + "/wp-json/wc/v3/orders", params={"per_page": "2"})


def test_oauth1_signature_is_checked_and_tampering_refused(live):
    good = _signed(live.url)
    assert good.status_code == 200 and len(good.json()) == 2
    assert "oauth_version" not in good.request.headers["Authorization"]  # docs: omit it
    for tamper in ("query", "signature"):
        bad = _signed(live.url, tamper)
        assert bad.status_code == 401, tamper
        assert bad.json() == {
            "code": "woocommerce_rest_authentication_error",
            "message": "Invalid signature - provided signature does not match.",
            "data": {"status": 401},
        }


def test_oauth1_replayed_nonce_and_stale_timestamp_are_refused(live):
    good = _signed(live.url)
    replay = httpx.get(
        str(good.request.url), headers={"Authorization": good.request.headers["Authorization"]}
    )
    assert replay.status_code == 401
    assert replay.json()["message"] == "Invalid nonce - nonce has already been used."
    header = good.request.headers["Authorization"]

    stale = re.sub(r'oauth_timestamp="\d+"', 'oauth_timestamp="1000"', header)
    response = httpx.get(str(good.request.url), headers={"Authorization": stale})
    assert response.status_code == 401 and response.json()["message"] == "Invalid timestamp."


def test_basic_over_plain_http_is_not_accepted_by_the_emulator(live):
    response = httpx.get(live.url + "/wp-json/wc/v3/orders", auth=(DEFAULT_KEY, DEFAULT_SECRET))
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_cannot_view"


def test_settings_name_what_is_wrong():
    from pydantic import ValidationError

    from ledgerbridge_woocommerce.settings import WooCommerceSettings

    with pytest.raises(ValidationError, match="must be an absolute http"):
        WooCommerceSettings(store_url="shop.example.com")
    with pytest.raises(ValidationError, match="per_page"):
        WooCommerceSettings(store_url="https://shop.example.com", per_page=500)
    with pytest.raises(ValidationError, match="consumer_key"):
        WooCommerceSettings(store_url="https://shop.example.com", consumer_key="ck_x")
    settings = WooCommerceSettings(store_url="https://shop.example.com/store/")
    assert settings.store_url == "https://shop.example.com/store"
    assert settings.store_key == "shop.example.com/store"
