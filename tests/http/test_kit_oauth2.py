"""The kit's OAuth 2.0 refresh-token grant (``TokenEndpoint``) and rotating pair store
(``RotatingRefresh``), against a mock token endpoint."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl

import anyio
import httpx
import pytest
from pydantic import SecretStr

from ledgerbridge.contracts.context import MemoryCredentials
from ledgerbridge.errors import AuthFailed, TransientError
from ledgerbridge.http import RotatingRefresh, TokenEndpoint

URL = "https://auth.example/token"


def _refresh(answer, refresh_token: str = "rt-1"):  # type: ignore[no-untyped-def]
    sent: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(dict(parse_qsl(request.content.decode())))
        return answer(request) if callable(answer) else answer

    async def go():  # type: ignore[no-untyped-def]
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            return await TokenEndpoint(URL, "p").refresh(http, refresh_token, "cid", "csecret")

    return anyio.run(go), sent


def test_a_granted_token_carries_its_expiry_and_the_rotated_refresh_token():
    answer = {"access_token": "at-2", "expires_in": 600, "refresh_token": "rt-2"}
    token, sent = _refresh(httpx.Response(200, json=answer))
    assert sent == [
        {
            "grant_type": "refresh_token",
            "refresh_token": "rt-1",
            "client_id": "cid",
            "client_secret": "csecret",
        }
    ]
    assert (token.value, token.refresh_token) == ("at-2", "rt-2")
    assert 590 < token.expires_at - time.time() <= 600
    kept, _ = _refresh(httpx.Response(200, json={"access_token": "at-3"}))
    assert kept.refresh_token == "rt-1" and kept.expires_at - time.time() > 3500  # not rotated


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        (httpx.Response(200, json={"error": "invalid_grant"}), AuthFailed, "invalid_grant"),
        (httpx.Response(400, json={"error": "invalid_client"}), AuthFailed, "invalid_client"),
        (httpx.Response(200, json=[]), AuthFailed, None),
        (httpx.Response(503, text="down"), TransientError, None),
    ],
)
def test_a_refusal_or_an_outage_is_its_error_class_without_secrets(answer, error, code):
    with pytest.raises(error) as caught:
        _refresh(answer)
    assert caught.value.code == code and caught.value.platform == "p"
    assert "rt-1" not in str(caught.value) and "csecret" not in str(caught.value)


def test_an_unreachable_endpoint_is_transient():
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TransientError, match="p token refresh: ConnectError"):
        _refresh(drop)


def test_the_rotated_pair_is_one_stored_value_and_the_next_refresh_uses_it():
    refresh_tokens: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        used = dict(parse_qsl(request.content.decode()))["refresh_token"]
        refresh_tokens.append(used)
        n = len(refresh_tokens)
        return httpx.Response(200, json={"access_token": f"at-{n}", "refresh_token": f"rt-{n}"})

    credentials = MemoryCredentials()
    tokens = RotatingRefresh(
        TokenEndpoint(URL, "p"),
        credentials,
        "p.tokens",
        client_id="cid",
        client_secret=SecretStr("csecret"),
        refresh_token=SecretStr("rt-0"),
        transport=httpx.MockTransport(handler),
    )

    async def twice() -> None:
        for _ in range(2):
            await tokens.save(await tokens())

    anyio.run(twice)
    assert refresh_tokens == ["rt-0", "rt-1"]
    stored = json.loads(credentials.values["p.tokens"])
    assert (stored["access_token"], stored["refresh_token"]) == ("at-2", "rt-2")
    assert "rt-2" not in repr(tokens) and "csecret" not in repr(tokens)
