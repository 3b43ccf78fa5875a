"""`python -m demo` (what `make demo` runs), twice in a fresh directory: the first run
posts every source's orders with zero difference and fixes its parked record; the
second run makes no write at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from demo.world import PAYPAL_GATEWAY

from .conftest import REPO


def _demo_password(out: str) -> str:
    import re

    match = re.search(r"Log in as demo with password (\S+) \(shown this once", out)
    assert match is not None, out[-2000:]
    return match.group(1)


def _console_login_works(directory: Path, password: str) -> None:
    """The printed password logs in to the console of the demo's config; the store holds
    only its argon2 hash."""
    import os

    import anyio
    import httpx

    from ledgerbridge.console import app
    from ledgerbridge.store import Store
    from ledgerbridge.store import console_queries as q

    store = Store(f"sqlite:///{directory / 'state.db'}")
    try:
        user = q.get_user(store, "demo")
        assert user is not None and user.role == "operator" and user.tenants == ["*"]
        assert user.password_hash.startswith("$argon2") and password not in user.password_hash
        os.environ["LEDGERBRIDGE_SECRET_KEY_FILE"] = str(directory / "secret.key")

        async def login() -> httpx.Response:
            transport = httpx.ASGITransport(app=app(directory / "ledgerbridge.yaml", store))
            async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
                form = await client.get("/login")
                token = form.text.split('name="csrf" value="')[1].split('"')[0]
                answer = await client.post(
                    "/login", data={"csrf": token, "username": "demo", "password": password}
                )
                assert answer.status_code == 303
                return await client.get("/")

        overview = anyio.run(login)
        assert overview.status_code == 200 and "west-orders" in overview.text
    finally:
        os.environ.pop("LEDGERBRIDGE_SECRET_KEY_FILE", None)
        store.close()


def run_demo(directory: Path) -> tuple[str, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "demo", "--dir", str(directory), "--orders", "8"],
        capture_output=True,
        text=True,
        timeout=480,  # a hang guard: one run takes ~100 s with four tests on two cores
        cwd=REPO,
    )
    assert done.returncode == 0, (done.stdout[-4000:], done.stderr[-4000:])
    return done.stdout, json.loads((directory / "last-run.json").read_text())


@pytest.mark.slow
def test_the_demo_reconciles_to_the_cent_and_a_second_run_writes_nothing(tmp_path: Path) -> None:
    directory = tmp_path / ".demo"
    out, first = run_demo(directory)
    assert first["first_run"] is True and first["zoho_writes"] > 0
    rows = {(r["source"], r["currency"]): r for r in first["reconciliation"]}
    assert set(rows) == {("shopify", "USD"), ("woocommerce", "USD"), ("api2cart", "EUR")}
    for row in rows.values():
        assert row["orders"] > 0, row
        assert Decimal(row["source_total"]) > 0
        assert (
            Decimal(row["difference"])
            == 0
            == Decimal(row["zoho_total"]) - Decimal(row["source_total"])
        )
    # the daily-summary pipeline: every closed day owes what the shop says is unpaid, and
    # a day whose money has all moved owes nothing (read from the Zoho emulator's state)
    days = first["daily_summary"]
    assert days and all(Decimal(d["difference"]) == 0 for d in days), days
    settled = [d for d in days if d["settled"]]
    assert settled and all(Decimal(d["invoiced"]) > 0 for d in settled[:1]), days
    assert all(Decimal(d["zoho_open"]) == 0 == Decimal(d["zoho_credit_left"]) for d in settled)
    assert "Daily summaries (west-daily)" in out
    # the parked record: explained by `failures`, fixed in the YAML, replayed
    assert "needs_mapping" in out and f"payment_method:{PAYPAL_GATEWAY}" in out
    assert f"+      {PAYPAL_GATEWAY}:" in out
    assert "no failures" in out
    mapping = (directory / "mappings" / "woocommerce.yaml").read_text()
    assert f"{PAYPAL_GATEWAY}:" in mapping
    assert f"Zoho Books writes this run: {first['zoho_writes']}" in out
    # the catalogs: a price edited in each Books organisation read back from each shop
    # (the demo exits 1 when one did not arrive)
    assert "north-catalog" in out and "cart-catalog" in out and "42.50" in out
    assert "price: books 30 / shop 31" in out  # one conflict, both values, then resolved
    assert "after keeping Books' price: 30.00" in out
    # the console: its address and a log-in whose password is printed once, stored hashed
    assert "http://127.0.0.1:8787/console/" in out and "ledgerbridge serve -c" in out
    password = _demo_password(out)
    _console_login_works(directory, password)

    if not os.environ.get("LEDGERBRIDGE_DEMO_TWICE"):
        return  # `make demo-test` runs the second run too; CI keeps to the first (15 minutes)
    out, second = run_demo(directory)
    assert second["first_run"] is False
    assert second["zoho_writes"] == 0
    assert "Zoho Books writes this run: 0" in out
    assert password not in out and "the password the first run printed" in out
    assert second["reconciliation"] == first["reconciliation"]
    assert second["daily_summary"] == first["daily_summary"]
