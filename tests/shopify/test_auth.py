"""Expiring offline tokens: refreshed once per shop at a time, rotated pair persisted first."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.contracts.context import MemoryCredentials, ProcessLocalLocks
from ledgerbridge.errors import AuthFailed
from ledgerbridge_shopify.auth import CREDENTIAL_NAME
from ledgerbridge_shopify.emulator import ShopifyEmulator, create_app
from ledgerbridge_shopify.plugin import ShopifySecrets, ShopifySettings
from ledgerbridge_shopify.source import ShopifySource

from .helpers import ScaledClock

CLIENT_SECRET = "emulator-client-secret"


def oauth_source(
    app: ShopifyEmulator, refresh_token: str, credentials: MemoryCredentials, locks: Any = None
) -> ShopifySource:
    context = ConnectorContext(
        connection_id="c1",
        tenant_id="t1",
        settings=ShopifySettings(
            shop="emulated", base_url="http://emulated.test", client_id="emulator-client-id"
        ),
        secrets=ShopifySecrets(
            client_secret=SecretStr(CLIENT_SECRET), refresh_token=SecretStr(refresh_token)
        ),
        transport=httpx.ASGITransport(app=app),
        credentials=credentials,
        locks=locks or ProcessLocalLocks(),
        clock=ScaledClock(5000),
    )
    return ShopifySource(context)


def test_expiring_token_is_refreshed_and_rotation_persisted() -> None:
    app = create_app(orders=5)
    first_refresh = app.oauth.issue_refresh_token()
    credentials = MemoryCredentials()
    source = oauth_source(app, first_refresh, credentials)

    async def scenario() -> None:
        order = await source.fetch(EntityType.ORDER, "5000000002")
        assert isinstance(order, Order)
        assert app.oauth.exchanges == 1
        saved = json.loads(credentials.values[CREDENTIAL_NAME])
        assert (
            saved["refresh_token"] != first_refresh and saved["refresh_token"] in app.oauth.refresh
        )
        assert first_refresh not in app.oauth.refresh  # used up
        # the access token expires early (revoked, clock skew): one 401, one refresh, same call succeeds
        app.oauth.expire_access_tokens()
        again = await source.fetch(EntityType.ORDER, "5000000003")
        assert isinstance(again, Order)
        assert app.oauth.exchanges == 2 and app.stats["unauthorized"] == 1
        assert (
            json.loads(credentials.values[CREDENTIAL_NAME])["refresh_token"]
            != saved["refresh_token"]
        )
        await source.aclose()

    asyncio.run(scenario())


def test_token_close_to_expiry_is_refreshed_before_use() -> None:
    app = create_app(
        orders=3, token_ttl=60
    )  # less than the 5-minute margin: refresh before each use
    source = oauth_source(app, app.oauth.issue_refresh_token(), MemoryCredentials())

    async def scenario() -> None:
        await source.shop_currency()
        await source.fetch(EntityType.ORDER, "5000000001")
        await source.aclose()

    asyncio.run(scenario())
    assert app.oauth.exchanges == 2 and app.stats["unauthorized"] == 0


def test_concurrent_workers_refresh_once() -> None:
    app = create_app(orders=4)
    credentials = MemoryCredentials()
    locks = ProcessLocalLocks()
    token = app.oauth.issue_refresh_token()
    a = oauth_source(app, token, credentials, locks)
    b = oauth_source(app, token, credentials, locks)

    async def scenario() -> None:
        await a.shop_currency()
        assert app.oauth.exchanges == 1
        app.oauth.expire_access_tokens()
        results = await asyncio.gather(
            a.fetch(EntityType.ORDER, "5000000001"), b.fetch(EntityType.ORDER, "5000000002")
        )
        assert all(isinstance(r, Order) for r in results)
        await a.aclose()
        await b.aclose()

    asyncio.run(scenario())
    assert app.oauth.exchanges == 2  # one rotation for both workers, not one each


def test_refused_refresh_is_auth_failed_without_secrets() -> None:
    app = create_app(orders=2)
    source = oauth_source(app, "shprt_not_issued", MemoryCredentials())
    with pytest.raises(AuthFailed, match="reconnect") as err:
        asyncio.run(source.shop_currency())
    assert "shprt_not_issued" not in str(err.value) and CLIENT_SECRET not in str(err.value)
    asyncio.run(source.aclose())


def test_static_token_refused_is_auth_failed() -> None:
    app = create_app(orders=2)
    context = ConnectorContext(
        connection_id="c1",
        tenant_id="t1",
        settings=ShopifySettings(shop="emulated", base_url="http://emulated.test"),
        secrets=ShopifySecrets(access_token=SecretStr("shpat_revoked")),
        transport=httpx.ASGITransport(app=app),
    )
    source = ShopifySource(context)
    with pytest.raises(AuthFailed, match="missing, wrong or revoked"):
        asyncio.run(source.shop_currency())
    asyncio.run(source.aclose())
    with pytest.raises(AuthFailed, match="refresh_token"):
        ShopifySource(
            ConnectorContext(
                connection_id="c1",
                tenant_id="t1",
                settings=ShopifySettings(shop="emulated"),
                secrets=ShopifySecrets(),
            )
        )


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, b"[]"), (200, b"null"), (400, b'"bad"'), (200, b'{"access_token": ""}')],
)
def test_a_token_answer_without_a_usable_token_is_a_refusal(status: int, body: bytes) -> None:
    """Before the kit's grant, a JSON answer that is not an object escaped as AttributeError or
    TypeError, and an empty access token was taken and sent."""

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    context = ConnectorContext(
        connection_id="c1",
        tenant_id="t1",
        settings=ShopifySettings(shop="emulated", base_url="http://emulated.test", client_id="id"),
        secrets=ShopifySecrets(client_secret=SecretStr("cs"), refresh_token=SecretStr("rt")),
        transport=httpx.MockTransport(token_endpoint),
    )
    source = ShopifySource(context)
    with pytest.raises(AuthFailed, match="reconnect the shop"):
        asyncio.run(source.shop_currency())
    asyncio.run(source.aclose())
