"""The console in a real browser (Playwright driving the system's headless chromium): a
support person logs in, finds the parked order, reads why and what to add, the mapping is
fixed, they replay it and watch it turn ``synced``, then follow the link to the invoice.

Skips with the reason when playwright or chromium is missing; under CI it fails instead.
With ``LEDGERBRIDGE_CONSOLE_SCREENSHOTS=<dir>`` it saves a screenshot of each page there
(docs/console/*.png are made this way).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

import ledgerbridge.console
from demo.run import fix_mapping
from ledgerbridge.sandbox import serve
from ledgerbridge.store import console_queries as q

from .conftest import PASSWORD, World

CHROMIUM = os.environ.get("LEDGERBRIDGE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
SHOTS = os.environ.get("LEDGERBRIDGE_CONSOLE_SCREENSHOTS")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason} (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def test_an_operator_fixes_and_replays_the_parked_order_in_the_browser(
    world: World, browser: Any
) -> None:
    parked = world.parked_id()
    record = q.record_in(world.store, parked, ["west-orders"])
    assert record is not None
    host = Starlette(routes=[Mount("/console", ledgerbridge.console.app(world.config_path))])
    with serve(host) as server:
        page = browser.new_page(viewport={"width": 1100, "height": 720})
        page.set_default_timeout(15_000)
        page.goto(f"{server.url}/console/")
        assert page.url.startswith(f"{server.url}/console/login")
        _shot(page, "login")
        page.fill("#username", "olga")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/console/")
        assert "needs_mapping 1" in page.inner_text("table")
        _shot(page, "overview")

        page.click("text=Failures")
        group = page.locator(".failure-group")
        assert group.count() == 1
        assert "payment_method:ppcp-gateway" in group.inner_text()
        _shot(page, "failures")
        group.get_by_role("link", name=f"west-orders: order {record.external_id}").click()
        page.wait_for_url(f"**/console/records/{parked}")

        reason = page.inner_text("#reason")
        assert "no payment mode for gateway 'ppcp-gateway'" in reason
        assert "lookups.payment_methods.entries" in reason
        assert "ppcp-gateway: {payment_mode: ..., account_id: ...}" in page.inner_text("#snippet")
        assert page.inner_text("#record-state") == "needs_mapping"
        _shot(page, "record-parked")

        assert fix_mapping(world.demo)  # the integrator adds the line the page showed
        page.click("#replay")
        page.wait_for_url(f"**/console/records/{parked}?replayed=synced")
        assert page.inner_text("#record-state") == "synced"
        link = page.locator("a.target-link").first
        href = link.get_attribute("href")
        [invoice] = [
            i for i in world.demo.org("west").invoices.values()
            if i["custom_field_hash"].get("cf_source_order_id") == record.external_id
        ]  # fmt: skip
        assert link.inner_text() == invoice["invoice_id"]
        assert href is not None and href.endswith(f"#/invoices/{invoice['invoice_id']}")
        _shot(page, "record-synced")

        page.click("text=Records")
        page.fill("input[name=q]", record.external_id)
        page.click("text=Search")
        rows = page.locator("tbody tr")
        assert rows.count() == 1 and "synced" in rows.inner_text()
        _shot(page, "records")
        page.click("text=Audit export")
        _shot(page, "audit")
        page.close()


def _more_paypal_orders(world: World, count: int) -> None:
    """``count`` more PayPal orders in the west shop, synced: parked like the first one."""
    import copy
    from datetime import timedelta

    import anyio

    from ledgerbridge.config import load_config
    from ledgerbridge.engine import Engine

    woo = world.demo.woo.emulator
    for _ in range(count):
        order = copy.deepcopy(woo.store.orders[1001])
        oid = max(woo.store.orders) + 1
        order.update(id=oid, number=str(oid))
        woo.store.orders[oid] = order
    woo.clock_offset += timedelta(seconds=2)
    for oid in sorted(woo.store.orders)[-count:]:
        anyio.run(lambda o=oid: woo.touch_order(o))

    async def sync() -> None:
        async with Engine(load_config(world.config_path), world.store) as engine:
            await engine.sync("west-orders")

    anyio.run(sync)


def test_an_operator_watches_a_group_replay_and_resolves_a_conflict(
    world: World, browser: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from .conftest import make_conflict

    # playwright's sync API runs an event loop in this thread: the syncs run in another
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_more_paypal_orders, world, 2).result()
        made = pool.submit(make_conflict, world).result()
    parked = q.records_page(world.store, ["west-orders"], state="needs_mapping")
    assert len(parked) == 3
    invoice = world.demo.org("west").invoices[made.invoice_id]
    host = Starlette(routes=[Mount("/console", ledgerbridge.console.app(world.config_path))])
    with serve(host) as server:
        page = browser.new_page(viewport={"width": 1100, "height": 720})
        page.set_default_timeout(20_000)
        polls: list[str] = []
        page.on("request", lambda r: polls.append(r.url) if r.url.endswith(".json") else None)
        page.goto(f"{server.url}/console/login")
        page.fill("#username", "olga")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/console/")

        # the group of three parked orders, replayed after the fix: progress live
        assert fix_mapping(world.demo)
        page.click("text=Failures")
        group = page.locator(".failure-group", has_text="payment_method:ppcp-gateway")
        assert "3 record(s)" in group.inner_text()
        group.locator("button", has_text="Replay this group").click()
        page.wait_for_url("**/console/jobs/*")
        page.wait_for_function("document.getElementById('job-status').textContent === 'done'")
        assert page.inner_text("#job-count") == "3/3"
        assert page.inner_text("#job-outcomes").strip() == "synced 3"
        assert page.locator("#job-results tr").count() == 3
        assert polls, "the page never polled the job's progress"
        _shot(page, "replay-progress")
        for record in parked:
            after = q.record_in(world.store, record.id or 0, ["west-orders"])
            assert after is not None and after.state == "synced"

        # the conflict: both versions side by side, the differing notes marked; source wins
        page.click("text=Conflicts")
        page.click(f"a[href$='/console/conflicts/{made.conflict_id}']")
        page.wait_for_url(f"**/console/conflicts/{made.conflict_id}")
        differing = page.locator("#compare tr.differs").all_inner_texts()
        notes = next(t for t in differing if t.startswith("notes"))
        assert "changed at the shop" in notes and "edited by the accountant" in notes
        assert page.inner_text("#conflict-status") == "open"
        _shot(page, "conflict")
        page.click("#keep-source")
        page.wait_for_url(f"**/console/conflicts/{made.conflict_id}")
        assert page.inner_text("#conflict-status") == "resolved"
        assert "kept the source" in page.inner_text("#resolution")
        assert page.inner_text("#record-state") == "synced"
        assert invoice["notes"] == "changed at the shop"
        _shot(page, "conflict-resolved")
        page.close()
