"""Properties of the money under a daily summary (``engine/summary_money.py``).

For random days of orders (several gateways, captures and authorisations, partial
refunds paid back through one or two gateways -- not necessarily the capture's --, store
credit with no money moving): the money each gateway contributes is exactly what it
captured minus what it paid back, per refund day; amounts keep the currency's precision
and are never negative; what a re-close owes is exactly the change since the last close,
and a re-close with no change owes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledgerbridge.canonical import Order
from ledgerbridge.engine.summary_money import (
    allocate,
    money_contribution,
    per_gateway,
    posted_per_gateway,
)

from ..canonical_factory import m, order_data
from .support import bounded

GATEWAYS = ["stripe", "paypal", "bacs"]
PLACES = {"USD": Decimal("0.01"), "JPY": Decimal("1")}
DAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Runtime:
    """The two mapping reads ``money_contribution`` makes: a gateway's mode and account."""

    def payment(self, order: Any, payment: Any, link: Any, trace: Any) -> Any:
        when = payment.processed_at or order.created_at
        return SimpleNamespace(
            payment_mode=payment.gateway, account_id=f"acct-{payment.gateway}", date=when.date()
        )

    def credit_refund(self, order: Any, refund: Any, link: Any, trace: Any) -> Any:
        gateway = next(t for t in refund.transactions if t.is_money_out).gateway
        return SimpleNamespace(payment_mode=gateway, from_account_id=f"acct-{gateway}")


def amount(draw: Any, currency: str, top: int = 50000) -> Decimal:
    return Decimal(draw(st.integers(1, top))) * PLACES[currency]


@st.composite
def days(draw: Any) -> tuple[str, list[Order], dict[str, Decimal], dict[str, dict[str, Decimal]]]:
    """Orders of one day in one currency, and the money per gateway they really moved."""
    currency = draw(st.sampled_from(sorted(PLACES)))
    captured: dict[str, Decimal] = {}
    returned: dict[str, dict[str, Decimal]] = {}
    orders = []
    for n in range(draw(st.integers(1, 4))):
        payments, refunds = [], []
        paid_total = Decimal(0)
        for i in range(draw(st.integers(0, 3))):
            gateway = draw(st.sampled_from(GATEWAYS))
            value = amount(draw, currency)
            kind = draw(st.sampled_from(["sale", "capture", "authorization"]))
            late = timedelta(days=draw(st.integers(0, 2)))  # a late capture
            payments.append({
                "external_id": f"p{n}-{i}", "kind": kind, "status": "success",
                "amount": m(str(value), currency), "gateway": gateway,
                "processed_at": DAY + late,
            })  # fmt: skip
            if kind != "authorization":
                captured[gateway] = captured.get(gateway, Decimal(0)) + value
                paid_total += value
        for r in range(draw(st.integers(0, 2))):
            credit = amount(draw, currency, 20000)
            when = DAY + timedelta(days=draw(st.integers(0, 3)))
            txs = []
            if draw(st.booleans()):  # money moves (else: store credit only)
                parts = draw(st.integers(1, 2))
                first = (
                    credit if parts == 1 else amount(draw, currency, int(credit / PLACES[currency]))
                )
                split = [first] if parts == 1 or first == credit else [first, credit - first]
                for k, part in enumerate(split):
                    gateway = draw(st.sampled_from(GATEWAYS))
                    txs.append({
                        "external_id": f"r{n}-{r}-{k}", "kind": "refund", "status": "success",
                        "amount": m(str(part), currency), "gateway": gateway,
                    })  # fmt: skip
                    bucket = returned.setdefault(when.date().isoformat(), {})
                    bucket[gateway] = bucket.get(gateway, Decimal(0)) + part
            refunds.append({
                "source": {"platform": "test", "store": "s1", "external_id": f"R{n}-{r}"},
                "processed_at": when, "adjustment": m(str(credit), currency), "transactions": txs,
            })  # fmt: skip
        data = order_data(currency=currency, payments=payments, refunds=refunds)
        if currency == "JPY":  # a 0-decimal currency: the order's own amounts in yen
            data["lines"][0].update(unit_price=m("1000", "JPY"), discount=None, taxes=[])
            data.update(shipping_lines=[], totals={"total": m("2000", "JPY")})
        orders.append(Order.model_validate(data))
    return currency, orders, captured, returned


def _summed(orders: list[Order]) -> tuple[dict[str, Decimal], dict[str, dict[str, Decimal]]]:
    contributions = [money_contribution(o, Runtime(), []) for o in orders]
    paid = per_gateway(c["paid"] for c in contributions)
    days_back: dict[str, list[dict[str, str]]] = {}
    for c in contributions:
        for day, per in c["refunded"].items():
            days_back.setdefault(day, []).append(per)
    back = {day: per_gateway(pers) for day, pers in days_back.items()}
    return paid, back


def _nonzero(d: dict[str, Decimal]) -> dict[str, Decimal]:
    return {k: v for k, v in d.items() if v}


@bounded(60)
@given(days())
def test_each_gateways_money_is_what_it_captured_and_paid_back(day: Any) -> None:
    currency, orders, captured, returned = day
    paid, back = _summed(orders)
    assert _nonzero(paid) == _nonzero(captured)
    assert {d: _nonzero(p) for d, p in back.items() if _nonzero(p)} == {
        d: _nonzero(p) for d, p in returned.items() if _nonzero(p)
    }
    for value in [*paid.values(), *(v for p in back.values() for v in p.values())]:
        assert value >= 0
        assert value == value.quantize(PLACES[currency])


@bounded(60)
@given(
    st.lists(st.integers(0, 100000), min_size=1, max_size=4),
    st.lists(st.integers(0, 100000), min_size=1, max_size=4),
    st.sampled_from(sorted(PLACES)),
)
def test_a_reclose_owes_exactly_the_change_and_nothing_when_nothing_changed(
    before: list[int], after: list[int], currency: str
) -> None:
    """Earlier closes posted ``before`` (one binding per write); the orders now say
    ``after``: the next write is the difference, never below zero, and a further close
    with the write bound owes nothing."""
    q = PLACES[currency]
    bindings = [
        SimpleNamespace(target_kind=f"summary_payment|stripe|{i + 1}",
                        snapshot={"amount": str(Decimal(v) * q)})
        for i, v in enumerate(before)
    ]  # fmt: skip
    posted, last = posted_per_gateway(bindings, "summary_payment")
    now = per_gateway([{"stripe": str(Decimal(v) * q)} for v in after])
    due = now["stripe"] - posted.get("stripe", Decimal(0))
    assert due == (sum(after) - sum(before)) * q
    assert last["stripe"] == len(before)
    if due > 0:
        bindings.append(SimpleNamespace(target_kind=f"summary_payment|stripe|{len(before) + 1}",
                                        snapshot={"amount": str(due)}))  # fmt: skip
        posted, _ = posted_per_gateway(bindings, "summary_payment")
        assert now["stripe"] - posted["stripe"] == 0


@bounded(80)
@given(
    st.integers(0, 100000),
    st.lists(st.integers(0, 100000), min_size=0, max_size=4),
)
def test_allocation_never_exceeds_a_balance_nor_the_amount(total: int, balances: list[int]) -> None:
    q = Decimal("0.01")
    docs = [(f"d{i}", Decimal(b) * q) for i, b in enumerate(balances)]
    out = allocate(Decimal(total) * q, docs)
    owed = dict(docs)
    assert all(0 < a <= owed[d] for d, a in out)
    assert sum((a for _, a in out), Decimal(0)) == min(
        Decimal(total) * q, sum(owed.values(), Decimal(0))
    )
