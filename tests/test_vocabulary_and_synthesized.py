"""Platform words declared as a ``Vocabulary`` and the payments a source synthesizes
(``contracts.synthesized``): the rules every source shares."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import NoReturn

import pytest

from ledgerbridge.canonical import Money, OrderStatus, PaymentKind, Refund, SourceRef
from ledgerbridge.contracts.synthesized import money_returned, paid_back, paid_in_full
from ledgerbridge.contracts.vocabulary import Vocabulary, plain_words
from ledgerbridge.errors import ValidationFailed

STATUSES = Vocabulary(
    {"on hold": OrderStatus.ON_HOLD, "shipped": OrderStatus.COMPLETED}, normalise=plain_words
)


def test_the_connections_own_words_win_then_the_table_then_unknown():
    assert STATUSES.meaning("wc-on-hold", unknown=OrderStatus.UNKNOWN) is OrderStatus.ON_HOLD
    assert STATUSES.meaning("OnHold", unknown=OrderStatus.UNKNOWN) is OrderStatus.ON_HOLD
    own = {"Shipped": OrderStatus.OPEN}  # a merchant's plugin uses the word its own way
    assert (
        STATUSES.meaning("Shipped", overrides=own, unknown=OrderStatus.UNKNOWN) is OrderStatus.OPEN
    )
    assert STATUSES.meaning("shipped", overrides=own, unknown=OrderStatus.UNKNOWN) is (
        OrderStatus.COMPLETED  # overrides match exactly as typed; the table after normalising
    )
    assert STATUSES.meaning("awaiting-pickup", unknown=OrderStatus.UNKNOWN) is OrderStatus.UNKNOWN
    # spellings in order: the first one either table knows
    assert STATUSES.meaning(None, "17", "Shipped", unknown=OrderStatus.UNKNOWN) is (
        OrderStatus.COMPLETED
    )


def test_a_word_that_must_be_understood_is_refused_naming_it():
    kinds = Vocabulary({"capture": "capture"}, normalise=str.lower)

    def refuse(word: str | None) -> NoReturn:
        raise ValueError(f"unknown {word!r}")

    assert kinds.required("CAPTURE", refuse=refuse) == "capture"
    assert kinds.required("success", overrides={"success": "sale"}, refuse=refuse) == "sale"
    with pytest.raises(ValueError, match="unknown 'success'"):
        kinds.required("success", refuse=refuse)


WHEN = datetime(2026, 3, 1, 12, tzinfo=UTC)


def refund(ident: str, amount: str, transactions: tuple = ()) -> Refund:
    return Refund(
        source=SourceRef(platform="shop", store="s", external_id=ident),
        created_at=WHEN,
        adjustment=Money(amount=Decimal(amount), currency="EUR"),
        transactions=transactions,
    )


def test_a_synthesized_payment_has_an_id_that_never_changes_between_reads():
    paid = paid_in_full("1001", Money(amount=Decimal("10.00"), currency="EUR"), gateway="stripe")
    assert (paid.external_id, paid.kind, paid.processed_at) == ("1001:paid", PaymentKind.SALE, None)
    assert paid == paid_in_full("1001", paid.amount, gateway="stripe")


def test_money_returned_gives_each_refund_without_a_transaction_its_credit_back():
    already = paid_back("r2:bank", Money(amount=Decimal("1"), currency="EUR"), gateway=None,
                        processed_at=WHEN)  # fmt: skip
    first, second = money_returned((refund("r1", "4.00"), refund("r2", "1", (already,))), "stripe")
    [back] = first.transactions
    assert (back.external_id, back.kind, back.gateway) == (
        "r1:returned",
        PaymentKind.REFUND,
        "stripe",
    )
    assert back.amount == first.credit_total and back.processed_at == WHEN
    assert first.extra["money_back"] == "synthesized"
    assert second.transactions == (already,) and "money_back" not in second.extra


def test_money_returned_refuses_a_refund_stating_no_amount_naming_it():
    """No amount, no currency to pay back in: refused naming its path (or its id)."""
    empty = Refund(source=SourceRef(platform="shop", store="s", external_id="r9"))
    with pytest.raises(ValidationFailed, match=r"^order 1.refunds\[1\] states no amount ") as e:
        money_returned((refund("r1", "4.00"), empty), None, ["x", "order 1.refunds[1]"])
    assert e.value.details == {"field": "order 1.refunds[1]"}
    with pytest.raises(ValidationFailed, match=r"^refund r9 states no amount "):
        money_returned((empty,), None)
    assert money_returned((), None) == ()
