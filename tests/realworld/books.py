"""Reading a corpus order's outcome from the Zoho Books emulator's own state.

Expectations come from the payload's own statements (its total, its tax, its
refunds' amounts); what was booked is read from the emulator, never from our
store -- except a parked record's reason and ``missing_key``, which only our
store holds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlmodel import Session, select

from ledgerbridge.engine.outcomes import RunReport
from ledgerbridge.store.models import SyncRecord

from ..engine.harness import Harness
from .corpus import Absent, Entry, payload

ZERO = Decimal(0)
OPERATOR_RATE = Decimal("1.0836")


def dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else ZERO


def load(entry: Entry) -> dict[str, Any]:
    """The entry's payload, or skip when its source file is absent.

    The repository keeps no copies of third-party files, and a clean CI machine has no network
    to fetch them: those entries skip, saying so.  A vendor example missing from
    ../shared/refdata fails under CI, which provides it."""
    try:
        return payload(entry)
    except Absent as exc:
        if os.environ.get("CI") and not exc.third_party:
            pytest.fail(f"CI must run the real-world corpus: {exc} (../shared/refdata)")
        pytest.skip(
            f"{exc}: third-party files are not kept in the repository; fetch them with "
            "`python -m tests.realworld.corpus fill` (network or LEDGERBRIDGE_CORPUS_MIRRORS)"
        )


def sync(h: Harness) -> RunReport:
    engine = h.engine()

    async def run() -> RunReport:
        async with engine:
            [report] = await engine.sync()
            return report

    return anyio.run(run)


def records(h: Harness) -> dict[str, SyncRecord]:
    """Order records of the pipeline, by external id."""
    store = h.store()
    with Session(store.engine) as session:
        rows = session.exec(select(SyncRecord).where(SyncRecord.entity == "order")).all()
        return {r.external_id: r for r in rows}


@dataclass
class Booked:
    """What Zoho holds for one order number."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    payments: list[Decimal] = field(default_factory=list)

    @property
    def document(self) -> dict[str, Any]:
        assert len(self.documents) == 1, f"{len(self.documents)} live documents"
        return self.documents[0]

    def tax_total(self) -> Decimal:
        doc = self.document
        if "tax_total" in doc:
            return dec(doc["tax_total"])
        return sum((dec(t.get("tax_amount")) for t in doc.get("taxes") or []), ZERO)

    def credited(self) -> Decimal:
        return sum((dec(n["total"]) for n in self.notes), ZERO)


def _live(rows: Iterator[dict[str, Any]], number: str) -> list[dict[str, Any]]:
    return [
        r for r in rows if r.get("status") != "void" and r.get("reference_number", "") == number
    ]


def booked(h: Harness, number: str) -> Booked:
    org = h.org
    found = Booked(
        documents=_live(iter(org.invoices.values()), number)
        + _live(iter(org.salesreceipts.values()), number),
        notes=_live(iter(org.creditnotes.values()), number),
    )
    ids = {d.get("invoice_id") for d in found.documents}
    for p in org.payments.values():
        for applied in p.get("invoices") or []:
            if applied["invoice_id"] in ids:
                found.payments.append(dec(applied["amount_applied"]))
    return found


# ---------------------------------------------------------------- following advice


def read_order(h: Harness, external_id: str) -> Any:
    """The order as the real source connector maps it (for the rates an operator reads)."""
    from ledgerbridge.canonical import EntityType

    engine = h.engine()

    async def run() -> Any:
        async with engine:
            return await engine.source("acme", "shop").fetch(EntityType.ORDER, external_id)

    return anyio.run(run)


def _stated_rate(order: Any, title: str) -> Decimal | None:
    stated = {t.rate for t in order.all_tax_lines() if t.title == title and t.rate is not None}
    return stated.pop() if len(stated) == 1 else None


def _rate_of(order: Any, title: str) -> Decimal:
    """The rate the order charged under ``title``: stated, else tax over its taxed base."""
    stated = _stated_rate(order, title)
    if stated is not None:
        return stated
    tax = base = ZERO
    for line in order.lines:
        for t in line.taxes:
            if t.title == title:
                tax += t.amount.amount
                base += line.net.amount if hasattr(line, "net") else line.gross.amount
    assert base, f"no taxed base for {title!r}"
    return (tax / base).quantize(Decimal("0.0001"))


