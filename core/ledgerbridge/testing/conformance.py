"""Standard tests every source connector passes, declared once (like Singer SDK's tap tests).

A connector declares a ``SourceWorld`` -- its emulator seeded with a few orders, and how to
change one, break one and deliver one as a webhook -- and gets the same six checks every
built-in source passes:

1. ``pages``: a read in small pages hands over every order exactly once;
2. ``resume``: a read from the last checkpoint hands over nothing already handed over
   (an overlap window may re-read, never re-deliver the same version);
3. ``changed``: an order changed after the checkpoint comes back, with its new version;
4. ``bad_record``: an order that cannot be mapped comes back as a parked change carrying its
   reason, and every other order still comes;
5. ``webhook``: an authentic delivery verifies and names its order; the same body tampered
   with is refused;
6. ``rate_limit``: 429 answers with ``Retry-After`` are waited out and the read completes.

In a plugin's tests::

    from ledgerbridge.testing.conformance import CHECKS, run_check

    @pytest.mark.parametrize("check", CHECKS)
    def test_conformance(check):
        run_check(check, MyWorld)

where ``MyWorld()`` builds a fresh world (a new emulator) each time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Protocol

import anyio
import httpx

from ..canonical import EntityType
from ..contracts import ChangePage, Source, WebhookRequest
from ..errors import WebhookRejected

Wrap = Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]


class SourceWorld(Protocol):
    """An emulated platform with a handful of orders (at least 5), and a source reading it."""

    def source(self, wrap: Wrap | None = None) -> Source:
        """A source connected to this world's emulator; ``wrap`` (when given) wraps the
        transport the source's client sends through (the checks inject 429s with it)."""

    def touch(self, external_id: str) -> None:
        """Change the order so that it has a new version and is read again."""

    def break_record(self, external_id: str) -> None:
        """Make the order impossible to map (e.g. its totals no longer add up)."""

    def webhook(self, external_id: str) -> WebhookRequest:
        """An authentic webhook delivery about the order, as the platform would send it."""

    def tamper(self, request: WebhookRequest) -> WebhookRequest:
        """The delivery altered in transit (default: one byte appended to the body)."""


def tampered_body(request: WebhookRequest) -> WebhookRequest:
    return replace(request, body=request.body + b" ")


async def read(
    source: Source, checkpoint: str | None = None, page_size: int = 3
) -> list[ChangePage]:
    try:
        return [
            page async for page in source.changes(EntityType.ORDER, checkpoint, page_size=page_size)
        ]
    finally:
        await source.aclose()


def _ids(pages: list[ChangePage]) -> list[str]:
    return [c.external_id for p in pages for c in p.changes if not c.deleted]


def _last_checkpoint(pages: list[ChangePage]) -> str | None:
    return pages[-1].checkpoint if pages else None


async def check_pages(world: SourceWorld) -> None:
    pages = await read(world.source(), page_size=2)
    ids = _ids(pages)
    assert len(pages) >= 2, f"expected several pages of 2, got {len(pages)}"
    assert len(ids) >= 5, f"a world seeds at least 5 orders, read {len(ids)}"
    assert len(ids) == len(set(ids)), f"an order was handed over twice: {sorted(ids)}"
    errors = [(c.external_id, c.error) for p in pages for c in p.changes if c.error]
    assert not errors, f"seeded orders must map: {errors}"


async def check_resume(world: SourceWorld) -> None:
    first = await read(world.source())
    handed = {(c.external_id, c.version) for p in first for c in p.changes}
    again = await read(world.source(), _last_checkpoint(first))
    repeated = [
        (c.external_id, c.version)
        for p in again
        for c in p.changes
        if (c.external_id, c.version) in handed
    ]
    assert not repeated, f"re-delivered after resuming from the checkpoint: {repeated}"


async def check_changed(world: SourceWorld) -> None:
    first = await read(world.source())
    versions = {c.external_id: c.version for p in first for c in p.changes}
    target = sorted(versions)[len(versions) // 2]
    world.touch(target)
    again = await read(world.source(), _last_checkpoint(first))
    came = [c for p in again for c in p.changes if c.external_id == target]
    assert came, f"order {target} changed after the checkpoint but was not read again"
    assert came[-1].version != versions[target], "the changed order kept its old version"
    assert came[-1].error is None and came[-1].record is not None


async def check_bad_record(world: SourceWorld) -> None:
    ids = _ids(await read(world.source()))
    bad = sorted(ids)[1]
    world.break_record(bad)
    pages = await read(world.source())
    changes = {c.external_id: c for p in pages for c in p.changes if not c.deleted}
    assert set(changes) == set(ids), "a bad record must not hide or add other orders"
    assert changes[bad].error is not None and changes[bad].record is None, (
        f"order {bad} cannot be mapped: it must be a parked change with its reason"
    )
    assert str(changes[bad].error), "the parked change must say why"
    others = [i for i, c in changes.items() if i != bad and c.error is not None]
    assert not others, f"only the broken order may park: {others}"


async def check_webhook(world: SourceWorld) -> None:
    ids = _ids(await read(world.source()))
    target = sorted(ids)[0]
    source = world.source()
    try:
        delivery = world.webhook(target)
        source.verify_webhook(delivery)
        event = source.parse_webhook(delivery)
        assert event is not None and event.external_id == target, (
            f"the delivery names order {target}, parsed {event}"
        )
        try:
            source.verify_webhook(world.tamper(delivery))
        except WebhookRejected:
            pass
        else:
            raise AssertionError("a tampered delivery was accepted")
    finally:
        await source.aclose()


class TooManyRequestsFirst(httpx.AsyncBaseTransport):
    """Answers the first ``count`` requests with 429 and ``Retry-After: 0``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, count: int = 2) -> None:
        self.inner, self.count, self.refused = inner, count, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.refused < self.count:
            self.refused += 1
            return httpx.Response(
                429,
                headers={"Retry-After": "0", "Content-Type": "application/json"},
                content=b'{"message": "too many requests"}',
                request=request,
            )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def check_rate_limit(world: SourceWorld) -> None:
    expected = sorted(_ids(await read(world.source())))
    wrappers: list[TooManyRequestsFirst] = []

    def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        wrappers.append(TooManyRequestsFirst(inner))
        return wrappers[-1]

    got = sorted(_ids(await read(world.source(wrap))))
    assert wrappers and wrappers[0].refused == 2, "the source did not send through the wrap"
    assert got == expected, "after waiting out the 429s the read must hand over every order"


CHECKS: dict[str, Callable[[SourceWorld], Awaitable[None]]] = {
    "pages": check_pages,
    "resume": check_resume,
    "changed": check_changed,
    "bad_record": check_bad_record,
    "webhook": check_webhook,
    "rate_limit": check_rate_limit,
}


def run_check(name: str, make_world: Callable[[], SourceWorld]) -> None:
    """Run one named check against a fresh world."""
    check = CHECKS[name]
    world = make_world()
    anyio.run(check, world)
