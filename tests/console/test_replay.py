"""The failed-order story over HTTP: the parked order's reason and YAML snippet, the mapping
fixed, replay through the engine, the invoice in the merchant's books, the operator's audit
event naming the user, the audit CSV -- and no secret on any page."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import anyio

import ledgerbridge.console
from demo.run import fix_mapping
from demo.world import PAYPAL_GATEWAY
from ledgerbridge.config import load_config
from ledgerbridge.store import console_queries as q

from .conftest import Client, World


def _invoices_for(world: World, order_id: str) -> list[dict[str, object]]:
    org = world.demo.org("west")
    return [
        i for i in org.invoices.values()
        if i["custom_field_hash"].get("cf_source_order_id") == order_id
    ]  # fmt: skip


def test_an_operator_reads_the_reason_fixes_the_mapping_and_replays(world: World) -> None:
    parked = world.parked_id()
    record = q.record_in(world.store, parked, ["west-orders"])
    assert record is not None
    order_id = record.external_id
    assert _invoices_for(world, order_id) == []

    async def main() -> tuple[str, str, str, str]:
        client = Client(ledgerbridge.console.app(world.config_path, world.store), "/ops/console")
        try:
            await client.login("olga")
            failures = (await client.get("/failures")).text
            page = (await client.get(f"/records/{parked}")).text
            # replaying before the fix parks it again, with the same reason
            csrf = await client.csrf()
            again = await client.replay(f"/records/{parked}/replay", {"csrf": csrf})
            assert (again["done"], again["total"], again["finished"]) == (1, 1, True)
            assert again["outcomes"] == {"needs_mapping": 1}
            assert again["next"] == f"/ops/console/records/{parked}?replayed=needs_mapping"
            assert fix_mapping(world.demo)
            done = await client.replay(f"/records/{parked}/replay", {"csrf": csrf})
            assert done["outcomes"] == {"synced": 1}
            after = (await client.get(done["next"].removeprefix("/ops/console"))).text
            spoof = await client.get(f"/records/{parked}", params={"replayed": "call 555-0100"})
            assert "555-0100" not in spoof.text and "Replayed: synced" in spoof.text
            today = after and (await client.get("/audit")).text
            start = re.search(r'name="from" value="([^"]+)"', today)
            end = re.search(r'name="to" value="([^"]+)"', today)
            assert start and end
            exported = await client.get(
                "/audit.csv", params={"tenant": "west", "from": start.group(1), "to": end.group(1)}
            )
            assert exported.status_code == 200
            assert exported.headers["content-type"].startswith("text/csv")
            return failures, page, after, exported.text
        finally:
            await client.aclose()

    failures, page, after, exported = anyio.run(main)

    # the failures page groups it by cause, with the key and the snippet to add
    assert "payment_method:ppcp-gateway" in failures and "1 record(s)" in failures
    assert "lookups.payment_methods.entries" in failures
    # the record page: why, the exact key, where to add it and the YAML, retry safe
    assert "NeedsMapping" in page and f"gateway &#39;{PAYPAL_GATEWAY}&#39;" in page
    snippet = re.search(r'<pre id="snippet">(.*?)</pre>', page, re.S)
    assert snippet is not None
    assert snippet.group(1).splitlines() == [
        "lookups:",
        "  payment_methods:",
        "    entries:",
        f"      {PAYPAL_GATEWAY}: {{payment_mode: ..., account_id: ...}}",
    ]
    assert "Retry is safe" in page
    assert 'href="/ops/console/records"' in page  # links follow the mount prefix

    # synced, from the merchant's books: one invoice for the order, to the cent
    assert 'id="record-state">synced<' in after and "Replayed: synced" in after
    [invoice] = _invoices_for(world, order_id)
    order = world.demo.saved.woo.orders[int(order_id)]
    assert Decimal(str(invoice["total"])) == Decimal(order["total"])
    # its timeline: the write with its idempotency key, the Zoho link, who replayed it
    assert f"west:west-orders:order:{order_id}:invoice" in after
    org = world.demo.org("west").organization_id
    link = f"https://books.zoho.com/app/{org}#/invoices/{invoice['invoice_id']}"
    assert f'href="{link}"' in after
    assert "by <strong>olga</strong>" in after

    actions = [e for e in q.record_events(world.store, parked) if e.operation == "operator_replay"]
    assert [(e.outcome, e.details["user"], e.details["from_state"]) for e in actions] == [
        ("needs_mapping", "olga", "needs_mapping"),
        ("synced", "olga", "needs_mapping"),
    ]
    rows = list(csv.DictReader(io.StringIO(exported)))
    ours = [r for r in rows if r["source_id"] == order_id]
    assert [r["operation"] for r in ours] == [
        "operator_replay", "create_document", "record_payment", "operator_replay",
    ]  # fmt: skip
    assert [r["user"] for r in ours if r["operation"] == "operator_replay"] == ["olga", "olga"]
    assert {r["tenant"] for r in rows} == {"west"}
    assert ours[1]["target_id"] == invoice["invoice_id"]


def test_replaying_a_failure_group_replays_its_records(world: World) -> None:
    parked = world.parked_id()
    assert fix_mapping(world.demo)

    async def main() -> str:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("ada")
            csrf = await client.csrf("/failures")
            job = await client.replay(
                "/failures/replay",
                {"csrf": csrf, "state": "needs_mapping", "error_class": "NeedsMapping",
                 "key": "payment_method:ppcp-gateway"},
            )  # fmt: skip
            assert (job["done"], job["total"], job["outcomes"]) == (1, 1, {"synced": 1})
            assert [r["outcome"] for r in job["results"]] == ["synced"]
            assert "next" not in job  # a group's page stays: it lists every record
            return (await client.get("/failures")).text
        finally:
            await client.aclose()

    assert "Nothing parked or retrying" in anyio.run(main)
    record = q.record_in(world.store, parked, ["west-orders"])
    assert record is not None and record.state == "synced"
    [action] = [e for e in q.record_events(world.store, parked) if e.operation == "operator_replay"]
    assert action.details["user"] == "ada"


def test_no_page_renders_a_secret(world: World) -> None:
    loaded = load_config(world.config_path)
    secrets = {
        value.get_secret_value()
        for tenant in loaded.config.tenants
        for conn in tenant.connections.values()
        for value in conn.secrets.values()
    }
    assert len(secrets) > 5
    parked = world.parked_id()

    async def main() -> list[str]:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("ada")
            pages = ["/", "/records", f"/records/{parked}", "/failures", "/audit"]
            texts = [(await client.get(p)).text for p in pages]
            texts.append((await client.get("/audit.csv", params={"tenant": "west"})).text)
            for n in range(1, 7):  # the six orders of the west shop
                answer = await client.get(f"/records/{n}")
                assert answer.status_code == 200
                texts.append(answer.text)
            return texts
        finally:
            await client.aclose()

    for text in anyio.run(main):
        for secret in secrets:
            assert secret not in text


def test_a_replay_that_cannot_run_says_why_and_is_audited(world: World) -> None:
    """Another worker holds the pipeline's lease: the replay does nothing, the page says
    why (from the stored audit event), and the attempt is recorded with the user."""
    from datetime import timedelta

    parked = world.parked_id()
    assert fix_mapping(world.demo)
    holder = "worker-7.elsewhere:4242:abcdef12"
    assert world.store.acquire_lease("pipeline:west-orders", holder, timedelta(minutes=5))

    async def main() -> str:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("olga")
            csrf = await client.csrf()
            job = await client.replay(f"/records/{parked}/replay", {"csrf": csrf})
            assert job["outcomes"] == {"error": 1} and holder in job["error"]
            assert job["next"] == f"/console/records/{parked}?replayed=error"
            return (await client.get(f"/records/{parked}", params={"replayed": "error"})).text
        finally:
            await client.aclose()

    page = anyio.run(main)
    assert "Replayed: failed:" in page and holder in page
    record = q.record_in(world.store, parked, ["west-orders"])
    assert record is not None and record.state == "needs_mapping"
    assert _invoices_for(world, record.external_id) == []
    [action] = [e for e in q.record_events(world.store, parked) if e.operation == "operator_replay"]
    assert action.outcome == "error" and action.details["user"] == "olga"
    assert holder in action.details["error"]
