"""The demo's partly shipped order: the ``fulfilled`` posting trigger, end to end.

A small shop of its own (Shopify emulator -> Zoho Books emulator, in memory, a pipeline
with ``posting_trigger: fulfilled``): one paid order of three units waits while nothing
has shipped, gets an invoice of exactly what the first shipment held, and a second one
when the rest ships -- the two adding up to the order to the cent, its one payment
applied across them.  ``python -m demo.shipments`` runs it alone; ``make demo`` runs it
after the three merchants.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console
from rich.table import Table

from ledgerbridge.config import load_config
from ledgerbridge.engine import Engine
from ledgerbridge.sandbox import serve
from ledgerbridge.store import Store, generate_key
from ledgerbridge_shopify.emulator.app import DEFAULT_TOKEN
from ledgerbridge_shopify.emulator.app import create_app as shopify_app
from ledgerbridge_shopify.emulator.seed import ORDER_BASE, fulfillment
from ledgerbridge_zohobooks.emulator import create_app as zoho_app
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MAIN_ORG,
    MERCHANT,
)

from .world import HERE, Template, _merchant_setup, placeholders, write_private


def _order(shop: Any) -> int:
    """A paid, plain order of at least three units in two lines or more."""
    for n in range(shop.orders.count):
        o = shop.orders.get(ORDER_BASE + n)
        if (
            o["currencyCode"] == o["presentmentCurrencyCode"] and not o["refunds"]
            and not o["cancelledAt"] and not o["test"] and len(o["lineItems"]) >= 2
            and sum(int(i["quantity"]) for i in o["lineItems"]) >= 3
            and not any(i["isGiftCard"] for i in o["lineItems"])
        ):  # fmt: skip
            return n
    raise SystemExit("no order to ship in parts")


def _ship(shop: Any, n: int, parts: list[list[int]]) -> dict[str, Any]:
    order = shop.orders.get(ORDER_BASE + n)
    created = datetime.fromisoformat(order["createdAt"].replace("Z", "+00:00"))
    oid = int(order["legacyResourceId"])
    made = [
        fulfillment(
            oid * 10 + 5 + i, i + 1, created + timedelta(hours=i + 1), order["lineItems"], q
        )
        for i, q in enumerate(parts)
    ]
    record: dict[str, Any] = shop.touch_order(n, fulfillments=made)
    return record


def _sync(config: Path) -> Engine:
    engine = Engine(load_config(config), Store(f"sqlite:///{config.parent / 'state.db'}"))

    async def main() -> None:
        async with engine:
            await engine.sync()

    anyio.run(main)
    return engine


def run(console: Console) -> bool:
    """Show the partly shipped order; True when the books add up."""
    import os

    console.rule("A partly shipped order (posting_trigger: fulfilled)")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        key = directory / "secret.key"
        write_private(key, generate_key())
        before = os.environ.get("LEDGERBRIDGE_SECRET_KEY_FILE")
        os.environ["LEDGERBRIDGE_SECRET_KEY_FILE"] = str(key)
        try:
            return _story(console, directory)
        finally:
            if before is None:
                os.environ.pop("LEDGERBRIDGE_SECRET_KEY_FILE", None)
            else:
                os.environ["LEDGERBRIDGE_SECRET_KEY_FILE"] = before


def _story(console: Console, directory: Path) -> bool:
    """The story itself, in ``directory`` (its key file already set)."""
    shopify, zoho = shopify_app(orders=12, customers=6, products=8), zoho_app()
    org = zoho.emulator.state.organizations[MAIN_ORG]
    _merchant_setup(org, zoho.emulator.state)
    with serve(shopify) as shop_server, serve(zoho) as books:
        refresh = zoho.emulator.state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT)
        mapping = Template((HERE / "mappings" / "shopify.yaml").read_text())
        (directory / "shopify.yaml").write_text(mapping.substitute(placeholders(org)))
        config = directory / "ledgerbridge.yaml"
        books_settings = {"organization_id": MAIN_ORG, "api_url": books.url,
                          "accounts_url": books.url, "burst": 100}  # fmt: skip
        books_secrets = {"client_id": EMULATOR_CLIENT_ID, "refresh_token": refresh,
                         "client_secret": EMULATOR_CLIENT_SECRET}  # fmt: skip
        shop_conn = {"platform": "shopify", "secrets": {"access_token": DEFAULT_TOKEN},
                     "settings": {"shop": "emulated", "base_url": shop_server.url}}  # fmt: skip
        pipeline = {"id": "shipped", "source": "shop", "target": "books",
                    "mapping": "shopify.yaml", "posting_policy": "invoice",
                    "posting_trigger": "fulfilled"}  # fmt: skip
        tenant = {"id": "ship", "pipelines": [pipeline], "connections": {
            "shop": shop_conn,
            "books": {"platform": "zohobooks", "settings": books_settings,
                      "secrets": books_secrets}}}  # fmt: skip
        document = {"version": 1, "database": f"sqlite:///{directory / 'state.db'}",
                    "tenants": [tenant]}  # fmt: skip
        write_private(config, json.dumps(document, indent=2))  # JSON is YAML
        shop = shopify.shop
        n = _order(shop)
        order = shop.orders.get(ORDER_BASE + n)
        name, lines = order["name"], order["lineItems"]
        first = [int(x["quantity"]) if i == 0 else 0 for i, x in enumerate(lines)]
        rest = [0 if i == 0 else int(x["quantity"]) for i, x in enumerate(lines)]
        shop.touch_order(n, fulfillments=[])
        engine = _sync(config)
        waiting = [r for r in _records(engine) if r.external_id == order["legacyResourceId"]]
        console.print(f"{name}: nothing shipped -> {waiting[0].state}: {waiting[0].reason}")
        console.print(
            "Its one capture is recorded once the invoices can take all of it (here: when "
            "the rest has shipped), applied across them oldest first."
        )
        _pause()
        _ship(shop, n, [first])
        _sync(config)
        _show(console, org, name, "after the first shipment (partly shipped)")
        _pause()
        _ship(shop, n, [first, rest])
        _sync(config)
        return _show(console, org, name, "after the second shipment", total=order)


def _records(engine: Engine) -> list[Any]:
    from ledgerbridge.store import RecordState

    return engine.failures(list(RecordState))


def _pause() -> None:
    """Stamps are whole seconds: the next change must be newer than the last one."""
    import time

    stamp = datetime.now(UTC).replace(microsecond=0)
    while datetime.now(UTC).replace(microsecond=0) <= stamp:
        time.sleep(0.05)


def _show(
    console: Console, org: Any, name: str, when: str, total: dict[str, Any] | None = None
) -> bool:
    invoices = sorted(
        (d for d in org.invoices.values() if str(d["reference_number"]).startswith(f"{name}-")),
        key=lambda d: d["reference_number"],
    )
    table = Table(title=f"{name} in Zoho Books, {when}")
    for col in ("invoice", "lines (qty x item)", "total", "paid", "balance"):
        table.add_column(col)
    for d in invoices:
        items = ", ".join(
            f"{Decimal(str(li['quantity'])).normalize()} x {li['name']}" for li in d["line_items"]
        )
        paid = d.get("payment_made", 0)
        table.add_row(d["reference_number"], items, str(d["total"]), str(paid), str(d["balance"]))
    console.print(table)
    if total is None:
        return True
    stated = Decimal(total["totalPriceSet"]["shopMoney"]["amount"])
    booked = sum((Decimal(str(d["total"])) for d in invoices), Decimal(0))
    ok = booked == stated and all(Decimal(str(d["balance"])) == 0 for d in invoices)
    console.print(f"order total {stated}, invoices {booked}: {'equal' if ok else 'DIFFERENT'}")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if run(Console()) else 1)
