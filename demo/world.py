"""The demo's world: four emulators whose state outlives one run.

Three merchants -- ``north`` sells on Shopify, ``west`` on WooCommerce and
``cart`` through API2Cart -- each book into their own Zoho Books organisation
on one emulated Zoho account.  The emulators' state (and the Shopify seed's
anchor time) is saved to ``<dir>/emulators.pickle`` on exit and loaded on the
next run, so a second ``make demo`` meets the same shops and the same books
and can prove that it writes nothing new.
"""

from __future__ import annotations

import os
import pickle
import string
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledgerbridge.sandbox import serve
from ledgerbridge_api2cart.emulator import create_app as api2cart_app
from ledgerbridge_api2cart.emulator import create_state as api2cart_state
from ledgerbridge_shopify.emulator.app import DEFAULT_TOKEN
from ledgerbridge_shopify.emulator.app import create_app as shopify_app
from ledgerbridge_shopify.emulator.seed import SeedConfig
from ledgerbridge_shopify.emulator.shop import ShopData
from ledgerbridge_woocommerce.emulator.app import DEFAULT_KEY, DEFAULT_SECRET
from ledgerbridge_woocommerce.emulator.app import create_app as woo_app
from ledgerbridge_woocommerce.emulator.data import dates
from ledgerbridge_woocommerce.emulator.data import seed as woo_seed
from ledgerbridge_zohobooks.emulator import EmulatorLimits, EmulatorState, Exchange
from ledgerbridge_zohobooks.emulator import create_app as zoho_app
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MERCHANT,
    _org,
    seed_state,
)
from ledgerbridge_zohobooks.emulator.state import CustomField, Organization, Tax

HERE = Path(__file__).parent
STATE_FILE = "emulators.pickle"
TENANTS = ("north", "west", "cart")
ORGS = {"north": "30000001", "west": "30000002", "cart": "30000003"}
BASE_CURRENCY = {"north": "USD", "west": "USD", "cart": "EUR"}  # cart: an Etsy shop in Europe
SOURCE_OF = {"north": "shopify", "west": "woocommerce", "cart": "api2cart"}
# The west merchant also books its shop as daily summaries -- one invoice and one credit
# note per day, with the day's money under them -- into a second organisation.
DAILY_PIPELINE = "west-daily"
DAILY_TENANT = "west"
DAILY_ORG = "30000004"
DAILY_MAPPING = "woocommerce-daily.yaml"
SHOPIFY_APP_SECRET = "demo-shopify-app-secret"  # noqa: S105 - the emulator's own
WOO_HOOK_SECRET = "demo-woo-webhook-secret"  # noqa: S105 - the emulator's own
PAYPAL_GATEWAY = "ppcp-gateway"
API2CART_KEY = "demo-api2cart-key"
API2CART_STORE = "demo-store-key"
API2CART_HOOK_TOKEN = "demo-hook-token"  # noqa: S105 - the emulator's own
# Zoho's per-minute limit is real in the emulator; the demo runs ~150 orders in
# seconds, so it uses a generous plan rather than stall for a minute.
DEMO_LIMITS = {"per_minute": 100_000, "daily": 100_000}


class Template(string.Template):
    """``@{name}`` placeholders: YAML keeps ``{...}`` and ``${ENV}`` for itself."""

    delimiter = "@"


@dataclass
class Saved:
    """What survives between runs."""

    zoho: EmulatorState
    woo: Any
    api2cart: Any
    shopify_anchor: datetime
    orders: int
    refresh: dict[str, str] = field(default_factory=dict)
    # the loopback ports of the first run, kept: the store remembers the Zoho API
    # domain its tokens belong to, and a token is never sent to another address
    ports: dict[str, int] = field(default_factory=dict)


def _new_world(orders: int) -> Saved:
    zoho = seed_state(documents=False)
    refresh: dict[str, str] = {}
    for tenant in TENANTS:
        org = zoho.add_org(
            _org(zoho, ORGS[tenant], f"{tenant.title()} Books", BASE_CURRENCY[tenant], "standard"),
            users=(MERCHANT,),
        )
        _merchant_setup(org, zoho)
        refresh[tenant] = zoho.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT)
    woo = woo_seed(orders=orders)
    _new_gateway(woo)
    _transfers_arrived(woo)
    cart = api2cart_state(
        api_key=API2CART_KEY,
        stores={API2CART_STORE: ("EtsyAPIv3", "EUR")},
        orders=orders,
    )
    anchor = datetime.now(UTC).replace(microsecond=0)
    saved = Saved(zoho, woo, cart, anchor, orders, refresh)
    _daily_books(saved)
    return saved


