"""Properties of the webhook receiver under hostile deliveries (ASGI transport, SQLite).

No 5xx (503 only while the store is not ready); an unsigned or mis-signed delivery is
never stored; a malformed id is never stored; replays are duplicates; unknown tenants,
connections and path tricks store nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from cryptography.fernet import Fernet
from hypothesis import example, given
from hypothesis import strategies as st

from bench.fuzz import webhooks as W
from ledgerbridge.webhook_guards import _NOT_IDS as NOT_IDS
from ledgerbridge.webhooks import app, started

from .support import bounded


class Receiver:
    """The receiver app over one SQLite store, posting deliveries and reading the inbox."""

    def __init__(self, root: Path, max_body: int = 64 * 1024) -> None:
        self.app = app(str(W.write_config(root)), max_body=max_body)
        self.engine = self.app.state.engine
        # One event loop for the module, inside the receiver's lifespan (the store is set up
        # at startup, as under ``ledgerbridge serve``; before that it answers 503).
        self._portal_cm = start_blocking_portal()
        self.portal = self._portal_cm.__enter__()
        self._lifespan = self.portal.wrap_async_context_manager(started(self.app))
        self._lifespan.__enter__()

    def close(self) -> None:
        self._lifespan.__exit__(None, None, None)
        self._portal_cm.__exit__(None, None, None)

    def inbox(self) -> list[Any]:
        if not self.engine._prepared:
            return []
        return list(self.engine.store.pending_inbox(limit=1_000_000))

    def post(self, delivery: W.Delivery) -> tuple[int, list[str]]:
        """The answer's status and the external ids the inbox gained."""
        before = len(self.inbox())

        async def send() -> int:
            transport = httpx.ASGITransport(self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hooks") as client:
                answer = await client.post(
                    delivery.path, content=delivery.body, headers=delivery.headers
                )
                return answer.status_code

        try:
            status = self.portal.call(send)
        except (httpx.InvalidURL, httpx.LocalProtocolError):
            raise  # the request could not even be sent: a mistake in the test, not the receiver
        except Exception as exc:  # the ASGI transport re-raises what the app did not handle
            status = 500
            self.crash = exc
        return status, [e.external_id for e in self.inbox()[before:]]


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    """One receiver and store for the module: hypothesis runs many examples against it,
    and every property is judged on what that delivery added to the inbox."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEDGERBRIDGE_SECRET_KEY", Fernet.generate_key().decode())
        receiver = Receiver(tmp_path_factory.mktemp("receiver"))
        try:
            yield receiver
        finally:
            receiver.close()


PLATFORM = st.sampled_from(list(W.PLATFORMS))
GOOD_IDS = st.one_of(
    st.integers(min_value=1, max_value=10**15).map(str),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=40).filter(
        lambda s: s not in NOT_IDS  # "none", "nan": refused as JSON values written out
    ),
)


@bounded(40)
@given(platform=PLATFORM, external_id=GOOD_IDS, kind=st.sampled_from(["unsigned", "missigned"]))
def test_unsigned_and_mis_signed_deliveries_are_never_stored(
    receiver: Receiver, platform: str, external_id: str, kind: str
) -> None:
    import random

    delivery = W.forged(platform, W.order_body(platform, external_id), kind, random.Random(0))
    status, stored = receiver.post(delivery)
    assert status == 401 and stored == [], (status, stored)


@bounded(40)
@given(
    platform=PLATFORM,
    secret=st.text(min_size=1, max_size=40).filter(lambda s: s not in W.SECRETS),
    body=st.binary(max_size=200),
)
@example(platform="api2cart", secret="/", body=b"")  # a trailing slash: 404, not a redirect
def test_any_body_signed_with_a_wrong_secret_is_refused(
    receiver: Receiver, platform: str, secret: str, body: bytes
) -> None:
    if platform == "api2cart":
        delivery = W.api2cart(body, token=_quote(secret))
    else:
        delivery = W.PLATFORMS[platform](body, secret=secret)  # type: ignore[operator]
    status, stored = receiver.post(delivery)
    assert status in (401, 404) and stored == []


_STAMPS: list[int] = []


@bounded(30)
@given(platform=PLATFORM, external_id=GOOD_IDS)
def test_a_signed_delivery_is_stored_once_and_its_replay_is_a_duplicate(
    receiver: Receiver, platform: str, external_id: str
) -> None:
    # a stamp of its own: the receiver (one store for the module) may have had this id from
    # an earlier example, and the same id at the same instant is rightly a duplicate
    _STAMPS.append(len(_STAMPS))
    stamp = f"2026-04-01T00:{_STAMPS[-1] // 60 % 60:02d}:{_STAMPS[-1] % 60:02d}"
    delivery = W.PLATFORMS[platform](W.order_body(platform, external_id, stamp))
    first = receiver.post(delivery)
    again = receiver.post(delivery)
    assert first == (200, [external_id]) and again == (200, [])


@bounded(40)
@given(
    tenant=st.text(min_size=1, max_size=30),
    connection=st.text(min_size=1, max_size=30),
    trick=st.sampled_from(W.PATH_TRICKS),
    platform=PLATFORM,
)
def test_unknown_tenants_connections_and_path_tricks_store_nothing(
    receiver: Receiver, tenant: str, connection: str, trick: str, platform: str
) -> None:
    delivery = W.PLATFORMS[platform](W.order_body(platform, "1001"))
    for path in (trick, f"/webhooks/{_quote(tenant)}/{_quote(connection)}"):
        if path.rstrip("/") in ("/webhooks/acme/shop", "/webhooks/acme/woo"):
            continue
        delivery.path = path
        status, stored = receiver.post(delivery)
        assert status < 500 and stored == [], (path, status, stored)
        assert status in (401, 404, 405, 413, 400), (path, status)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@bounded(40)
@given(
    platform=PLATFORM,
    body=st.one_of(
        st.binary(max_size=300),
        st.sampled_from([b"", b"null", b"[]", b"{", b'"x"', b"1e999999", b"{}", b"\xff\xfe"]),
    ),
)
def test_a_signed_delivery_of_garbage_never_answers_5xx(
    receiver: Receiver, platform: str, body: bytes
) -> None:
    status, _ = receiver.post(W.PLATFORMS[platform](body))
    assert status < 500, status  # what may be stored of it: test_malformed_ids_are_never_stored


def test_a_body_over_the_limit_is_413_and_not_stored(receiver: Receiver) -> None:
    for platform in W.PLATFORMS:
        padding = json.dumps({"id": 1, "pad": "x" * 70_000}).encode()
        status, stored = receiver.post(W.PLATFORMS[platform](padding))
        assert (status, stored) == (413, [])


# ---------------------------------------------------------------------------- hostile bodies
# The receiver validates ids, answers 400 to deep nesting and sets the store up at startup.

BAD_IDS = st.sampled_from(W.CLEARLY_BAD_IDS)


@bounded(20)
@given(platform=PLATFORM, value=BAD_IDS)
@example(platform="woocommerce", value={"x": 1})
@example(platform="shopify", value=True)
@example(platform="api2cart", value=float("nan"))
@example(platform="woocommerce", value=10**5000)
@example(platform="shopify", value="x" * 100_000)
def test_malformed_ids_are_never_stored(receiver: Receiver, platform: str, value: Any) -> None:
    status, stored = receiver.post(W.PLATFORMS[platform](W.bad_id_body(platform, value)))
    assert status < 500 and stored == [], (status, [s[:40] for s in stored])


@pytest.mark.parametrize("platform", list(W.PLATFORMS))
def test_deeply_nested_json_in_a_signed_delivery_is_400(receiver: Receiver, platform: str) -> None:
    status, stored = receiver.post(W.PLATFORMS[platform](W.nested_body(platform, 5_000)))
    assert (status, stored) == (400, [])


@pytest.mark.usefixtures("secret_key")
def test_concurrent_first_deliveries_on_a_fresh_store_all_succeed(tmp_path: Path) -> None:
    """Twenty simultaneous first deliveries to a real ``ledgerbridge serve`` on loopback."""
    from bench.fuzz.serve import serve

    config = W.write_config(tmp_path)
    with serve(config, tmp_path / "serve.log") as served:

        async def burst() -> list[int]:
            codes: list[int] = []
            async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:

                async def one(i: int) -> None:
                    d = W.woocommerce(W.order_body("woocommerce", str(5000 + i)))
                    answer = await client.post(d.path, content=d.body, headers=d.headers)
                    codes.append(answer.status_code)

                async with anyio.create_task_group() as group:
                    for i in range(20):
                        group.start_soon(one, i)
            return codes

        codes = anyio.run(burst)
        alive = served.returncode is None
    assert alive and sorted(codes) == [200] * 20, (
        codes,
        (tmp_path / "serve.log").read_text()[-2000:],
    )
