"""The console against the demo world: its emulators on loopback, the west pipeline synced
once (the PayPal order parked as ``needs_mapping``), and console users of each role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.routing import Mount

from demo.world import Running, running
from ledgerbridge.config import load_config
from ledgerbridge.console.auth import hash_password
from ledgerbridge.engine import Engine
from ledgerbridge.store import Store
from ledgerbridge.store import console_queries as q

PASSWORD = "correct horse battery"
# name -> (role, tenants)
USERS = {
    "olga": ("operator", ["west"]),
    "vera": ("viewer", ["west"]),
    "nils": ("operator", ["north"]),
    "ada": ("admin", ["*"]),
}


@dataclass
class World:
    demo: Running
    store: Store

    @property
    def config_path(self) -> Path:
        return self.demo.config_path

    def parked_id(self) -> int:
        [row] = [r for r in q.records_page(self.store, ["west-orders"], state="needs_mapping")]
        assert row.id is not None
        return row.id


def make_world(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("LEDGERBRIDGE_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LEDGERBRIDGE_CONSOLE_KEY", "test-console-signing-key")
    with running(tmp / "demo", orders=6) as demo:
        store = Store(demo.database_url)
        loaded = load_config(demo.config_path)

        async def sync() -> None:
            async with Engine(loaded, store) as engine:
                await engine.sync("west-orders")

        anyio.run(sync)
        hashed = hash_password(PASSWORD)  # one hash for all: argon2 is slow on purpose
        for name, (role, tenants) in USERS.items():
            q.put_user(store, name, password_hash=hashed, role=role, tenants=tenants)
        try:
            yield World(demo, store)
        finally:
            store.close()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from make_world(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world for a module whose tests change nothing in it (they check refusals)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from make_world(tmp_path_factory.mktemp("console"), monkeypatch)


CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None, html[:2000]
    return match.group(1)


class Client:
    """An HTTP client of the console mounted at ``prefix`` in a host app (ASGI transport)."""

    def __init__(self, app: Any, prefix: str = "/console") -> None:
        host = Starlette(routes=[Mount(prefix, app)])
        self.prefix = prefix
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=host), base_url="http://console.test"
        )

    def url(self, path: str) -> str:
        return f"{self.prefix}{path}"

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(self.url(path), **kw)

    async def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return await self.http.post(self.url(path), data=data)

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        form = await self.get("/login")
        return await self.post(
            "/login", {"csrf": csrf_of(form.text), "username": username, "password": password}
        )

    async def replay(self, path: str, data: dict[str, str]) -> dict[str, Any]:
        """POST a replay form; it answers with its job's page at once and replays in the
        background (which the ASGI transport runs to its end before answering): the job's
        progress as the page polls it."""
        answer = await self.post(path, data)
        assert answer.status_code == 303, answer.text[:500]
        location = answer.headers["location"]
        assert location.startswith(f"{self.prefix}/jobs/"), location
        page = await self.http.get(location)
        assert page.status_code == 200 and 'id="job-progress"' in page.text
        progress = await self.http.get(f"{location}.json")
        assert progress.status_code == 200
        job: dict[str, Any] = progress.json()
        job["location"] = location
        return job

    async def csrf(self, path: str = "/") -> str:
        page = await self.get(path)
        assert page.status_code == 200, page.text[:500]
        return csrf_of(page.text)

    async def aclose(self) -> None:
        await self.http.aclose()


@dataclass
class Made:
    conflict_id: int
    record_id: int
    order_id: str
    invoice_id: str


def make_conflict(world: World) -> Made:
    """An unpaid order posted as an invoice, then edited in both places: the accountant
    changes the invoice's notes in Zoho, the shop changes the order's note; the next sync
    finds the target edited since our write and opens a conflict (engine/executor)."""
    import copy
    from datetime import timedelta

    woo = world.demo.woo.emulator
    order = copy.deepcopy(woo.store.orders[1011])
    oid = max(woo.store.orders) + 1
    order.update(id=oid, number=str(oid), status="on-hold", date_paid=None, date_paid_gmt=None)
    woo.store.orders[oid] = order
    loaded = load_config(world.config_path)

    async def sync() -> None:
        async with Engine(loaded, world.store) as engine:
            await engine.sync("west-orders")

    woo.clock_offset += timedelta(seconds=2)
    anyio.run(lambda: woo.touch_order(oid))
    anyio.run(sync)
    [ref] = [
        r for r in q.bindings_of(world.store, "west", "west/shop", "order", str(oid))
        if r.target_kind == "invoice"
    ]  # fmt: skip
    invoice = world.demo.org("west").invoices[ref.target_id]
    invoice["notes"] = "edited by the accountant"
    invoice["last_modified_time"] = "2099-01-01T00:00:00+0000"
    woo.clock_offset += timedelta(seconds=2)
    anyio.run(lambda: woo.touch_order(oid, customer_note="changed at the shop"))
    anyio.run(sync)
    [conflict] = q.open_conflicts(world.store, ["west-orders"])
    assert conflict.id is not None and conflict.record_id is not None
    return Made(conflict.id, conflict.record_id, str(oid), ref.target_id)
