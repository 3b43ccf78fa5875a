"""The chaos world: four emulator processes, one Zoho organisation per pipeline, their configs.

Every (source, posting policy) pair under test gets two organisations on the one
Zoho Books emulator: the **chaos** book, written by workers that are killed and
faulted, and the **reference** book, written by one quiet worker.  Both read the
same shop.  The verifier compares the two books and the shop -- all of it state
the emulators hold, none of it the sync's own store.

Each book has a directory of its own (``ledgerbridge.yaml``, its tenant mapping,
its SQLite store unless the scenario gives a PostgreSQL database).
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from demo.world import Template, _merchant_setup, placeholders
from ledgerbridge.store import generate_key
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MERCHANT,
    _org,
    seed_state,
)

from .serve import API2CART_KEY, API2CART_STORE

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("shopify", "woocommerce", "api2cart")
POLICIES = ("invoice", "sales_receipt", "daily_summary")
CURRENCY = {"shopify": "USD", "woocommerce": "USD", "api2cart": "EUR"}
# the API2Cart demo mapping has no daily-summary account; the harness names one
API2CART_SUMMARY = '\nsummary:\n  sales_accounts:\n    default: "@{sales}"\n'


@dataclass(frozen=True)
class Book:
    """One pipeline into one Zoho Books organisation."""

    source: str
    policy: str
    reference: bool
    org_id: str
    directory: Path

    @property
    def name(self) -> str:
        return f"{self.source}-{self.policy}-{'ref' if self.reference else 'chaos'}"

    @property
    def tenant(self) -> str:
        return self.name

    @property
    def pipeline(self) -> str:
        return f"{self.name}-orders"

    @property
    def config(self) -> Path:
        return self.directory / "ledgerbridge.yaml"

    @property
    def kill_scopes(self) -> tuple[tuple[str, str], ...]:
        """Where a worker's PID is registered, so a kill rule there can SIGKILL it."""
        return (("zohobooks", self.org_id),)


class Control:
    """A client of one emulator's ``/_sandbox/`` surface."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=60.0)

    def get(self, what: str, **query: str) -> Any:
        response = self.http.get(f"/_sandbox/{what}", params=query)
        response.raise_for_status()
        return response.json()

    def post(self, what: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(f"/_sandbox/{what}", json=body or {})
        response.raise_for_status()
        return response.json()

    def delete(self, what: str) -> Any:
        response = self.http.delete(f"/_sandbox/{what}")
        response.raise_for_status()
        return response.json()


@dataclass
class World:
    root: Path
    books: list[Book]
    urls: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]]
    zoho_state: Any
    refresh: dict[str, str]
    env: dict[str, str]
    controls: dict[str, Control] = field(default_factory=dict)

    def control(self, platform: str) -> Control:
        if platform not in self.controls:
            self.controls[platform] = Control(self.urls[platform])
        return self.controls[platform]

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _spawn(root: Path, platform: str, args: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    log = (root / f"{platform}.log").open("ab")
    cmd = [sys.executable, "-m", "bench.chaos.serve", platform, "--port", str(port), *args]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=log)
    return proc, f"http://127.0.0.1:{port}"


def _die_with_parent() -> None:
    """Linux: the emulator gets SIGTERM when its driver dies, however it dies (no leftovers)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"emulator at {url} exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"emulator at {url} did not start")


