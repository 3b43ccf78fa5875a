"""A multi-tenant world for the distributed tests and bench: N WooCommerce shops, one Zoho
Books emulator with an organisation per shop, a config with a ``workers:`` section, and
``ledgerbridge worker`` / ``beat`` as real subprocesses."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from demo.run import cli_env
from demo.world import HERE as DEMO
from demo.world import Template, _merchant_setup, placeholders
from ledgerbridge.sandbox import serve
from ledgerbridge.store import Store, SyncRecord
from ledgerbridge_woocommerce.emulator.app import DEFAULT_KEY, DEFAULT_SECRET
from ledgerbridge_woocommerce.emulator.app import create_app as woo_app
from ledgerbridge_woocommerce.emulator.data import seed as woo_seed
from ledgerbridge_zohobooks.emulator import EmulatorLimits
from ledgerbridge_zohobooks.emulator import create_app as zoho_app
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MERCHANT,
    _org,
    seed_state,
)

REPO = Path(__file__).resolve().parents[2]
TERMINAL = {"synced", "skipped", "failed", "needs_mapping", "conflict"}
# WooCommerce leaves drafts out of ``status=any`` (they are carts, not orders); a status
# the mapping does not know is parked as needs_mapping in either mode.
UNREAD = {"checkout-draft"}
UNMAPPED = {"awaiting-shipment"}


@dataclass
class World:
    directory: Path
    tenants: list[str]
    orgs: dict[str, str]
    shops: dict[str, Any]  # tenant -> woo emulator app
    zoho: Any
    database: str
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.directory / "ledgerbridge.yaml"

    def orders(self, tenant: str) -> dict[int, dict[str, Any]]:
        return dict(self.shops[tenant].emulator.store.orders)

    def zoho_calls(self, org_id: str) -> int:
        """API calls the Zoho emulator counted today for one organisation."""
        emulator = self.zoho.emulator
        return int(emulator._daily.get(org_id, 0))

    def argv(self, command: str) -> list[str]:
        return [sys.executable, "-m", "ledgerbridge", command, "-c", str(self.config)]

    # ------------------------------------------------------------- processes

    def start(self, command: str, *args: str, name: str) -> subprocess.Popen[bytes]:
        log = (self.directory / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "ledgerbridge", command, "-c", str(self.config), *args],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def worker(self, name: str, concurrency: int = 4) -> subprocess.Popen[bytes]:
        return self.start("worker", "--name", f"{name}@test", "-C", str(concurrency), name=name)

    def beat(self) -> subprocess.Popen[bytes]:
        return self.start("beat", "--schedule", str(self.directory / "beat-schedule"), name="beat")

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.directory.glob("*.log"))
        )

    # ------------------------------------------------------------- the store's view

    def states(self) -> Counter[str]:
        store = Store(self.database)
        try:
            with store.session() as s:
                from sqlmodel import select

                return Counter(r.state for r in s.exec(select(SyncRecord)))
        finally:
            store.close()

    def wait_settled(self, timeout: float) -> Counter[str]:
        """Until every shop order has a terminal record (or ``timeout``)."""
        wanted = sum(
            1 for t in self.tenants for o in self.orders(t).values() if o["status"] not in UNREAD
        )
        deadline = time.monotonic() + timeout
        states: Counter[str] = Counter()
        while time.monotonic() < deadline:
            dead = [p.args[3] for p in self.procs if p.poll() not in (None, -9)]
            assert not dead, f"{dead} exited\n{self.logs()}"
            states = self.states()
            if sum(states[s] for s in TERMINAL) >= wanted and not (set(states) - TERMINAL):
                return states
            time.sleep(0.5)
        raise AssertionError(f"not settled in {timeout}s: {dict(states)}\n{self.logs()}")

    # ------------------------------------------------------------- the books

    def books(self) -> dict[str, Counter[str]]:
        """Per tenant: how many sales documents each shop order has in its organisation."""
        out: dict[str, Counter[str]] = {}
        for tenant in self.tenants:
            org = self.zoho.emulator.state.organizations[self.orgs[tenant]]
            docs = [*org.invoices.values(), *org.salesreceipts.values()]
            out[tenant] = Counter(
                str(d["custom_field_hash"].get("cf_source_order_id")) for d in docs
            )
        return out

    def assert_books_exact(self) -> int:
        """0 duplicates, 0 missing, totals equal the shop's: checked in the Zoho emulator's
        state against the shops' raw orders.  Returns the number of documents."""
        store = Store(self.database)
        try:
            with store.session() as s:
                from sqlmodel import select

                records = {(r.tenant_id, r.external_id): r for r in s.exec(select(SyncRecord))}
        finally:
            store.close()
        books = self.books()
        documents = 0
        for tenant in self.tenants:
            counts = books[tenant]
            dupes = {k: n for k, n in counts.items() if n > 1}
            assert not dupes, f"{tenant}: duplicated documents {dupes}"
            org = self.zoho.emulator.state.organizations[self.orgs[tenant]]
            totals = {
                str(d["custom_field_hash"].get("cf_source_order_id")): Decimal(str(d["total"]))
                for d in [*org.invoices.values(), *org.salesreceipts.values()]
            }
            for oid, order in self.orders(tenant).items():
                record = records.get((tenant, str(oid)))
                if order["status"] in UNREAD:
                    assert record is None
                    continue
                assert record is not None, f"{tenant}: order {oid} never read"
                if order["status"] in UNMAPPED:  # parked with its reason, as embedded does
                    assert record.state in ("failed", "needs_mapping"), (tenant, oid, record.state)
                    assert "does not map" in (record.reason or ""), record.reason
                    assert str(oid) not in counts
                    continue
                assert record.state in ("synced", "skipped"), (tenant, oid, record.state)
                if record.state == "synced" and order["status"] not in ("cancelled", "failed"):
                    assert str(oid) in counts, f"{tenant}: order {oid} missing from the books"
                if str(oid) in totals and order["status"] not in ("refunded",):
                    assert totals[str(oid)] == Decimal(str(order["total"])), (tenant, oid)
            documents += sum(counts.values())
        return documents


