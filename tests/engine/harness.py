"""Two emulators on loopback and a config wiring a pipeline between them.

Used by the engine's end-to-end tests and benchmarks: a real source connector,
the real Zoho Books connector, the real YAML mapping and a real store -- only
the platforms are emulated.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledgerbridge.config import load_config
from ledgerbridge.engine import Engine
from ledgerbridge.sandbox import FaultConfig, serve
from ledgerbridge.store import Store
from ledgerbridge_zohobooks.emulator import create_app as zoho_app
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MAIN_ORG,
    MERCHANT,
)


@dataclass
class Harness:
    root: Path
    config_path: Path
    mapping_path: Path
    db_url: str
    zoho: Any
    source_app: Any
    zoho_faults: FaultConfig
    source_faults: FaultConfig
    zoho_url: str
    source_url: str
    extra: dict[str, Any] = field(default_factory=dict)
    clock: Any = None

    @property
    def org(self) -> Any:
        return self.zoho.emulator.state.organizations[MAIN_ORG]

    def tax_id(self, name: str) -> str:
        return next(t.tax_id for t in self.org.taxes.values() if t.tax_name == name)

    def account_id(self, name: str) -> str:
        accounts = {**self.org.accounts, **self.org.bank_accounts}
        return next(a["account_id"] for a in accounts.values() if a["account_name"] == name)

    def engine(self, **kw: Any) -> Engine:
        loaded = load_config(self.config_path)
        kw.setdefault("clock", self.clock or InstantClock())
        return Engine(loaded, Store(self.db_url), **kw)

    def store(self) -> Store:
        return Store(self.db_url)

    def documents(self, kind: str = "invoices") -> list[dict[str, Any]]:
        return list(getattr(self.org, kind).values())

    def write_mapping(self, body: str) -> None:
        self.mapping_path.write_text(textwrap.dedent(body))


WOO_MAPPING = """\
extends: woocommerce-to-zohobooks
refunds:
  adjustment_account_id: "{sales}"
summary:
  sales_accounts:
    default: "{sales}"
lookups:
  taxes:
    entries:
      - {{title: State Tax, rate: 0.10, tax_id: "{vat10}"}}
  payment_methods:
    entries:
      stripe: {{payment_mode: creditcard, account_id: "{clearing}"}}
      bacs: {{payment_mode: banktransfer, account_id: "{checking}"}}
  fee_accounts:
    default: "{sales}"
"""


class InstantClock:
    """Back-off and rate-limit waits pass at once (and are counted) so tests stay fast."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.waited: list[float] = []

    def now(self) -> float:
        import time

        return time.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:
        import anyio

        self.waited.append(seconds)
        self.offset += max(0.0, seconds)
        await anyio.sleep(0)


class InterceptWrite:
    """ASGI wrapper around an emulator: act right after a matching write is processed,
    before its response leaves (kill the client, or drop the response) -- or, with
    ``before``, instead of processing it (the action answers)."""

    def __init__(self, app: Any, path_suffix: str, action: Any, *, before: bool = False) -> None:
        self.app, self.path_suffix, self.action, self.before = app, path_suffix, action, before
        self.armed = True
        self.outage = False  # while set, look-ups on the same path answer 503
        self.emulator = getattr(app, "emulator", None)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            self.outage
            and scope.get("method") == "GET"
            and scope.get("path", "").endswith(self.path_suffix)
        ):
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        hit = (
            self.armed
            and scope.get("type") == "http"
            and scope.get("method") in ("POST", "PUT")
            and scope.get("path", "").endswith(self.path_suffix)
        )
        if not hit:
            await self.app(scope, receive, send)
            return
        self.armed = False
        if self.before:
            await self.action(send)
            return

        async def swallow(message: Any) -> None:
            return None

        await self.app(scope, receive, swallow)  # the write commits server-side
        await self.action(send)