def follow(h: Harness, record: SyncRecord) -> str:
    """Do what the parked record's advice says, as an operator would: the key it names
    is added to the tenant mapping (with a target tax created at the order's rate when
    the key is a tax).  Returns the key followed; unknown advice fails the test."""
    import yaml

    from ledgerbridge_zohobooks.emulator.state import Tax

    key = record.missing_key or ""
    kind, _, name = key.partition(":")
    mapping = yaml.safe_load(h.mapping_path.read_text())
    lookups = mapping.setdefault("lookups", {})
    if kind == "tax":
        order = read_order(h, record.external_id)
        named = re.fullmatch(r"(.*) \(([0-9.]+)\)", name)  # "Title (rate)" when it has one
        if named:
            name = named.group(1)
        rate = Decimal(named.group(2)) if named else _rate_of(order, name)
        state = h.zoho.emulator.state
        tax = Tax(state.ids.next(), f"{name} {rate * 100:g}"[:50], rate * 100)
        h.org.taxes[tax.tax_id] = tax
        entries = lookups.setdefault("taxes", {}).setdefault("entries", [])
        entry: dict[str, Any] = {"title": name, "tax_id": tax.tax_id}
        if named or _stated_rate(order, name) is not None:
            entry["rate"] = str(rate)
        entries.append(entry)
    elif kind in ("payment_method", "payment_account"):
        methods = lookups.setdefault("payment_methods", {}).setdefault("entries", {})
        methods[name] = {
            "payment_mode": "creditcard",
            "account_id": h.account_id("Stripe Clearing"),
        }
    elif kind == "exchange_rate":
        # The operator's rate for the day (an input, not an expectation: totals are
        # checked in the document's own currency).
        rates = lookups.setdefault("currencies", {}).setdefault("exchange_rates", {})
        rates[name] = str(OPERATOR_RATE)
    else:
        pytest.fail(f"advice names {key!r}, which this test cannot follow: {record.reason}")
    h.mapping_path.write_text(yaml.safe_dump(mapping, sort_keys=False))
    from ledgerbridge.errors import ConfigError
    from ledgerbridge.mapping import load_mapping

    try:
        load_mapping(h.mapping_path)
    except ConfigError as exc:
        pytest.fail(
            f"the advice {key!r} cannot be followed: the mapping it asks for is refused ({exc})"
        )
    return key


async def _replay(h: Harness, record_id: int | None) -> None:
    engine = h.engine()
    async with engine:
        await engine.replay([record_id] if record_id is not None else None)


def post_following_advice(
    h: Harness, external_id: str, limit: int = 4, *, first: Any = None
) -> tuple[SyncRecord, list[str]]:
    """Sync (or ``first(h)``); while the order is parked for a mapping key, follow the
    advice and replay.  Returns the final record and the keys followed."""
    (first or sync)(h)
    followed: list[str] = []
    for _ in range(limit):
        record = records(h)[external_id]
        if record.state != "needs_mapping":
            return record, followed
        assert record.missing_key, f"parked without a key to set: {record.reason}"
        followed.append(follow(h, record))
        anyio.run(_replay, h, record.id)
    return records(h)[external_id], followed


# ---------------------------------------------------------------- API2Cart into Zoho

A2C_KEY, A2C_STORE = "corpus-api-key", "corpus-store-key"


@contextmanager
def api2cart_to_zoho(tmp: Path, cart: str, currency: str) -> Iterator[Harness]:
    """The API2Cart emulator (one empty store of ``cart``) -> the Zoho Books emulator,
    wired like the other platforms' harnesses; the mapping starts from the shipped preset."""
    from ledgerbridge.sandbox import FaultConfig
    from ledgerbridge_api2cart.emulator import create_app, create_state

    from ..engine.harness import InstantClock, _into_zoho

    state = create_state(api_key=A2C_KEY, stores={A2C_STORE: (cart, currency)}, orders=0)
    faults = FaultConfig()

    def connection(url: str) -> str:
        return (
            f'{{platform: api2cart, settings: {{base_url: "{url}/v1.1", cart: {cart}}}, '
            f'secrets: {{api_key: "{A2C_KEY}", store_key: "{A2C_STORE}"}}}}'
        )

    def mapping(h: Harness) -> str:
        return (
            "extends: api2cart-to-zohobooks\n"
            f'refunds: {{adjustment_account_id: "{h.account_id("Sales")}"}}\n'
        )

    with _into_zoho(
        tmp, create_app(state, faults), faults, InstantClock(), connection=connection,
        mapping=mapping, policy="invoice", wrap_zoho=None, db_url=None,
    ) as h:  # fmt: skip
        store = state.stores[A2C_STORE]
        store.deleted.clear()  # the seed's deleted orders are no part of the corpus
        h.extra["store"] = store
        yield h