def start(
    root: Path,
    pairs: list[tuple[str, str]],
    *,
    orders: int,
    seed: int,
    database: dict[str, str] | None = None,
) -> World:
    """Serve the emulators and write one config per book (chaos and reference per pair)."""
    root.mkdir(parents=True, exist_ok=True)
    state = seed_state(documents=False)
    books: list[Book] = []
    refresh: dict[str, str] = {}
    for n, (source, policy) in enumerate(pairs):
        for reference in (False, True):
            org_id = str(40_000_000 + 2 * n + int(reference))
            book = Book(source, policy, reference, org_id, root / "books")
            book = Book(source, policy, reference, org_id, root / "books" / book.name)
            org = state.add_org(
                _org(state, org_id, book.name, CURRENCY[source], "standard"), users=(MERCHANT,)
            )
            _merchant_setup(org, state)
            refresh[book.name] = state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT)
            books.append(book)
    (root / "zoho.pickle").write_bytes(pickle.dumps(state))
    procs: dict[str, subprocess.Popen[bytes]] = {}
    urls: dict[str, str] = {}
    wanted = {"zohobooks": ["--state", str(root / "zoho.pickle"), "--seed", str(seed)]}
    for source in sorted({s for s, _ in pairs}):
        wanted[source] = ["--orders", str(orders), "--seed", str(seed)]
    for platform, args in wanted.items():
        procs[platform], urls[platform] = _spawn(root, platform, args)
    for platform, proc in procs.items():
        _wait_ready(urls[platform], proc)
    key_file = root / "secret.key"
    key_file.write_text(generate_key())
    key_file.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERBRIDGE_")}
    env.update(LEDGERBRIDGE_SECRET_KEY_FILE=str(key_file), COLUMNS="160", PYTHONUNBUFFERED="1")
    world = World(root, books, urls, procs, state, refresh, env)
    for book in books:
        url = (database or {}).get(book.name)
        write_config(world, book, url or f"sqlite:///{book.directory / 'state.db'}")
    return world


def write_config(world: World, book: Book, database: str) -> None:
    """``ledgerbridge.yaml`` and the tenant mapping of one book (the demo's templates)."""
    book.directory.mkdir(parents=True, exist_ok=True)
    org = world.zoho_state.organizations[book.org_id]
    template = (REPO / "demo" / "mappings" / f"{book.source}.yaml").read_text()
    if book.source == "api2cart":
        template += API2CART_SUMMARY
    mapping = book.directory / "mapping.yaml"
    mapping.write_text(Template(template).substitute(placeholders(org)))
    zoho = world.urls["zohobooks"]
    shop = _shop_connection(book.source, world.urls[book.source])
    books = (
        f'{{organization_id: "{book.org_id}", api_url: "{zoho}", accounts_url: "{zoho}", '
        f"requests_per_minute: 100, burst: 100, daily_quota: 1000000}}"
    )
    secrets = (
        f'{{client_id: "{EMULATOR_CLIENT_ID}", client_secret: "{EMULATOR_CLIENT_SECRET}", '
        f'refresh_token: "{world.refresh[book.name]}"}}'
    )
    book.config.write_text(
        f"""version: 1
database: "{database}"
tenants:
  - id: {book.tenant}
    connections:
      shop: {shop}
      books: {{platform: zohobooks, settings: {books}, secrets: {secrets}}}
    pipelines:
      - id: {book.pipeline}
        source: shop
        target: books
        mapping: mapping.yaml
        posting_policy: {book.policy}
"""
    )


def _shop_connection(source: str, url: str) -> str:
    if source == "shopify":
        from ledgerbridge_shopify.emulator.app import DEFAULT_TOKEN

        return (
            f'{{platform: shopify, settings: {{shop: emulated, base_url: "{url}"}}, '
            f'secrets: {{access_token: "{DEFAULT_TOKEN}"}}}}'
        )
    if source == "woocommerce":
        from ledgerbridge_woocommerce.emulator.app import DEFAULT_KEY, DEFAULT_SECRET

        return (
            f'{{platform: woocommerce, settings: {{store_url: "{url}", allow_http: true, '
            f'currency: USD}}, secrets: {{consumer_key: "{DEFAULT_KEY}", '
            f'consumer_secret: "{DEFAULT_SECRET}"}}}}'
        )
    return (
        f'{{platform: api2cart, settings: {{base_url: "{url}/v1.1", cart: EtsyAPIv3, '
        f"status_map: {{awaiting-pickup: on_hold}}}}, secrets: {{api_key: "
        f'"{API2CART_KEY}", store_key: "{API2CART_STORE}"}}}}'
    )