def add_merchant_custom_fields(org: Any, state: Any) -> None:
    """The custom fields the shipped presets write, created as a merchant would."""
    from ledgerbridge_zohobooks.emulator.state import CustomField

    wanted = {
        "contacts": ["cf_source_customer_id"],
        "invoices": ["cf_source_order_id"],
        "salesreceipts": ["cf_source_order_id"],
        "creditnotes": ["cf_source_order_id"],
        "customerpayments": ["cf_source_order_id"],
    }
    for entity, names in wanted.items():
        for name in names:
            org.custom_fields.setdefault(entity, {})[name] = CustomField(
                state.ids.next(), name, name.replace("cf_", "").replace("_", " ").title()
            )


SHOPIFY_MAPPING = """\
extends: shopify-to-zohobooks
refunds:
  adjustment_account_id: "{sales}"
summary:
  sales_accounts:
    default: "{sales}"
lookups:
  taxes:
    entries:
      - {{title: State Tax, rate: 0.06, tax_id: "{state}"}}
      - {{title: VAT, rate: 0.2, tax_id: "{vat}"}}
      - {{title: Sales Tax, rate: 0.0825, tax_id: "{sales_tax}"}}
      - {{title: GST, rate: 0.1, tax_id: "{gst}"}}
  payment_methods:
    entries:
      shopify_payments: {{payment_mode: creditcard, account_id: "{clearing}"}}
      paypal: {{payment_mode: others, account_id: "{clearing}"}}
      manual: {{payment_mode: banktransfer, account_id: "{checking}"}}
      gift_card: {{payment_mode: others, account_id: "{clearing}"}}
  fee_accounts:
    default: "{sales}"
"""


@contextmanager
def _into_zoho(
    tmp: Path,
    source_app: Any,
    source_faults: FaultConfig,
    clock: InstantClock,
    *,
    connection: Callable[[str], str],
    mapping: Callable[[Harness], str],
    policy: str,
    wrap_zoho: Any,
    db_url: str | None,
    daily_quota: int | None = None,
    books_settings: str = "",
    pipeline_id: str = "pipe",
    trigger: str | None = None,
) -> Iterator[Harness]:
    """Serve a source emulator and the Zoho Books emulator; write the config and mapping.

    ``connection(url)`` gives the YAML of the ``shop`` connection (flow style);
    ``mapping(h)`` the tenant mapping, once the organisation is set up.  ``policy`` None
    leaves the posting policy to the mapping; ``books_settings`` is appended to the Zoho
    connection's settings (``", burst: 100"``); ``trigger`` sets ``posting_trigger``.
    """
    zoho_faults = FaultConfig()
    zoho = zoho_app(faults=zoho_faults)
    zoho.emulator.clock = clock.now  # Zoho's per-minute window runs on the same time
    quota = ""
    if daily_quota is not None:  # a bigger plan than the emulator's default standard one
        zoho.emulator.limits.daily = {"standard": daily_quota}
        quota = f", daily_quota: {daily_quota}"
    with ExitStack() as stack:
        zs = stack.enter_context(serve(wrap_zoho(zoho) if wrap_zoho else zoho))
        ss = stack.enter_context(serve(source_app))
        state = zoho.emulator.state
        refresh = state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT)
        h = Harness(
            root=tmp,
            config_path=tmp / "ledgerbridge.yaml",
            mapping_path=tmp / "mapping.yaml",
            db_url=db_url or f"sqlite:///{tmp / 'state.db'}",
            zoho=zoho,
            source_app=source_app,
            zoho_faults=zoho_faults,
            source_faults=source_faults,
            zoho_url=zs.url,
            source_url=ss.url,
            clock=clock,
        )
        add_merchant_custom_fields(h.org, state)
        h.write_mapping(mapping(h))
        books = (
            f'{{organization_id: "{MAIN_ORG}", api_url: "{zs.url}", '
            f'accounts_url: "{zs.url}"{quota}{books_settings}}}'
        )
        pipeline = "".join(
            f"\n                        {line}"
            for line in (
                f"posting_policy: {policy}" if policy else "",
                f"posting_trigger: {trigger}" if trigger else "",
            )
            if line
        )
        h.config_path.write_text(
            textwrap.dedent(
                f"""\
                version: 1
                database: {h.db_url}
                tenants:
                  - id: acme
                    connections:
                      shop: {connection(ss.url)}
                      books:
                        platform: zohobooks
                        settings: {books}
                        secrets:
                          client_id: "{EMULATOR_CLIENT_ID}"
                          client_secret: "{EMULATOR_CLIENT_SECRET}"
                          refresh_token: "{refresh}"
                    pipelines:
                      - id: {pipeline_id}
                        source: shop
                        target: books
                        mapping: mapping.yaml{pipeline}
                """
            )
        )
        yield h


