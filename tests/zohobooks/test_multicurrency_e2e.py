"""Multi-currency end to end, verified from the Zoho Books emulator's books (base USD).

Each source through the real engine (emulators on loopback, the real mapping, a SQLite
store), each order with a refund, under the pipeline's policies (docs/multi-currency.md):

* Shopify, shop USD / presentment EUR: ``book_in: shop`` books USD amounts and no rate;
  ``book_in: presentment`` books the EUR amounts the customer paid at the rate the two
  stated totals give; the credit note at the original rate or at the rate the refund
  itself states (``refund_rate``).
* WooCommerce and API2Cart state one currency (EUR here): the rate comes from the
  fallback -- the mapping's ``exchange_rates`` or Zoho's own rate of the day
  (``fallback_rate: target``) -- and a refund on another day gets the original rate or
  that day's (``refund_rate``).

Every amount is asserted to the cent in the document currency and in the base currency
(``bcy_total`` = total x rate, rounded, as Zoho computes it).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlmodel import select

from ledgerbridge.store import SyncRecord
from tests.engine.harness import Harness, shopify_to_zoho, woocommerce_to_zoho

pytestmark = pytest.mark.usefixtures("secret_key")

CENT = Decimal("0.01")
RATE = Decimal("0.000001")
N = 7  # the Shopify emulator's order 7: presentment EUR (n % 5 == 2), partly refunded (n % 7)


def _run(h: Harness, call: str = "sync", **kw: Any) -> Any:
    engine = h.engine()

    async def main() -> Any:
        async with engine:
            return await getattr(engine, call)(**kw)

    return anyio.run(main)


def _records(h: Harness) -> list[SyncRecord]:
    with h.store().session() as s:
        return list(s.exec(select(SyncRecord)).all())


def _with_currency_rules(h: Harness, rules: str) -> None:
    text = h.mapping_path.read_text()
    assert "lookups:\n" in text
    h.mapping_path.write_text(text.replace("lookups:\n", "lookups:\n" + rules, 1))


def _bcy(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(CENT, ROUND_HALF_UP)


def _shop_order(h: Harness) -> dict[str, Any]:
    from ledgerbridge_shopify.emulator.seed import ORDER_BASE

    found = h.source_app.shop.orders.get(ORDER_BASE + N)
    assert found is not None and found["presentmentCurrencyCode"] == "EUR" and found["refunds"]
    return found


def _money(bag: dict[str, Any], side: str) -> Decimal:
    return Decimal(bag[side]["amount"])


def _only(h: Harness, kind: str, number: str) -> dict[str, Any]:
    docs = [d for d in h.documents(kind) if d.get("reference_number") == number]
    assert len(docs) == 1, (kind, number, [d.get("reference_number") for d in h.documents(kind)])
    return docs[0]


def _refund_at(raw: dict[str, Any], shop_per_eur: Decimal) -> dict[str, Any]:
    """The order with its refund stated in shop money at another rate (the refund day's)."""
    changed = copy.deepcopy(raw)

    def restate(value: Any) -> None:
        if isinstance(value, dict):
            if "shopMoney" in value and "presentmentMoney" in value:
                eur = Decimal(value["presentmentMoney"]["amount"])
                value["shopMoney"]["amount"] = str((eur * shop_per_eur).quantize(CENT))
            for v in value.values():
                restate(v)
        elif isinstance(value, list):
            for v in value:
                restate(v)

    restate(changed["refunds"])
    return changed


@pytest.mark.parametrize("book_in", ["shop", "presentment"])
def test_shopify_shop_usd_presentment_eur_with_a_refund(tmp_path: Path, book_in: str) -> None:
    with shopify_to_zoho(tmp_path, orders=N + 1) as h:
        _with_currency_rules(h, f"  currencies:\n    book_in: {book_in}\n")
        raw = _shop_order(h)
        _run(h)
        assert all(r.state in ("synced", "skipped") for r in _records(h)), [
            (r.external_id, r.state, r.reason) for r in _records(h) if r.state != "synced"
        ]
        number = raw["name"]
        invoice = _only(h, "invoices", number)
        [refund] = raw["refunds"]
        shop_total = _money(raw["totalPriceSet"], "shopMoney")
        eur_total = _money(raw["totalPriceSet"], "presentmentMoney")
        note = _only(h, "creditnotes", number)
        refunded = _money(refund["totalRefundedSet"], "shopMoney")
        refunded_eur = _money(refund["totalRefundedSet"], "presentmentMoney")
        contact = h.org.contacts[invoice["customer_id"]]
        if book_in == "shop":
            assert invoice["currency_code"] == contact["currency_code"] == "USD"
            assert invoice["total"] == shop_total and invoice["bcy_total"] == shop_total
            assert note["currency_code"] == "USD" and note["total"] == refunded
            assert Decimal(str(invoice.get("exchange_rate", 1))) == 1
            return
        rate = (shop_total / eur_total).quantize(RATE, ROUND_HALF_UP)
        assert invoice["currency_code"] == contact["currency_code"] == "EUR"
        assert invoice["total"] == eur_total  # what the customer paid, to the cent
        assert invoice["exchange_rate"] == rate
        assert invoice["bcy_total"] == _bcy(eur_total, rate)
        assert abs(invoice["bcy_total"] - shop_total) <= CENT  # the shop's USD, within a cent
        assert note["currency_code"] == "EUR" and note["total"] == refunded_eur
        assert note["exchange_rate"] == rate  # refund_rate: original (the default)
        assert note["bcy_total"] == _bcy(refunded_eur, rate)
        [payment] = [
            p for p in h.org.payments.values() if p["customer_id"] == contact["contact_id"]
        ]
        assert payment["currency_code"] == "EUR" and payment["exchange_rate"] == rate
        assert invoice["balance"] == 0 and note["balance"] == 0  # paid; refund paid back


def test_shopify_refund_day_rate_is_the_rate_the_refund_states(tmp_path: Path) -> None:
    with shopify_to_zoho(tmp_path, orders=N + 1) as h:
        _with_currency_rules(
            h, "  currencies:\n    book_in: presentment\n    refund_rate: refund_day\n"
        )
        shop = h.source_app.shop
        raw = _refund_at(_shop_order(h), Decimal("1.15"))
        shop.touch_order(N, refunds=raw["refunds"])
        raw = _shop_order(h)
        _run(h)
        number = raw["name"]
        [refund] = raw["refunds"]
        note = _only(h, "creditnotes", number)
        invoice = _only(h, "invoices", number)
        eur = _money(refund["totalRefundedSet"], "presentmentMoney")
        assert note["currency_code"] == "EUR" and note["total"] == eur
        assert note["exchange_rate"] != invoice["exchange_rate"]
        assert abs(note["exchange_rate"] - Decimal("1.15")) < Decimal("0.001")
        assert abs(note["bcy_total"] - _money(refund["totalRefundedSet"], "shopMoney")) <= CENT


# --------------------------------------------------------------------- one-currency sources
#
# Zoho's own rates (GET /settings/currencies/{id}/exchangerates, emulated): a distinct EUR
# rate for every day, so the rate a document got names the day it was taken for.

FIRST_DAY = date(2020, 1, 1)


def _rate_of(day: date) -> Decimal:
    return Decimal("1.05") + Decimal((day - FIRST_DAY).days) / Decimal(100000)


def _zoho_rates(org: Any) -> None:
    [cid] = [c for c, row in org.currencies.items() if row["currency_code"] == "EUR"]
    org.exchange_rates[cid] = [
        {
            "exchange_rate_id": str(8_000_000 + i),
            "effective_date": (FIRST_DAY + timedelta(days=i)).isoformat(),
            "rate": _rate_of(FIRST_DAY + timedelta(days=i)),
        }
        for i in range(0, 4000)
    ]


POLICIES = [
    ("mapping", "original", "shop"),
    ("target", "original", "shop"),
    ("target", "refund_day", "shop"),
    ("mapping", "refund_day", "shop"),
    # One currency stated: booked in it under either book_in policy.
    ("target", "refund_day", "presentment"),
    ("mapping", "original", "presentment"),
]

MAPPED = Decimal("1.0912")  # lookups.currencies.exchange_rates.EUR


def _rules(fallback: str, refund_rate: str, book_in: str) -> str:
    return (
        "  currencies:\n"
        f"    book_in: {book_in}\n"
        f"    fallback_rate: {fallback}\n"
        f"    refund_rate: {refund_rate}\n"
        f"    exchange_rates: {{EUR: {MAPPED}}}\n"
    )


def _check_books(
    org: Any, invoice: dict[str, Any], note: dict[str, Any], fallback: str, refund_rate: str
) -> None:
    """Both documents in EUR on the EUR contact, at the rate the policy names, to the cent
    in EUR and in USD (``bcy_total``)."""
    invoice_day = date.fromisoformat(invoice["date"])
    note_day = date.fromisoformat(note["date"])
    assert note_day > invoice_day  # the refund came on a later day
    assert invoice["currency_code"] == note["currency_code"] == "EUR"
    assert org.contacts[invoice["customer_id"]]["currency_code"] == "EUR"
    if fallback == "mapping":
        expected_invoice = expected_note = MAPPED  # one configured rate: both days alike
    else:
        expected_invoice = _rate_of(invoice_day)
        expected_note = _rate_of(note_day) if refund_rate == "refund_day" else expected_invoice
    assert invoice["exchange_rate"] == expected_invoice
    assert note["exchange_rate"] == expected_note
    assert invoice["bcy_total"] == _bcy(invoice["total"], expected_invoice)
    assert note["bcy_total"] == _bcy(note["total"], expected_note)


@pytest.mark.parametrize(("fallback", "refund_rate", "book_in"), POLICIES)
def test_woocommerce_order_in_eur_with_a_refund(
    tmp_path: Path, fallback: str, refund_rate: str, book_in: str
) -> None:
    from ledgerbridge_woocommerce.emulator.data import add_refund

    with woocommerce_to_zoho(tmp_path, orders=6) as h:
        orders = h.source_app.emulator.store.orders
        [oid] = [
            i
            for i, o in sorted(orders.items())
            if o["status"] in ("processing", "completed")
            and o["date_paid_gmt"]
            and Decimal(o["line_items"][0]["total_tax"]) > 0
            and o["payment_method"] in ("stripe", "bacs")
        ][:1]
        order = orders[oid]
        order["currency"] = "EUR"
        paid = datetime.fromisoformat(order["date_paid_gmt"]).replace(tzinfo=UTC)
        refund = add_refund(h.source_app.emulator.store, order, "partial", paid + timedelta(days=3))
        _zoho_rates(h.org)
        _with_currency_rules(h, _rules(fallback, refund_rate, book_in))
        _run(h)
        states = {r.external_id: (r.state, r.reason) for r in _records(h)}
        assert states[str(oid)][0] == "synced", states[str(oid)]
        [invoice] = [d for d in h.documents("invoices") if d["currency_code"] == "EUR"]
        [note] = [d for d in h.documents("creditnotes") if d["currency_code"] == "EUR"]
        assert invoice["total"] == Decimal(order["total"])  # EUR, to the cent
        assert note["total"] == Decimal(refund["amount"])
        _check_books(h.org, invoice, note, fallback, refund_rate)
        assert invoice["balance"] == 0  # paid, in EUR at its own rate


@pytest.mark.parametrize(("fallback", "refund_rate", "book_in"), POLICIES)
def test_api2cart_eur_order_with_a_refund(
    tmp_path: Path, fallback: str, refund_rate: str, book_in: str
) -> None:
    with _api2cart_eur(tmp_path) as (state, org, run):
        orders = state.stores["eur-store"].orders
        refunded = [i for i, o in sorted(orders.items()) if o["refunds"]]
        assert refunded
        oid = refunded[0]
        order = orders[oid]
        created = datetime.strptime(order["create_at"]["value"], "%Y-%m-%dT%H:%M:%S%z")
        later = created + timedelta(days=4)
        order["refunds"][0]["modified_time"] = {
            "value": later.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "format": "Y-m-d\\TH:i:sO",
        }
        _zoho_rates(org)
        run(_rules(fallback, refund_rate, book_in))
        number = str(order.get("order_id") or oid)
        [invoice] = [
            d
            for d in org.invoices.values()
            if d["currency_code"] == "EUR" and d.get("reference_number") == number
        ]
        [note] = [
            d
            for d in org.creditnotes.values()
            if d["currency_code"] == "EUR" and d.get("reference_number") == number
        ]
        assert invoice["total"] == order["total"]["total"]
        assert note["total"] == order["refunds"][0]["total"]
        _check_books(org, invoice, note, fallback, refund_rate)


@contextmanager
def _api2cart_eur(tmp_path: Path) -> Iterator[tuple[Any, Any, Any]]:
    """API2Cart emulator (a Shopify cart selling in EUR) -> Zoho Books emulator (USD); the
    posting policy the preset's.  ``run(rules)`` adds ``rules`` to the mapping's lookups and
    syncs once."""
    from tests.engine.harness import api2cart_to_zoho, sync_once

    with api2cart_to_zoho(
        tmp_path, currency="EUR", api_key="k", store_key="eur-store", token="t", policy=None
    ) as h:
        preset = h.mapping_path.read_text()

        def run(rules: str) -> None:
            h.mapping_path.write_text(preset.replace("lookups:\n", "lookups:\n" + rules, 1))
            sync_once(h.config_path, h.db_url)

        yield h.extra["state"], h.org, run