def _daily_books(saved: Saved) -> None:
    """The daily-summary organisation (added to a world saved before it existed)."""
    if DAILY_ORG in saved.zoho.organizations:
        return
    zoho = saved.zoho
    org = zoho.add_org(
        _org(zoho, DAILY_ORG, "West Daily Books", BASE_CURRENCY[DAILY_TENANT], "standard"),
        users=(MERCHANT,),
    )
    _merchant_setup(org, zoho)
    saved.refresh[DAILY_PIPELINE] = zoho.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT)


def _new_gateway(store: Any) -> None:
    """The west merchant has just enabled PayPal: one paid order used it, and the
    tenant mapping does not name that gateway yet -- the demo's parked record."""
    paid = [o for o in store.orders.values() if o.get("payment_method") == "stripe"]
    order = next(o for o in paid if o["status"] == "processing" and not o.get("refunds"))
    order["payment_method"] = PAYPAL_GATEWAY
    order["payment_method_title"] = "PayPal"


def _transfers_arrived(store: Any) -> None:
    """The bank transfers the west shop waited for arrived the next day: every order whose
    customer chose to pay by transfer is paid, so each closed day's money has all moved
    (WooCommerce dates an order by its payment: such an order is the next day's sale) --
    all but the newest one, whose transfer has not arrived yet: an unpaid invoice an
    operator can still see (and edit in Zoho Books) in the walks of docs/operations.md."""
    transfers = sorted(
        (o for o in store.orders.values() if o.get("payment_method") == "bacs"),
        key=lambda o: int(o["id"]),
    )
    for order in transfers[:-1]:
        waiting = order["status"] in ("on-hold", "pending") and not order.get("date_paid_gmt")
        if waiting:
            created = datetime.fromisoformat(order["date_created_gmt"]).replace(tzinfo=UTC)
            order.update(dates("date_paid", created + timedelta(days=1)))
            order["status"] = "processing"


def _merchant_setup(org: Organization, state: EmulatorState) -> None:
    """What a merchant does once in Zoho Books: the taxes the shops charge and the
    custom fields the shipped presets write."""
    for name, pct in (("State Tax 6", "6"), ("VAT 20", "20"), ("Sales Tax 8.25", "8.25")):
        tax = Tax(state.ids.next(), name, Decimal(pct))
        org.taxes[tax.tax_id] = tax
    wanted = {
        "contacts": "cf_source_customer_id",
        "invoices": "cf_source_order_id",
        "salesreceipts": "cf_source_order_id",
        "creditnotes": "cf_source_order_id",
        "customerpayments": "cf_source_order_id",
    }
    for entity, name in wanted.items():
        label = name.replace("cf_", "").replace("_", " ").title()
        org.custom_fields.setdefault(entity, {})[name] = CustomField(state.ids.next(), name, label)