@contextmanager
def woocommerce_to_zoho(
    tmp: Path,
    *,
    orders: int = 12,
    policy: str = "invoice",
    wrap_zoho: Any = None,
    db_url: str | None = None,
) -> Iterator[Harness]:
    from ledgerbridge_woocommerce.emulator.app import DEFAULT_KEY, DEFAULT_SECRET
    from ledgerbridge_woocommerce.emulator.app import create_app as woo_app
    from ledgerbridge_woocommerce.emulator.data import seed

    faults = FaultConfig()
    woo = woo_app(store=seed(orders=orders), faults=faults)

    def connection(url: str) -> str:
        return (
            f'{{platform: woocommerce, settings: {{store_url: "{url}", allow_http: true, '
            f'currency: USD}}, secrets: {{consumer_key: "{DEFAULT_KEY}", '
            f'consumer_secret: "{DEFAULT_SECRET}"}}}}'
        )

    def mapping(h: Harness) -> str:
        return WOO_MAPPING.format(
            vat10=h.tax_id("VAT 10"),
            clearing=h.account_id("Stripe Clearing"),
            checking=h.account_id("Business Checking"),
            sales=h.account_id("Sales"),
        )

    with _into_zoho(
        tmp, woo, faults, InstantClock(), connection=connection, mapping=mapping,
        policy=policy, wrap_zoho=wrap_zoho, db_url=db_url,
    ) as h:  # fmt: skip
        yield h


@contextmanager
def shopify_to_zoho(
    tmp: Path,
    *,
    orders: int = 50,
    policy: str = "invoice",
    wrap_zoho: Any = None,
    daily_quota: int | None = None,
    **shop: Any,
) -> Iterator[Harness]:
    """Shopify emulator -> Zoho Books emulator; the org gets the shop's tax rates."""
    from ledgerbridge_shopify.emulator.app import DEFAULT_TOKEN
    from ledgerbridge_shopify.emulator.app import create_app as shopify_app
    from ledgerbridge_zohobooks.emulator.state import Tax

    faults, clock = FaultConfig(), InstantClock()  # the shop's cost bucket runs on it too
    shopify = shopify_app(orders=orders, faults=faults, clock=clock.now, **shop)

    def connection(url: str) -> str:
        return (
            f'{{platform: shopify, settings: {{shop: emulated, base_url: "{url}"}}, '
            f'secrets: {{access_token: "{DEFAULT_TOKEN}"}}}}'
        )

    def mapping(h: Harness) -> str:
        state = h.zoho.emulator.state
        for name, pct in (("State Tax 6", "6"), ("VAT 20", "20"), ("Sales Tax 8.25", "8.25")):
            tax = Tax(state.ids.next(), name, Decimal(pct))
            h.org.taxes[tax.tax_id] = tax
        return SHOPIFY_MAPPING.format(
            state=h.tax_id("State Tax 6"),
            vat=h.tax_id("VAT 20"),
            sales_tax=h.tax_id("Sales Tax 8.25"),
            gst=h.tax_id("VAT 10"),
            clearing=h.account_id("Stripe Clearing"),
            checking=h.account_id("Business Checking"),
            sales=h.account_id("Sales"),
        )

    with _into_zoho(
        tmp, shopify, faults, clock, connection=connection, mapping=mapping, policy=policy,
        wrap_zoho=wrap_zoho, db_url=None, daily_quota=daily_quota,
    ) as h:  # fmt: skip
        yield h


A2C_API_KEY = "e2e-api-key"
A2C_STORE_KEY = "e2e-store-key"
A2C_TOKEN = "e2e-hook-token"

