"""The catalog scenario's world: the three storefronts and Zoho Books, one catalog book each.

Each storefront emulator runs in catalog mode (``catalog_platforms``: its catalog writes
faulted, killed and journalled) and serves one book: a Zoho Books organisation whose
items carry the shop's SKUs -- at a price a little off the shop's, named by SKU, with
stock of their own, as a merchant's item list starts out -- and one catalog pipeline
(``ownership: price and stock: books, name and status: shop``, docs/catalog.md).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from demo.world import _merchant_setup
from ledgerbridge.store import generate_key
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MERCHANT,
    _org,
    seed_state,
)

from .catalog_platforms import SCOPE
from .world import CURRENCY, World, _shop_connection, _spawn, _wait_ready

OWNERSHIP = {"price": "books", "stock": "books", "name": "shop", "status": "shop"}
BOOKS_FIELDS = ("price", "stock")  # owned by Zoho Books, written to the shop
SHOP_FIELDS = ("name", "status")  # owned by the shop, written to Zoho Books


@dataclass(frozen=True)
class CatalogBook:
    """One catalog pipeline: a storefront and its Zoho Books organisation."""

    source: str
    org_id: str
    directory: Path
    reference: bool = False
    policy: str = "catalog"

    @property
    def name(self) -> str:
        return f"{self.source}-catalog"

    @property
    def tenant(self) -> str:
        return self.name

    @property
    def pipeline(self) -> str:
        return self.name

    @property
    def config(self) -> Path:
        return self.directory / "ledgerbridge.yaml"

    @property
    def kill_scopes(self) -> tuple[tuple[str, str], ...]:
        return (("zohobooks", self.org_id), (self.source, SCOPE))


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")


def start(root: Path, sources: list[str], *, products: int, seed: int) -> World:
    root.mkdir(parents=True, exist_ok=True)
    procs, urls = {}, {}
    for source in sources:
        args = ["--catalog", "--products", str(products), "--seed", str(seed)]
        procs[source], urls[source] = _spawn(root, source, args)
    for source in sources:
        _wait_ready(urls[source], procs[source])
    state = seed_state(documents=False)
    books: list[CatalogBook] = []
    refresh: dict[str, str] = {}
    world = World(root, [], urls, procs, state, refresh, {})  # type: ignore[arg-type]
    for n, source in enumerate(sources):
        book = CatalogBook(source, str(41_000_000 + n), root / "books" / f"{source}-catalog")
        org = state.add_org(
            _org(state, book.org_id, book.name, CURRENCY[source], "standard"), users=(MERCHANT,)
        )
        _merchant_setup(org, state)
        refresh[book.name] = state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT)
        shop = world.control(source).get("export/catalog")
        skus = sorted({r["sku"]: r["price"] for r in shop if r["sku"]}.items())
        for k, (sku, shop_price) in enumerate(skus):
            iid = state.ids.next()
            org.items[iid] = {
                "item_id": iid, "name": sku, "sku": sku,
                "rate": Decimal(shop_price or "0") + 1, "status": "active",
                "item_type": "inventory", "stock_on_hand": Decimal(5 + k % 7), "tax_id": "",
                "is_taxable": True, "description": "", "last_modified_time": _stamp(),
            }  # fmt: skip
        books.append(book)
    (root / "zoho.pickle").write_bytes(pickle.dumps(state))
    args = ["--catalog", "--state", str(root / "zoho.pickle"), "--seed", str(seed)]
    procs["zohobooks"], urls["zohobooks"] = _spawn(root, "zohobooks", args)
    _wait_ready(urls["zohobooks"], procs["zohobooks"])
    key_file = root / "secret.key"
    key_file.write_text(generate_key())
    key_file.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERBRIDGE_")}
    env.update(LEDGERBRIDGE_SECRET_KEY_FILE=str(key_file), COLUMNS="160", PYTHONUNBUFFERED="1")
    world.env, world.books = env, books  # type: ignore[assignment]
    for book in books:
        write_config(world, book)
    return world


def write_config(world: World, book: CatalogBook) -> None:
    book.directory.mkdir(parents=True, exist_ok=True)
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
    owners = ", ".join(f"{k}: {v}" for k, v in OWNERSHIP.items())
    book.config.write_text(
        f"""version: 1
database: "sqlite:///{book.directory / "state.db"}"
tenants:
  - id: {book.tenant}
    connections:
      shop: {shop}
      books: {{platform: zohobooks, settings: {books}, secrets: {secrets}}}
    pipelines:
      - id: {book.pipeline}
        kind: catalog
        connections: [books, shop]
        ownership: {{{owners}}}
"""
    )
