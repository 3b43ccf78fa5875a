"""API2Cart payments from ``order.transaction.list`` (connection setting
``read_transactions``), API2Cart emulator -> Zoho Books emulator: an authorisation voided
with nothing captured books nothing; two partial captures are two payments (the ``paid``
trigger waiting until the first); a gift-card redemption lands in the account the
mapping's ``gift_card`` entry names.  Books read from the Zoho emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ledgerbridge.store import RecordState
from ledgerbridge_api2cart.emulator.transactions import transaction
from tests.engine.test_api2cart_shipments import _sync, _touch, wired

pytestmark = pytest.mark.usefixtures("secret_key")


def _read_transactions(config: Path) -> None:
    text = config.read_text()
    assert "read_shipments: true" in text
    config.write_text(text.replace("read_shipments: true", "read_transactions: true"))


def _stamp(minutes_ago: int) -> str:
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _mine(org, oid: str) -> list[dict]:
    return [d for d in org.invoices.values() if d["reference_number"] == oid]


def _payments_of(org, invoice_id: str) -> list[dict]:
    return [
        p
        for p in org.payments.values()
        if any(a["invoice_id"] == invoice_id for a in p["invoices"])
    ]


def test_an_authorisation_voided_with_nothing_captured_books_nothing(tmp_path: Path):
    with wired(tmp_path, "placed") as (store, org, config, db):
        _read_transactions(config)
        oid = next(i for i, o in store.orders.items() if o["status"]["id"] == "pending")
        other = next(
            i for i, o in store.orders.items() if o["status"]["id"] == "pending" and i != oid
        )
        order = store.orders[oid]
        total = order["total"]["total"]
        store.transactions[oid] = [
            transaction(order, "T1", "authorized", total, _stamp(9)),
            transaction(order, "T2", "voided", total, _stamp(8), parent_id="T1"),
        ]
        engine = _sync(config, db)
        assert not _mine(org, oid)
        [skipped] = [r for r in engine.failures([RecordState.SKIPPED]) if r.external_id == oid]
        assert "voided" in skipped.reason
        # A pending order without transactions still posts under `placed`: the setting
        # changes only what the transactions tell.
        assert len(_mine(org, other)) == 1


def test_two_captures_are_two_payments_and_the_paid_trigger_waits_for_the_first(tmp_path: Path):
    with wired(tmp_path, "paid") as (store, org, config, db):
        _read_transactions(config)
        oid = next(i for i, o in store.orders.items() if o["status"]["id"] == "pending")
        order = store.orders[oid]
        total = order["total"]["total"]
        first = (total / 2).quantize(Decimal("0.01"))
        store.transactions[oid] = [transaction(order, "A1", "authorized", total, _stamp(20))]
        engine = _sync(config, db)
        [waiting] = [r for r in engine.failures([RecordState.WAITING]) if r.external_id == oid]
        assert "authorised, not captured" in waiting.reason and str(total) in waiting.reason
        assert not _mine(org, oid)

        store.transactions[oid].append(
            transaction(order, "C1", "captured", first, _stamp(15), parent_id="A1")
        )
        _touch(order, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=15))
        _sync(config, db)
        [invoice] = _mine(org, oid)
        assert Decimal(str(invoice["balance"])) == total - first
        assert [Decimal(str(p["amount"])) for p in _payments_of(org, invoice["invoice_id"])] == [
            first
        ]

        store.transactions[oid].append(
            transaction(order, "C2", "captured", total - first, _stamp(5), parent_id="A1")
        )
        order["status"] = {"id": "processing", "name": "Processing"}
        order["total"]["total_paid"] = total
        _touch(order, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
        engine = _sync(config, db)
        [invoice] = _mine(org, oid)
        pays = _payments_of(org, invoice["invoice_id"])
        states = [(r.state, r.reason) for r in engine.failures(list(RecordState))
                  if r.external_id == oid]  # fmt: skip
        assert sorted(Decimal(str(p["amount"])) for p in pays) == sorted([first, total - first]), (
            states
        )
        assert Decimal(str(invoice["balance"])) == 0


def test_a_gift_card_redemption_lands_in_the_mapped_liability_account(tmp_path: Path):
    with wired(tmp_path, "placed") as (store, org, config, db):
        _read_transactions(config)
        liability = "9" * 18
        org.accounts[liability] = {
            "account_id": liability, "account_name": "Gift Card Liability", "account_code": "",
            "account_type": "other_current_liability", "is_active": True, "parent_account_id": "",
        }  # fmt: skip
        mapping = config.parent / "mapping.yaml"
        mapping.write_text(
            mapping.read_text()
            + f'    entries:\n      gift_card: {{payment_mode: others, account_id: "{liability}"}}\n'
        )
        oid = next(
            i for i, o in store.orders.items()
            if o["total"]["total_paid"] == o["total"]["total"] > 10 and not o["refunds"]
        )  # fmt: skip
        order = store.orders[oid]
        total = order["total"]["total"]
        card = Decimal("10.00")
        store.transactions[oid] = [
            transaction(order, "G1", "paid", card, _stamp(9), gateway="gift_card"),
            transaction(order, "S1", "paid", total - card, _stamp(8)),
        ]
        engine = _sync(config, db)
        found = _mine(org, oid)
        states = [(r.state, r.reason) for r in engine.failures(list(RecordState))
                  if r.external_id == oid]  # fmt: skip
        assert len(found) == 1, states
        [invoice] = found
        by_account = {
            p["account_id"]: Decimal(str(p["amount"]))
            for p in _payments_of(org, invoice["invoice_id"])
        }
        checking = next(a for a in by_account if a != liability)
        assert by_account == {liability: card, checking: total - card}
        assert Decimal(str(invoice["balance"])) == 0


def test_a_status_the_connector_cannot_read_parks_the_order_naming_it(tmp_path: Path):
    with wired(tmp_path, "placed") as (store, org, config, db):
        _read_transactions(config)
        oid = next(
            i
            for i, o in store.orders.items()
            if o["total"]["total_paid"] == o["total"]["total"] > 0
        )
        order = store.orders[oid]
        store.transactions[oid] = [
            transaction(order, "X1", "success", order["total"]["total"], _stamp(9))
        ]
        engine = _sync(config, db)
        assert not _mine(org, oid)
        [parked] = [r for r in engine.failures(list(RecordState)) if r.external_id == oid]
        assert parked.state == RecordState.FAILED
        assert "'success'" in parked.reason and "transaction_kinds" in parked.reason
        # Named in the setting, the same order posts with its one payment.
        text = config.read_text()
        config.write_text(text.replace("read_transactions: true",
                                       "read_transactions: true, transaction_kinds: {Success: sale}"))  # fmt: skip
        _touch(order, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1))
        _sync(config, db)
        [invoice] = _mine(org, oid)
        assert [Decimal(str(p["amount"])) for p in _payments_of(org, invoice["invoice_id"])] == [
            order["total"]["total"]
        ]


def test_transaction_ids_repeating_across_orders_book_each_orders_payment(tmp_path: Path):
    """The spec does not say a transaction ``id`` is unique beyond its order (each row
    carries its ``order_id``); two orders whose carts number their transactions from 1
    must each get their payment, not the second taken for the first's, already booked."""
    with wired(tmp_path, "placed") as (store, org, config, db):
        _read_transactions(config)
        pending = [i for i, o in store.orders.items() if o["status"]["id"] == "pending"][:2]
        assert len(pending) == 2
        for oid in pending:
            order = store.orders[oid]
            store.transactions[oid] = [
                transaction(order, "1", "captured", order["total"]["total"], _stamp(9))
            ]
        _sync(config, db)
        for oid in pending:
            [invoice] = _mine(org, oid)
            pays = _payments_of(org, invoice["invoice_id"])
            assert [Decimal(str(p["amount"])) for p in pays] == [
                Decimal(str(store.orders[oid]["total"]["total"]))
            ], oid
            assert Decimal(str(invoice["balance"])) == 0, oid


