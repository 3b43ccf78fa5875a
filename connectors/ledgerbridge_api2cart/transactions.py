"""API2Cart order transactions (``order.transaction.list``) as canonical payments.

From the order alone the connector sees only "paid in full"; the transactions tell an
authorisation voided with nothing captured, two partial captures, a gift-card redemption.
The spec's ``Order_Transaction`` has no ``kind``: what a transaction is can only be read from
its ``status`` text, whose values differ by cart (facts doc §7.5).  So only the words that say
it plainly are known (``WORDS``), the connection's ``transaction_kinds`` names the rest, and
a status neither knows parks the order rather than guess whether money was received.
Refund transactions are skipped: refunds come from ``Order.refunds[]``, and reading both
would count the money back twice.  A transaction ``id`` is not known to be unique beyond
its order, so a payment's id (and ``parent_id``) is ``<order id>:<id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn, get_args

from ledgerbridge.canonical import Payment, PaymentKind, PaymentStatus
from ledgerbridge.contracts.readers import money, text
from ledgerbridge.contracts.vocabulary import Vocabulary
from ledgerbridge.errors import ValidationFailed

from .envelope import PLATFORM
from .fields import amount, in_order, record, rows, timestamp
from .settings import TransactionKind as Kind

METHOD = "order.transaction.list"
ITEMS = "transactions"  # result.transactions (Response_Order_Transaction_List_Result)
READ = "__transactions"  # where the source puts an order's transactions before mapping
KINDS = "__transaction_kinds"  # and the connection's ``transaction_kinds``
# ``params`` defaults to ``id,order_id,amount,description`` (the spec): ask for what is read.
PARAMS = "id,transaction_id,order_id,parent_id,status,description,gateway,currency,amount,"
PARAMS += "created_time,is_test_mode"

# Status words that name what happened without doubt ("success", "completed" are left out:
# they say a transaction went through, not whether it authorised or took money).
_SPELLINGS: dict[Kind, tuple[str, ...]] = {
    "authorization": ("authorization", "authorized", "authorised", "authorize", "auth"),
    "capture": ("capture", "captured"),
    "sale": ("sale", "paid"),
    "void": ("void", "voided"),
    "refund": ("refund", "refunded"),
    "pending": ("pending",),
    "failure": ("failed", "failure", "declined", "error"),
}
WORDS: Vocabulary[Kind] = Vocabulary(
    normalise=lambda word: word.strip().lower(),
    words={word: kind for kind, words in _SPELLINGS.items() for word in words},
)
_AS: dict[str, tuple[PaymentKind, PaymentStatus]] = {
    "authorization": (PaymentKind.AUTHORIZATION, PaymentStatus.SUCCESS),
    "capture": (PaymentKind.CAPTURE, PaymentStatus.SUCCESS),
    "sale": (PaymentKind.SALE, PaymentStatus.SUCCESS),
    "void": (PaymentKind.VOID, PaymentStatus.SUCCESS),
    "pending": (PaymentKind.SALE, PaymentStatus.PENDING),
    "failure": (PaymentKind.SALE, PaymentStatus.FAILURE),
}


def kind_of(status: str | None, overrides: Mapping[str, Kind], where: str) -> Kind:
    """The setting first (case-insensitive too), then the plain words; else the order parks."""

    def refuse(word: str | None) -> NoReturn:
        raise ValidationFailed(
            f"{where}.status {status!r} does not say whether money was taken; name it in "
            "the connection's transaction_kinds setting (authorization, capture, sale, void, "
            "refund, pending, failure or ignore)",
            platform=PLATFORM,
        )

    own = {WORDS.normalise(k): v for k, v in overrides.items()}
    kind = WORDS.required(WORDS.normalise(status or ""), overrides=own, refuse=refuse)
    if kind not in get_args(Kind):  # the setting is checked when loaded; the order may not be
        raise ValidationFailed(
            f"{where}.status {status!r}: transaction_kinds names it {kind!r}, not one of "
            f"{', '.join(get_args(Kind))}",
            platform=PLATFORM,
            details={"field": f"{where}.status"},
        )
    return kind


def paid_through(payments: tuple[Payment, ...], fallback: str | None) -> str | None:
    """The gateway money came in through (the first that names one), for the refunds."""
    return next((p.gateway for p in payments if p.is_money_in and p.gateway), fallback)


def payments(
    order_id: str, raw: Mapping[str, Any], currency: str, notes: dict[str, Any]
) -> tuple[Payment, ...] | None:
    """The order's payments from its transactions; None when none were read (the setting is
    off, or the cart listed none: the order's financial status decides then)."""
    listed = raw.get(READ)
    if not listed:
        return None
    notes["payments_from"] = METHOD
    overrides = record(raw.get(KINDS), in_order(order_id, "transaction_kinds"))
    out = []
    for i, row in enumerate(rows(listed, in_order(order_id, "transactions"))):
        where = in_order(order_id, f"transactions[{i}]")
        kind = kind_of(text(row.get("status")), overrides, where)
        if kind in ("refund", "ignore"):
            continue
        raw_id = text(row.get("id")) or text(row.get("transaction_id"))
        if raw_id is None:
            raise ValidationFailed(f"{where}: no id", platform=PLATFORM)
        value = amount(row.get("amount"), f"{where}.amount")
        if value is None or value < 0:
            raise ValidationFailed(f"{where}.amount: {row.get('amount')!r}", platform=PLATFORM)
        paid_in = text(row.get("currency")) or currency
        if paid_in.upper() != currency.upper():  # the stricter reading: no conversion here
            raise ValidationFailed(
                f"{where}.currency {paid_in} is not the order's {currency}", platform=PLATFORM
            )
        what, status = _AS[kind]
        parent = text(row.get("parent_id"))
        out.append(
            Payment(
                external_id=f"{order_id}:{raw_id}",
                kind=what,
                status=status,
                amount=money(value, currency),
                gateway=text(row.get("gateway")),
                processed_at=timestamp(row.get("created_time"), f"{where}.created_time"),
                parent_id=f"{order_id}:{parent}" if parent else None,
                reference=text(row.get("transaction_id")),
                test=bool(row.get("is_test_mode")),
            )
        )
    return tuple(out)
