"""Conflicts over HTTP: the two versions side by side with the differing fields marked, the
two resolutions the engine defines (checked in the Zoho emulator's books), roles, CSRF and
tenant scoping."""

from __future__ import annotations

import re

import anyio

import ledgerbridge.console
from ledgerbridge.store import console_queries as q

from .conftest import Client, World, make_conflict


def _row(page: str, field: str) -> str:
    match = re.search(rf'<tr class="([^"]*)"><td>{re.escape(field)}</td>(.*?)</tr>', page, re.S)
    assert match is not None, field
    return match.group(1) + "|" + match.group(2)


def test_the_source_wins_writes_the_source_version_over_the_targets_edit(world: World) -> None:
    made = make_conflict(world)
    invoice = world.demo.org("west").invoices[made.invoice_id]

    async def main() -> tuple[str, str, str, str]:
        client = Client(ledgerbridge.console.app(world.config_path, world.store), "/ops")
        try:
            await client.login("olga")
            listed = (await client.get("/conflicts")).text
            page = (await client.get(f"/conflicts/{made.conflict_id}")).text
            record = (await client.get(f"/records/{made.record_id}")).text
            csrf = await client.csrf()
            done = await client.post(
                f"/conflicts/{made.conflict_id}/resolve", {"csrf": csrf, "keep": "source"}
            )
            assert done.status_code == 303
            assert done.headers["location"] == f"/ops/conflicts/{made.conflict_id}"
            after = (await client.get(f"/conflicts/{made.conflict_id}")).text
            return listed, page, record, after
        finally:
            await client.aclose()

    listed, page, record, after = anyio.run(main)
    assert f'href="/ops/conflicts/{made.conflict_id}"' in listed
    assert f"order {made.order_id}" in listed
    # side by side: the notes differ and are marked; the unchanged date is not
    notes = _row(page, "notes")
    assert notes.startswith("differs|")
    assert "changed at the shop" in notes and "edited by the accountant" in notes
    assert _row(page, "date").startswith("|")
    assert _row(page, "line 1 rate").startswith("|")  # 21.99 vs "21.99": the same number
    assert _row(page, "exchange_rate").startswith("|")  # unset in the source: not written
    assert 'id="keep-source"' in page and 'id="keep-target"' in page
    assert f'href="/ops/conflicts/{made.conflict_id}"' in record  # the record links to it
    # resolved through the engine: the shop's note is in the books now
    assert invoice["notes"] == "changed at the shop"
    assert 'id="conflict-status">resolved<' in after and "kept the source" in after
    assert "by <strong>olga</strong>" in after and 'id="keep-source"' not in after
    assert q.open_conflicts(world.store, ["west-orders"]) == []
    rec = q.record_in(world.store, made.record_id, ["west-orders"])
    assert rec is not None and rec.state == "synced"
    [action] = [
        e for e in q.record_events(world.store, made.record_id)
        if e.operation == "operator_resolve"
    ]  # fmt: skip
    assert action.details["user"] == "olga" and action.details["keep"] == "source"
    assert action.outcome == "synced"


def test_keeping_the_target_leaves_its_edit_and_syncs_the_record(world: World) -> None:
    made = make_conflict(world)
    invoice = world.demo.org("west").invoices[made.invoice_id]

    async def main() -> str:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("ada")
            csrf = await client.csrf()
            done = await client.post(
                f"/conflicts/{made.conflict_id}/resolve", {"csrf": csrf, "keep": "target"}
            )
            assert done.status_code == 303
            return (await client.get(f"/conflicts/{made.conflict_id}")).text
        finally:
            await client.aclose()

    after = anyio.run(main)
    assert "kept the target" in after
    assert invoice["notes"] == "edited by the accountant"
    rec = q.record_in(world.store, made.record_id, ["west-orders"])
    assert rec is not None and rec.state == "synced"


def test_resolving_needs_an_operator_of_the_tenant_and_the_csrf_token(world: World) -> None:
    made = make_conflict(world)
    path = f"/conflicts/{made.conflict_id}"

    async def main() -> None:
        viewer = Client(ledgerbridge.console.app(world.config_path, world.store))
        other = Client(ledgerbridge.console.app(world.config_path, world.store))
        operator = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await viewer.login("vera")
            page = await viewer.get(path)
            assert page.status_code == 200 and "keep-source" not in page.text
            csrf = await viewer.csrf()
            refused = await viewer.post(f"{path}/resolve", {"csrf": csrf, "keep": "source"})
            assert refused.status_code == 403 and "operator role" in refused.text

            await other.login("nils")  # an operator of tenant north
            csrf = await other.csrf()
            assert (await other.get(path)).status_code == 404
            assert (await other.get("/conflicts/987654")).text == (await other.get(path)).text
            theirs = await other.post(f"{path}/resolve", {"csrf": csrf, "keep": "source"})
            assert theirs.status_code == 404
            assert f"order {made.order_id}" not in (await other.get("/conflicts")).text

            await operator.login("olga")
            for data in ({"keep": "source"}, {"csrf": "guessed", "keep": "source"}):
                answer = await operator.post(f"{path}/resolve", data)
                assert answer.status_code == 403
            csrf = await operator.csrf()
            bad = await operator.post(f"{path}/resolve", {"csrf": csrf, "keep": "both"})
            assert bad.status_code == 400
        finally:
            for c in (viewer, other, operator):
                await c.aclose()

    anyio.run(main)
    [still] = q.open_conflicts(world.store, ["west-orders"])
    assert still.id == made.conflict_id
    assert world.demo.org("west").invoices[made.invoice_id]["notes"] == "edited by the accountant"
