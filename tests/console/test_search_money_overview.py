"""Records search (document number, first-seen dates, state), the money summary of a record,
the overview's trend, next run and API usage, and who may see a replay's progress."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import anyio
import pytest

import ledgerbridge.console
from ledgerbridge.store import console_queries as q
from ledgerbridge.store.types import utcnow

from .conftest import Client, World


def _synced(world: World) -> tuple[int, str, dict[str, object]]:
    """A synced west order with its invoice in the emulator's books."""
    org = world.demo.org("west")
    for record in q.records_page(world.store, ["west-orders"], state="synced"):
        for invoice in org.invoices.values():
            if invoice["custom_field_hash"].get("cf_source_order_id") == record.external_id:
                assert record.id is not None
                return record.id, record.external_id, invoice
    raise AssertionError("no synced order with an invoice")


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td><a href="[^"]*/records/(\d+)">', page)]


def test_search_by_document_number_dates_and_state(shared_world: World) -> None:
    world = shared_world
    record_id, _, invoice = _synced(world)
    number = str(invoice["invoice_number"])
    today = utcnow().date()
    week_ago = (today - timedelta(days=7)).isoformat()

    async def main() -> dict[str, object]:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        north = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("vera")
            await north.login("nils")
            out: dict[str, object] = {
                "number": (await client.get("/records", params={"number": number})).text,
                "number_spaced": (
                    await client.get("/records", params={"number": f" {number} "})
                ).text,
                "other_number": (await client.get("/records", params={"number": "INV-999999"})).text,
                "today": (
                    await client.get("/records", params={"from": today.isoformat(),
                                                         "to": today.isoformat()})
                ).text,
                "past": (await client.get("/records", params={"to": week_ago})).text,
                "parked_today": (
                    await client.get("/records", params={"state": "needs_mapping",
                                                         "from": today.isoformat()})
                ).text,
                "bad_date": (await client.get("/records", params={"from": "yesterday"})),
                "bad_state": (await client.get("/records", params={"state": "nonsense"})),
                "north_number": (await north.get("/records", params={"number": number})).text,
            }  # fmt: skip
            return out
        finally:
            await client.aclose()
            await north.aclose()

    pages = anyio.run(main)
    assert _ids(str(pages["number"])) == [record_id]
    assert _ids(str(pages["number_spaced"])) == [record_id]
    assert number in str(pages["number"])
    assert _ids(str(pages["other_number"])) == []
    all_west = [r.id for r in q.records_page(world.store, ["west-orders"])]
    assert _ids(str(pages["today"])) == all_west and len(all_west) == 6
    assert _ids(str(pages["past"])) == []
    assert _ids(str(pages["parked_today"])) == [world.parked_id()]
    bad_date, bad_state = pages["bad_date"], pages["bad_state"]
    assert bad_date.status_code == 400 and "from: not a date" in bad_date.text  # type: ignore[attr-defined]
    assert bad_state.status_code == 400  # type: ignore[attr-defined]
    assert _ids(str(pages["north_number"])) == []  # another tenant's documents: not found


def test_date_range_pages_by_keyset(shared_world: World) -> None:
    """Two pages of three over the west records first seen today, newest first, no overlap."""
    world = shared_world
    today = utcnow().date()
    since = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    first = q.records_page(world.store, ["west-orders"], since=since, limit=3)
    assert first[-1].id is not None
    second = q.records_page(
        world.store, ["west-orders"], since=since, before_id=first[-1].id, limit=3
    )
    every = q.records_page(world.store, ["west-orders"], since=since, limit=10)
    assert [r.id for r in first + second] == [r.id for r in every]
    assert today == first[0].created_at.date()


def test_a_record_shows_its_money_from_the_recorded_writes(shared_world: World) -> None:
    world = shared_world
    record_id, order_id, invoice = _synced(world)

    async def main() -> str:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("vera")
            return (await client.get(f"/records/{record_id}")).text
        finally:
            await client.aclose()

    page = anyio.run(main)
    money = re.search(r'<table class="money" id="money">(.*?)</table>', page, re.S)
    assert money is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", money.group(1)))
    order_total = Decimal(world.demo.saved.woo.orders[int(order_id)]["total"])
    assert Decimal(str(invoice["total"])) == order_total
    assert f"Source total (the order, as last synced) {order_total} USD" in text
    assert f"Target document total (as written by the last plan) {order_total} USD" in text
    assert f"Payment: payment {order_id}:paid" in text and f"{order_total} USD" in text
    balance = re.search(r'id="money-balance"><strong>([-\d.]+) USD', page)
    assert balance is not None and Decimal(balance.group(1)) == Decimal("0.00")
    assert str(invoice["invoice_number"]) in page  # the document's number beside its id