A2C_MAPPING = """\
extends: api2cart-to-zohobooks
lookups:
  taxes:
    match_by: title_and_rate
    entries:
      - {{title: Tax, rate: 0.10, tax_id: "{vat10}"}}
      - {{title: Shipping tax, tax_id: "{vat10}"}}
      - {{title: Tax refunded (not itemised), tax_id: "{vat10}"}}
    untaxed: "{zero}"
  payment_methods:
    default: {{payment_mode: creditcard, account_id: "{checking}"}}
"""


@contextmanager
def api2cart_to_zoho(
    tmp: Path,
    *,
    currency: str = "USD",
    api_key: str = A2C_API_KEY,
    store_key: str = A2C_STORE_KEY,
    token: str | None = A2C_TOKEN,
    shop_settings: str = "",
    policy: str | None = "invoice",
    trigger: str | None = None,
    wrap_zoho: Any = None,
) -> Iterator[Harness]:
    """The API2Cart emulator (one Shopify-style store of 12 orders taxed at 10%) -> the Zoho
    Books emulator; pipeline ``cart-books``, the mapping ``A2C_MAPPING`` (the shipped preset
    with the organisation's taxes and account).  The tests run the engine on the real clock
    (``sync_once``), so the Zoho connection gets ``burst: 100``.

    ``h.extra["state"]`` is the emulator's state, ``h.extra["store"]`` the store's data;
    ``shop_settings`` is appended to the connection's settings (``", read_shipments: true"``),
    ``token`` None leaves the webhook token out."""
    from ledgerbridge_api2cart.emulator import create_app, create_state

    state = create_state(
        api_key=api_key, stores={store_key: ("Shopify", currency)}, orders=12,
        tax_rates=(Decimal("0.10"),),
    )  # fmt: skip
    faults = FaultConfig()
    secrets = f'api_key: "{api_key}", store_key: "{store_key}"'
    if token:
        secrets += f', webhook_token: "{token}"'

    def connection(url: str) -> str:
        return (
            f'{{platform: api2cart, settings: {{base_url: "{url}/v1.1", cart: Shopify, '
            f"page_size: 5{shop_settings}}}, secrets: {{{secrets}}}}}"
        )

    def mapping(h: Harness) -> str:
        return A2C_MAPPING.format(
            vat10=h.tax_id("VAT 10"), zero=h.tax_id("Zero"),
            checking=h.account_id("Business Checking"),
        )  # fmt: skip

    with _into_zoho(
        tmp, create_app(state, faults), faults, InstantClock(), connection=connection,
        mapping=mapping, policy=policy, wrap_zoho=wrap_zoho, db_url=None,
        books_settings=", burst: 100", pipeline_id="cart-books", trigger=trigger,
    ) as h:  # fmt: skip
        h.extra.update(state=state, store=state.stores[store_key])
        yield h


def sync_once(config: Path, db: str) -> tuple[Any, Engine]:
    """One ``Engine.sync`` of the config's one pipeline on the real clock: (report, engine)."""
    import anyio

    engine = Engine(load_config(config), Store(db))

    async def main() -> Any:
        async with engine:
            return await engine.sync()

    [report] = anyio.run(main)
    return report, engine


def woo_summary_totals(h: Harness) -> dict[bool, Decimal]:
    """What a daily summary of the WooCommerce emulator's orders should total, per tax mode
    (True: prices include tax): every order that is a sale -- not failed, a draft or in the
    trash, nor cancelled unpaid -- from the emulator's own store."""
    orders = h.source_app.emulator.store.orders
    contributing = [
        o
        for o in orders.values()
        if o["status"] not in ("failed", "checkout-draft", "trash")
        and not (o["status"] == "cancelled" and not o.get("date_paid_gmt"))
    ]
    return {
        inclusive: sum(
            (Decimal(o["total"]) for o in contributing if o["prices_include_tax"] is inclusive),
            Decimal(0),
        )
        for inclusive in (True, False)
    }


def total_of(doc: dict[str, Any]) -> Decimal:
    return Decimal(str(doc["total"]))
