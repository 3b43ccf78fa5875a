"""A Zoho Books emulator and a storefront emulator on loopback, a catalog pipeline between
them: real connectors, real store; only the platforms are emulated."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledgerbridge.catalog.runner import CatalogReport, run_catalog
from ledgerbridge.config import load_config
from ledgerbridge.engine import Engine
from ledgerbridge.sandbox import serve
from ledgerbridge.store import Store
from ledgerbridge_zohobooks.emulator import create_app as zoho_app
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MAIN_ORG,
    MERCHANT,
)
from tests.engine.harness import InstantClock

OWNERSHIP = "{name: shop, description: shop, price: books, tax: books, stock: books, status: shop}"


@dataclass
class CatalogWorld:
    root: Path
    config_path: Path
    db_url: str
    zoho: Any
    shop: Any
    clock: InstantClock

    @property
    def org(self) -> Any:
        return self.zoho.emulator.state.organizations[MAIN_ORG]

    def engine(self) -> Engine:
        return Engine(load_config(self.config_path), Store(self.db_url), clock=self.clock)

    def run(self, *, dry_run: bool = False) -> CatalogReport:
        """One run of the config's one catalog pipeline on a fresh engine."""
        import anyio

        engine = self.engine()

        async def main() -> CatalogReport:
            async with engine:
                [entry] = engine.config.catalogs
                return await run_catalog(engine, entry, dry_run=dry_run)

        return anyio.run(main)

    def item_by_sku(self, sku: str) -> dict[str, Any]:
        return next(i for i in self.org.items.values() if i.get("sku") == sku)

    def edit_item(self, sku: str, **changes: Any) -> None:
        """An edit in the Books web app: the item changes and so does its modified time."""
        item = self.item_by_sku(sku)
        item.update(changes)
        item["last_modified_time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")


def add_items(world: CatalogWorld, rows: list[tuple[str, str, Decimal, int]]) -> None:
    """Items (name, sku, rate, stock) as a merchant keeps them in Books."""
    state = world.zoho.emulator.state
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")
    for name, sku, rate, stock in rows:
        iid = state.ids.next()
        world.org.items[iid] = {
            "item_id": iid,
            "name": name,
            "sku": sku,
            "rate": rate,
            "status": "active",
            "item_type": "inventory",
            "stock_on_hand": Decimal(stock),
            "tax_id": "",
            "description": "",
            "last_modified_time": stamp,
        }


@contextmanager
def catalog_world(
    tmp: Path,
    shop_app: Any,
    shop_connection: str,
    *,
    extra: str = "",
    ownership: str = OWNERSHIP,
    clock: InstantClock | None = None,
    db_url: str | None = None,
) -> Iterator[CatalogWorld]:
    clock = clock or InstantClock()
    zoho = zoho_app()
    zoho.emulator.clock = clock.now
    with ExitStack() as stack:
        zs = stack.enter_context(serve(zoho))
        ss = stack.enter_context(serve(shop_app))
        refresh = zoho.emulator.state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT)
        world = CatalogWorld(
            tmp,
            tmp / "ledgerbridge.yaml",
            db_url or f"sqlite:///{tmp / 'state.db'}",
            zoho,
            shop_app,
            clock,
        )
        for seeded in list(world.org.items):  # the seed's own items sell nowhere
            del world.org.items[seeded]
        books = f'{{organization_id: "{MAIN_ORG}", api_url: "{zs.url}", accounts_url: "{zs.url}"}}'
        world.config_path.write_text(
            textwrap.dedent(
                f"""\
                version: 1
                database: {world.db_url}
                tenants:
                  - id: acme
                    connections:
                      shop: {shop_connection.replace("<URL>", ss.url)}
                      books:
                        platform: zohobooks
                        settings: {books}
                        secrets:
                          client_id: "{EMULATOR_CLIENT_ID}"
                          client_secret: "{EMULATOR_CLIENT_SECRET}"
                          refresh_token: "{refresh}"
                    pipelines:
                      - id: cat
                        kind: catalog
                        connections: [books, shop]
                        ownership: {ownership}
                """
            )
            + extra
        )
        yield world