# ---------------------------------------------------------------- Shopify webhooks into Zoho

SHOPIFY_SECRET = "corpus-app-secret"


@contextmanager
def shopify_rest_to_zoho(tmp: Path) -> Iterator[Harness]:
    """The Shopify emulator (no seeded orders; REST orders put in ``rest_orders``) ->
    the Zoho Books emulator, the connection re-reading orders through REST."""
    from ledgerbridge.sandbox import FaultConfig
    from ledgerbridge_shopify.emulator.app import DEFAULT_TOKEN
    from ledgerbridge_shopify.emulator.app import create_app as shopify_app

    from ..engine.harness import InstantClock, _into_zoho

    faults, clock = FaultConfig(), InstantClock()
    shop = shopify_app(orders=0, customers=0, products=0, faults=faults, clock=clock.now)

    def connection(url: str) -> str:
        return (
            f'{{platform: shopify, settings: {{shop: emulated, base_url: "{url}", '
            f'fetch_api: rest}}, secrets: {{access_token: "{DEFAULT_TOKEN}", '
            f'app_secret: "{SHOPIFY_SECRET}"}}}}'
        )

    def mapping(h: Harness) -> str:
        return (
            "extends: shopify-to-zohobooks\n"
            f'refunds: {{adjustment_account_id: "{h.account_id("Sales")}"}}\n'
        )

    with _into_zoho(
        tmp, shop, faults, clock, connection=connection, mapping=mapping, policy="invoice",
        wrap_zoho=None, db_url=None,
    ) as h:  # fmt: skip
        yield h


def deliver(h: Harness, topic: str, body: bytes) -> Any:
    """POST a signed Shopify delivery to the real receiver, then process the inbox."""
    import base64
    import hashlib
    import hmac

    import httpx

    from ledgerbridge.webhooks import app as receiver_app
    from ledgerbridge.webhooks import started

    signature = base64.b64encode(
        hmac.new(SHOPIFY_SECRET.encode(), body, hashlib.sha256).digest()
    ).decode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Webhook-Id": hashlib.sha256(topic.encode() + body).hexdigest()[:32],
        "content-type": "application/json",
    }
    engine = h.engine()

    async def run() -> Any:
        async with engine:
            receiver = receiver_app(h.config_path, engine=engine)
            async with (
                started(receiver),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(receiver), base_url="http://hooks"
                ) as client,
            ):
                answer = await client.post("/webhooks/acme/shop", content=body, headers=headers)
                assert answer.status_code == 200, answer.text
            return await engine.process_inbox()

    return anyio.run(run)


def cases(entries: list[Entry]) -> list[Any]:
    """Parameters for a posting test: an entry known to park for now is a strict xfail
    (its fix shows as a failure, so the expectation gets updated)."""
    return [
        pytest.param(e, id=e.name, marks=pytest.mark.xfail(strict=True, reason=e.expect))
        if e.expect.startswith("park-for-now")
        else pytest.param(e, id=e.name)
        for e in entries
    ]


def assert_held(h: Harness, record: SyncRecord, entry: Entry, number: str) -> None:
    """A refused or skipped entry: the state its expectation names, the reason it gives,
    and nothing live in the books."""
    kind = entry.expect.split(":", 1)[0]
    wanted = {"refused": "failed", "skipped": "skipped"}[kind]
    assert record.state == wanted, (record.state, record.reason)
    assert entry.because in (record.reason or ""), record.reason
    books = booked(h, number)
    assert not books.documents and not books.notes