def test_read_transactions_switched_on_after_posting_does_not_pay_the_invoice_twice(
    tmp_path: Path,
):
    """Orders posted under the synthesized payment (``<order id>:paid``), then the connection's
    ``read_transactions`` switched on: the transactions are the same money, not posted again;
    transactions adding up to more than was posted park the order, naming the setting."""
    with wired(tmp_path, "placed") as (store, org, config, db):
        paid = [i for i, o in store.orders.items()
                if o["total"]["total_paid"] == o["total"]["total"] > 0 and not o["refunds"]]  # fmt: skip
        oid, more = paid[0], paid[1]
        _sync(config, db)
        invoices = {i: _mine(org, i)[0] for i in (oid, more)}
        for i, invoice in invoices.items():
            [pay] = _payments_of(org, invoice["invoice_id"])
            assert Decimal(str(pay["amount"])) == store.orders[i]["total"]["total"]

        _read_transactions(config)
        order = store.orders[oid]
        total = order["total"]["total"]
        store.transactions[oid] = [transaction(order, "S1", "paid", total, _stamp(4))]
        extra = store.orders[more]
        half = (extra["total"]["total"] / 2).quantize(Decimal("0.01"))
        store.transactions[more] = [
            transaction(extra, "C1", "captured", extra["total"]["total"], _stamp(4)),
            transaction(extra, "C2", "captured", half, _stamp(3)),
        ]
        for o in (order, extra):
            _touch(o, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2))
        engine = _sync(config, db)
        states = {r.external_id: (r.state, r.reason) for r in engine.failures(list(RecordState))}
        # The same money: nothing more posted, the invoice paid once, the order synced.
        assert states[oid][0] == RecordState.SYNCED, states[oid]
        [pay] = _payments_of(org, invoices[oid]["invoice_id"])
        assert Decimal(str(org.invoices[invoices[oid]["invoice_id"]]["balance"])) == 0
        # More than was posted: parked before any write, the reason naming the setting.
        assert states[more][0] == RecordState.FAILED, states[more]
        assert "read_transactions" in (states[more][1] or "")
        assert len(_payments_of(org, invoices[more]["invoice_id"])) == 1
