"""Correctly signed deliveries with hostile bodies: deep nesting and ids that are not ids
are answered 400 by every source (one guard in core), and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
import pytest

import ledgerbridge.webhooks
from ledgerbridge.store import Store
from ledgerbridge.webhook_guards import MAX_JSON_DEPTH, nested_deeper_than

from .receiver_world import World, api2cart_delivery, make_world, shopify_delivery, woo_delivery

Delivery = tuple[str, bytes, dict[str, str]]


def woo(body: bytes, delivery_id: str = "d-1") -> Delivery:
    raw, headers = woo_delivery(None, delivery_id, body=body)
    return "/webhooks/west/shop", raw, headers


SOURCES: dict[str, Callable[[bytes], Delivery]] = {
    "woocommerce": woo,
    "shopify": lambda body: shopify_delivery(body, "d-1"),
    "api2cart": api2cart_delivery,
}


def post_all(world: World, deliveries: list[Delivery]) -> list[httpx.Response]:
    hooks = ledgerbridge.webhooks.app(world.config_path)

    async def main() -> list[httpx.Response]:
        # raise_app_exceptions=False: an unhandled error is the 500 a platform would see
        transport = httpx.ASGITransport(app=hooks, raise_app_exceptions=False)
        async with (
            ledgerbridge.webhooks.started(hooks),
            httpx.AsyncClient(transport=transport, base_url="http://hooks") as client,
        ):
            return [await client.post(p, content=b, headers=h) for p, b, h in deliveries]

    return anyio.run(main)


def stored(world: World) -> list[tuple[str, str]]:
    store = Store(world.database_url)
    try:
        return [(e.connection_id, e.external_id) for e in store.pending_inbox(limit=1000)]
    finally:
        store.close()


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def deep(levels: int) -> bytes:
    return b'{"id": 1, "note": ' + b"[" * levels + b"]" * levels + b"}"


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_deeply_nested_json_in_a_signed_delivery_is_400_not_500(world: World, source: str) -> None:
    make = SOURCES[source]
    answers = post_all(world, [make(deep(100_000)), make(deep(MAX_JSON_DEPTH + 5))])
    assert [a.status_code for a in answers] == [400, 400], [a.text[:300] for a in answers]
    assert "nests deeper than" in answers[0].json()["error"]
    assert stored(world) == []


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_nesting_within_the_limit_is_stored(world: World, source: str) -> None:
    [answer] = post_all(world, [SOURCES[source](deep(MAX_JSON_DEPTH - 2))])
    assert answer.status_code == 200, answer.text
    assert len(stored(world)) == 1


HOSTILE_IDS: dict[str, bytes] = {
    "object": b'{"x": 1}',
    "true": b"true",
    "nan": b"NaN",
    "fraction": b"12.5",
    "5000 digits": b"7" * 5000,
    "250 digits": b"7" * 250,
    "100,000 characters": json.dumps("x" * 100_000).encode(),
    "201 characters": json.dumps("x" * 201).encode(),
    "control characters": json.dumps("12\n34").encode(),
    "list": b"[1]",
}


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("kind", sorted(HOSTILE_IDS))
def test_an_id_that_is_not_an_id_is_400_and_not_stored(
    world: World, source: str, kind: str
) -> None:
    body = b'{"id": ' + HOSTILE_IDS[kind] + b', "order_id": ' + HOSTILE_IDS[kind] + b"}"
    [answer] = post_all(world, [SOURCES[source](body)])
    assert answer.status_code == 400, (answer.status_code, answer.text[:300])
    assert stored(world) == []


def test_good_ids_are_stored_as_strings_at_most_200_characters(world: World) -> None:
    longest = "x" * 200
    answers = post_all(
        world,
        [
            woo(json.dumps({"id": 123}).encode(), "d-1"),
            woo(json.dumps({"id": longest}).encode(), "d-2"),
            api2cart_delivery(json.dumps({"order_id": "A-7"}).encode()),
        ],
    )
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert sorted(stored(world)) == [
        ("cart/shop", "A-7"),
        ("west/shop", "123"),
        ("west/shop", longest),
    ]


def test_a_delivery_id_longer_than_the_inbox_holds_is_400(world: World) -> None:
    [answer] = post_all(world, [woo(json.dumps({"id": 5}).encode(), "d" * 201)])
    assert answer.status_code == 400 and "delivery id" in answer.json()["error"], answer.text
    assert stored(world) == []


def test_the_nesting_scan_ignores_brackets_inside_strings() -> None:
    note = json.dumps({"note": "[" * 500 + '\\"{' * 100, "id": 1}).encode()
    assert not nested_deeper_than(note)
    assert nested_deeper_than(b'{"a": "]", "b": ' + b"[" * 65 + b"]" * 65 + b"}")
    assert not nested_deeper_than(b"[" * 64 + b"]" * 64)
    assert nested_deeper_than(b"[{" * 33 + b"}]" * 33)


@pytest.mark.parametrize("value", ["nan", "True", "null", "{'x': 1}", "[1]", " 12", "12 "])
def test_a_string_id_that_is_a_json_value_or_padded_is_not_an_id(value: str) -> None:
    """Found by the fuzz run: string ids standing in for JSON values were stored."""
    from ledgerbridge.errors import WebhookMalformed
    from ledgerbridge.webhook_guards import record_id

    with pytest.raises(WebhookMalformed):
        record_id(value, "delivery")
    assert record_id("ORD-12", "delivery") == "ORD-12" and record_id(12, "delivery") == "12"