def write_private(path: Path, content: str | bytes) -> None:
    """Write ``path`` readable by its owner only (0600) from the start, whatever the umask."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT
        handle.write(data)


def placeholders(org: Organization) -> dict[str, str]:
    """Tax and account ids of one organisation, as the mapping templates name them."""
    ids: dict[str, str] = {}
    for tax in org.taxes.values():
        ids[_slug(tax.tax_name)] = tax.tax_id
    for account in {**org.accounts, **org.bank_accounts}.values():
        ids[_slug(account["account_name"])] = account["account_id"]
    return ids


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


@dataclass
class Running:
    """The emulators while they serve, and how to reach them."""

    directory: Path
    saved: Saved
    zoho: Any
    shopify: Any
    woo: Any
    api2cart: Any
    urls: dict[str, str]
    writes: list[Exchange] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.directory / "ledgerbridge.yaml"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.directory / 'state.db'}"

    def org(self, tenant: str) -> Organization:
        return self.saved.zoho.organizations[ORGS[tenant]]

    @property
    def daily_org(self) -> Organization:
        return self.saved.zoho.organizations[DAILY_ORG]

    def write_config(self) -> None:
        """Render the config; mappings are copied once, so a fixed mapping stays fixed."""
        values = {
            "database": self.database_url,
            "shopify_url": self.urls["shopify"],
            "shopify_token": DEFAULT_TOKEN,
            "shopify_app_secret": SHOPIFY_APP_SECRET,
            "woo_url": self.urls["woocommerce"],
            "woo_key": DEFAULT_KEY,
            "woo_secret": DEFAULT_SECRET,
            "woo_hook_secret": WOO_HOOK_SECRET,
            "api2cart_url": self.urls["api2cart"],
            "api2cart_key": API2CART_KEY,
            "api2cart_store": API2CART_STORE,
            "api2cart_hook_token": API2CART_HOOK_TOKEN,
            "zoho_url": self.urls["zohobooks"],
            "zoho_client_id": EMULATOR_CLIENT_ID,
            "zoho_client_secret": EMULATOR_CLIENT_SECRET,
            **{f"{t}_org": ORGS[t] for t in TENANTS},
            **{f"{t}_refresh": self.saved.refresh[t] for t in TENANTS},
            "daily_org": DAILY_ORG,
            "daily_refresh": self.saved.refresh[DAILY_PIPELINE],
        }
        text = Template((HERE / "ledgerbridge.yaml").read_text()).substitute(values)
        write_private(self.config_path, text)  # it holds the emulators' secrets in plain text
        (self.directory / "mappings").mkdir(exist_ok=True)
        for tenant in TENANTS:
            source = SOURCE_OF[tenant]
            target = self.directory / "mappings" / f"{source}.yaml"
            if target.exists():
                continue
            template = Template((HERE / "mappings" / f"{source}.yaml").read_text())
            target.write_text(template.substitute(placeholders(self.org(tenant))))
        daily = self.directory / "mappings" / DAILY_MAPPING
        if not daily.exists():
            # set up after PayPal was enabled: this mapping names it from the start
            template = Template((HERE / "mappings" / f"{SOURCE_OF[DAILY_TENANT]}.yaml").read_text())
            ids = placeholders(self.daily_org)
            clearing = ids["stripe_clearing"]
            paypal = f'      {PAYPAL_GATEWAY}: {{payment_mode: others, account_id: "{clearing}"}}\n'
            lines = template.substitute(ids).splitlines(keepends=True)
            at = next(i for i, ln in enumerate(lines) if ln.startswith("      bacs:"))
            daily.write_text("".join([*lines[: at + 1], paypal, *lines[at + 1 :]]))

    def save(self) -> None:
        data = pickle.dumps(self.saved)  # the emulators' tokens and secrets: private too
        write_private(self.directory / STATE_FILE, data)


def load(directory: Path, orders: int) -> Saved:
    path = directory / STATE_FILE
    if path.exists():
        saved: Saved = pickle.loads(path.read_bytes())  # noqa: S301 - our own file
        _daily_books(saved)
        return saved
    return _new_world(orders)


def _shopify(saved: Saved) -> Any:
    # a shop on Shopify Plus (bucket 10,000 points, 1,000 restored a second): the
    # standard plan's 50 a second would have the demo mostly wait for query cost
    app = shopify_app(
        orders=saved.orders, customers=20, products=12, bucket_size=10_000, restore_rate=1_000
    )
    # the same shop every run: re-seed in place from the anchor saved on the first run
    fresh = ShopData(
        SeedConfig(orders=saved.orders, customers=20, products=12, anchor=saved.shopify_anchor)
    )
    app.shop.__dict__.update(fresh.__dict__)
    return app


@contextmanager
def running(directory: Path, orders: int = 20) -> Iterator[Running]:
    """Serve the four emulators on loopback; save their state when done."""
    directory.mkdir(parents=True, exist_ok=True)
    saved = load(directory, orders)
    writes: list[Exchange] = []

    def observe(exchange: Exchange) -> None:
        if exchange.method in ("POST", "PUT", "DELETE") and 200 <= exchange.status < 300:
            writes.append(exchange)

    zoho = zoho_app(
        saved.zoho,
        limits=EmulatorLimits(
            per_minute=DEMO_LIMITS["per_minute"], default_daily=DEMO_LIMITS["daily"]
        ),
        observer=observe,
    )
    zoho.emulator.limits.daily = {"standard": DEMO_LIMITS["daily"]}
    shopify = _shopify(saved)
    woo = woo_app(store=saved.woo)
    cart = api2cart_app(saved.api2cart)
    apps = {"zohobooks": zoho, "shopify": shopify, "woocommerce": woo, "api2cart": cart}
    with ExitStack() as stack:
        urls = {}
        for name, app in apps.items():
            try:
                server = stack.enter_context(serve(app, port=saved.ports.get(name, 0)))
            except (OSError, RuntimeError) as exc:
                raise SystemExit(
                    f"the {name} emulator cannot listen on port {saved.ports.get(name)} again "
                    f"({exc}); free it, or start over with `rm -rf {directory}`"
                ) from exc
            urls[name] = server.url
            saved.ports[name] = int(server.url.rsplit(":", 1)[1])
        world = Running(directory, saved, zoho, shopify, woo, cart, urls, writes)
        world.write_config()
        try:
            yield world
        finally:
            world.save()
