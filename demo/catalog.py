"""The demo's catalog step: each merchant's items in Zoho Books kept in step with their shop
(prices and stock owned by Books, titles and status by the shop; docs/catalog.md).

On the first run the Books organisations get an item for every SKU the shops sell (the
merchant's catalogue in Books, at a price a little off the shop's), ``ledgerbridge sync
<tenant>-catalog`` runs for the three merchants, then a price is edited in each Books
organisation -- as in the web app -- and the next run carries it to all three shops,
checked in the shops' emulators.  Then one price is edited in Books and in the WooCommerce
admin before a run: one conflict with both values, listed by ``ledgerbridge conflicts``
and resolved keeping Books' price.  Later runs find nothing to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from ledgerbridge_shopify.emulator.seed import PRODUCT_BASE

from .world import API2CART_STORE, TENANTS, Running

CATALOGS = tuple(f"{t}-catalog" for t in TENANTS)
EDITED = Decimal("42.50")


def _shopify_units(world: Running) -> dict[str, Decimal]:
    shop = world.shopify.shop
    units = {}
    for n in range(shop.config.products):
        product = shop.products.get(PRODUCT_BASE + n)
        for v in product["variants"] if product else []:
            units[v["sku"]] = Decimal(v["price"])
    return units


def _woo_units(world: Running) -> dict[str, Decimal]:
    store = world.saved.woo
    units = {
        p["sku"]: Decimal(p["regular_price"])
        for p in store.products.values()
        if p["sku"] and p["type"] != "variable"
    }
    for rows in store.variations.values():
        units.update({v["sku"]: Decimal(v["regular_price"]) for v in rows if v["sku"]})
    return units


def _cart_units(world: Running) -> dict[str, Decimal]:
    store = world.saved.api2cart.stores[API2CART_STORE]
    parents = {c["parent_id"] for c in store.children.values()}
    units = {c["sku"]: Decimal(str(c["default_price"])) for c in store.children.values()}
    units.update(
        {
            p["u_sku"]: Decimal(str(p["price"]))
            for p in store.products.values()
            if p["id"] not in parents
        }
    )
    return units


UNITS: dict[str, Callable[[Running], dict[str, Decimal]]] = {
    "north": _shopify_units,
    "west": _woo_units,
    "cart": _cart_units,
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")


def stock_books(world: Running) -> int:
    """Give every shop SKU an item in its merchant's Books (the ones not there yet)."""
    added = 0
    for tenant in TENANTS:
        org = world.org(tenant)
        known = {i.get("sku") for i in org.items.values()}
        for n, (sku, price) in enumerate(sorted(UNITS[tenant](world).items())):
            if sku in known:
                continue
            iid = world.saved.zoho.ids.next()
            org.items[iid] = {
                "item_id": iid,
                "name": sku,
                "sku": sku,
                "rate": price + 1,
                "status": "active",
                "item_type": "inventory",
                "stock_on_hand": Decimal(5 + n % 7),
                "tax_id": "",
                "is_taxable": True,
                "description": "",
                "last_modified_time": _now(),
            }
            added += 1
    return added


def edit_prices(world: Running) -> dict[str, str]:
    """One price edited in each Books organisation, as in the web app."""
    edited = {}
    for tenant in TENANTS:
        sku = sorted(UNITS[tenant](world))[0]
        item = next(i for i in world.org(tenant).items.values() if i.get("sku") == sku)
        item["rate"], item["last_modified_time"] = EDITED, _now()
        edited[tenant] = sku
    return edited


def show_arrival(console: Console, world: Running, edited: dict[str, str]) -> bool:
    table = Table(title=f"A price edited in Zoho Books ({EDITED}), read back from each shop")
    for name in ("merchant", "SKU", "Zoho Books", "shop"):
        table.add_column(name)
    ok = True
    for tenant, sku in edited.items():
        shop = UNITS[tenant](world).get(sku)
        ok = ok and shop == EDITED
        colour = "green" if shop == EDITED else "red"
        table.add_row(tenant, sku, str(EDITED), f"[{colour}]{shop}[/]")
    console.print(table)
    return ok


CONFLICT_SKU = "NINJA-53"  # a simple WooCommerce product of the west merchant


def edit_both(world: Running) -> None:
    """The same price edited in Books and in the WooCommerce admin before a run."""
    from ledgerbridge_woocommerce.emulator.data import dates

    item = next(i for i in world.org("west").items.values() if i.get("sku") == CONFLICT_SKU)
    item["rate"], item["last_modified_time"] = Decimal("30.00"), _now()
    woo = world.woo.emulator
    product = next(p for p in woo.store.products.values() if p["sku"] == CONFLICT_SKU)
    product.update(regular_price="31.00", **dates("date_modified", woo.now()))


def catalog_step(
    console: Console, world: Running, *, first: bool, sync: Callable[[str], Any],
    cli: Callable[..., str],
) -> bool:  # fmt: skip
    """The whole step; ``sync(pipeline)`` runs ``ledgerbridge sync`` for one pipeline and
    ``cli(*args)`` any other command."""
    console.rule("Catalogs: Zoho Books items <-> the shops' products")
    if first:
        console.print(
            f"{stock_books(world)} items put in the three Books organisations "
            "(the merchants' catalogues, prices a little off the shops')"
        )
    for pipeline in CATALOGS:
        sync(pipeline)
    if not first:
        return True
    edited = edit_prices(world)
    console.print(f"\n[bold]Edited in Zoho Books:[/] {edited} -> {EDITED}; the next run:")
    for pipeline in CATALOGS:
        sync(pipeline)
    arrived = show_arrival(console, world, edited)
    console.print(
        f"\n[bold]A conflict:[/] {CONFLICT_SKU}'s price edited in Books (30.00) and in the shop "
        "(31.00) before the next run"
    )
    edit_both(world)
    sync("west-catalog")
    cli("conflicts")
    [conflict] = [
        c
        for c in json.loads(cli("conflicts", "--json", show=False))
        if c["pipeline"] == "west-catalog"
    ]
    cli("conflicts", "resolve", str(conflict["id"]), "--keep", "source")
    price = _woo_units(world)[CONFLICT_SKU]
    console.print(f"{CONFLICT_SKU} in the shop after keeping Books' price: {price}")
    return arrived and price == Decimal("30.00")