def _zoho(tenants: list[str], hold: float) -> tuple[Any, dict[str, str], dict[str, str]]:
    state = seed_state(documents=False)
    orgs, refresh = {}, {}
    base = random.randint(40_000_000, 89_999_999)
    for i, tenant in enumerate(tenants):
        org_id = str(base + i)
        org = state.add_org(
            _org(state, org_id, f"{tenant} Books", "USD", "standard"), users=(MERCHANT,)
        )
        _merchant_setup(org, state)
        orgs[tenant] = org_id
        refresh[tenant] = state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT)
    app = zoho_app(state, limits=EmulatorLimits(per_minute=100, default_daily=100_000, hold=hold))
    app.emulator.limits.daily = {"standard": 100_000}
    return app, orgs, refresh


CONFIG = """version: 1
database: "{database}"
workers:
  broker_url: "{broker}"
  redis_url: "{redis}"
  queue: {queue}
  sweep_every: 1s
  visibility_timeout: {visibility}s
  yield_after: 2s
  lease_ttl: {lease}s
tenants:
"""

TENANT = """  - id: {tenant}
    connections:
      shop:
        platform: woocommerce
        settings: {{store_url: "{woo}", allow_http: true, currency: USD}}
        secrets: {{consumer_key: "{key}", consumer_secret: "{secret}", webhook_secret: hook}}
      books:
        platform: zohobooks
        settings: {{organization_id: "{org}", api_url: "{zoho}", accounts_url: "{zoho}", requests_per_minute: {rpm}, burst: {rpm}}}
        secrets: {{client_id: "{cid}", client_secret: "{csecret}", refresh_token: "{refresh}"}}
    pipelines:
      - id: {tenant}-orders
        source: shop
        target: books
        mapping: mappings/{tenant}.yaml
        posting_policy: invoice
        interval: 1h
"""


@contextmanager
def world(
    directory: Path,
    *,
    database: str,
    broker: str,
    redis: str,
    tenants: int,
    orders: int,
    hold: float = 0.0,
    rpm: int = 90,
    visibility: int = 20,
    lease_ttl: int = 6,
) -> Iterator[World]:
    """Serve the emulators on loopback and write the config; stop every process at the end."""
    directory.mkdir(parents=True, exist_ok=True)
    tag = f"{random.randint(0, 16**6):06x}"
    names = [f"t{i:02d}-{tag}" for i in range(tenants)]
    zoho, orgs, refresh = _zoho(names, hold)
    shops = {
        t: woo_app(store=woo_seed(orders=orders, seed_value=7 + i)) for i, t in enumerate(names)
    }
    with ExitStack() as stack:
        zoho_url = stack.enter_context(serve(zoho)).url
        text = CONFIG.format(
            database=database, broker=broker, redis=redis, queue=f"lbtest-{tag}",
            visibility=visibility, lease=lease_ttl,
        )  # fmt: skip
        (directory / "mappings").mkdir(exist_ok=True)
        template = Template((DEMO / "mappings" / "woocommerce.yaml").read_text())
        for tenant in names:
            woo_url = stack.enter_context(serve(shops[tenant])).url
            org = zoho.emulator.state.organizations[orgs[tenant]]
            (directory / "mappings" / f"{tenant}.yaml").write_text(
                template.substitute(placeholders(org))
            )
            text += TENANT.format(
                tenant=tenant, woo=woo_url, key=DEFAULT_KEY, secret=DEFAULT_SECRET,
                org=orgs[tenant], zoho=zoho_url, rpm=rpm, cid=EMULATOR_CLIENT_ID,
                csecret=EMULATOR_CLIENT_SECRET, refresh=refresh[tenant],
            )  # fmt: skip
        (directory / "ledgerbridge.yaml").write_text(text)
        env = cli_env(directory)
        env.pop("CI", None)
        migrate = subprocess.run(
            [sys.executable, "-m", "ledgerbridge", "migrate", "--database", database],
            env=env, capture_output=True, text=True, check=False, cwd=REPO,
        )  # fmt: skip
        assert migrate.returncode == 0, migrate.stderr
        w = World(directory, names, orgs, shops, zoho, database, env)
        try:
            yield w
        finally:
            w.stop_all()


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group: the worker and anything it started, with no goodbye."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