def test_overview_trend_next_run_and_usage(shared_world: World) -> None:
    world = shared_world

    async def main() -> tuple[str, str]:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        north = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("vera")
            await north.login("nils")
            return (await client.get("/")).text, (await north.get("/")).text
        finally:
            await client.aclose()
            await north.aclose()

    page, theirs = anyio.run(main)
    # the trend: one sparkline per state, its figures the records that reached it per day
    today = utcnow().date().isoformat()
    synced = len(q.records_page(world.store, ["west-orders"], state="synced"))
    assert f"{today}: {synced}" in page and '<svg class="spark"' in page
    assert f"{today}: 1" in page  # the parked one
    # the next run: the interval after the last activity (the demo polls every 5 minutes)
    next_run = re.search(r'<td class="next-run">([^<]*)</td>', page)
    assert next_run is not None and "(every 5m)" in next_run.group(1)
    # usage: the writes recorded today for west's organisation, labelled as such
    usage = re.search(r'<table id="usage">(.*?)</table>', page, re.S)
    assert usage is not None
    writes = [
        e for events in q.audit_export(world.store, "west", utcnow() - timedelta(days=1),
                                       utcnow() + timedelta(minutes=1))
        for e in events if not e.operation.startswith("operator_")
    ]  # fmt: skip
    assert writes
    assert "west/books" in usage.group(1) and "writes recorded in the store" in usage.group(1)
    assert re.search(rf"<td>{len(writes)} / \?</td>", usage.group(1)), usage.group(1)
    assert "west/books" not in theirs and "north/books" in theirs


def test_a_replay_job_is_seen_only_by_its_owner(world: World) -> None:
    parked = world.parked_id()

    async def main() -> None:
        olga = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await olga.login("olga")
            csrf = await olga.csrf()
            job = await olga.replay(f"/records/{parked}/replay", {"csrf": csrf})
            location = str(job["location"]).removeprefix("/console")
            # same app, other users: another operator and an admin get 404, a viewer 403
            for name, status in (("ada", 404), ("vera", 403)):
                other = Client(olga.http._transport.app.routes[0].app)  # type: ignore[attr-defined]
                try:
                    await other.login(name)
                    assert (await other.get(location)).status_code == status, name
                    assert (await other.get(f"{location}.json")).status_code == status, name
                finally:
                    await other.aclose()
            assert (await olga.get("/jobs/not-a-job")).status_code == 404
        finally:
            await olga.aclose()

    anyio.run(main)


def test_overview_usage_from_the_shared_limiter(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``workers: {limits: redis}`` the figures are the shared limiter's counters (every
    worker's calls) against the limits it was given; Redis down: the store's, said so."""
    from ledgerbridge.contracts.context import SystemClock
    from ledgerbridge.limits import AccountLimits
    from ledgerbridge.limits.redis import RedisLimiters

    url = "redis://127.0.0.1:6379/13"
    limiters = RedisLimiters(url)
    try:
        limiters.client().ping()
    except Exception as exc:
        pytest.skip(f"no Redis at {url}: {exc}")
    monkeypatch.delenv("LEDGERBRIDGE_REDIS_URL", raising=False)
    org = world.demo.org("west").organization_id
    limiters.forget("zohobooks", org)
    limiter = limiters.limiter("zohobooks", org, AccountLimits(100, 1000, 10), SystemClock())

    async def calls() -> None:
        for _ in range(3):
            async with limiter.slot():
                pass
        await limiters.aclose()

    anyio.run(calls)
    original = world.config_path.read_text()

    def overview(redis_url: str) -> str:
        world.config_path.write_text(
            original + f"\nworkers:\n  limits: redis\n  redis_url: {redis_url}\n"
        )

        async def main() -> str:
            client = Client(ledgerbridge.console.app(world.config_path, world.store))
            try:
                await client.login("vera")
                return (await client.get("/")).text
            finally:
                await client.aclose()

        return anyio.run(main)

    try:
        shared = overview(url)
        down = overview("redis://127.0.0.1:1/0")
    finally:
        world.config_path.write_text(original)
        limiters.forget("zohobooks", org)
    usage = re.search(r'<table id="usage">(.*?)</table>', shared, re.S)
    assert usage is not None
    row = next(r for r in usage.group(1).split("<tr>") if "west/books" in r)
    assert "<td>3 / 100</td>" in row and "<td>3 / 1000</td>" in row
    assert "shared limiter (Redis)" in row
    assert "writes recorded in the store" in down and "could not be read" in down


def test_search_by_order_number_as_the_shop_shows_it(world: World) -> None:
    """Shopify's orders are known by '#1003' while keyed by a long id: the records search
    finds one by its number with or without '#', or by its id -- the lookup ``audit`` and
    ``replay`` use -- and only within the user's tenants."""
    from ledgerbridge.config import load_config
    from ledgerbridge.engine import Engine

    async def sync() -> None:
        async with Engine(load_config(world.config_path), world.store) as engine:
            await engine.sync("north-orders")

    anyio.run(sync)
    records = q.records_page(world.store, ["north-orders"])
    [record] = [r for r in records if r.number and r.number.lstrip("#") != r.external_id][:1]
    assert record.number is not None and record.number.startswith("#")

    async def main() -> dict[str, list[int]]:
        nils = Client(ledgerbridge.console.app(world.config_path, world.store))
        olga = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await nils.login("nils")
            await olga.login("olga")
            out = {}
            for name, query in (
                ("hash", record.number or ""),
                ("bare", (record.number or "").lstrip("#")),
                ("id", record.external_id),
            ):
                out[name] = _ids((await nils.get("/records", params={"q": query})).text)
            out["wrong_state"] = _ids(
                (await nils.get("/records", params={"q": record.number, "state": "failed"})).text
            )
            out["other_tenant"] = _ids(
                (await olga.get("/records", params={"q": record.number})).text
            )
            return out
        finally:
            await nils.aclose()
            await olga.aclose()

    found = anyio.run(main)
    assert found["hash"] == found["bare"] == found["id"] == [record.id]
    assert found["wrong_state"] == []
    # west's WooCommerce order "1001" may answer '#1001' for olga; north's never does
    assert record.id not in found["other_tenant"]
