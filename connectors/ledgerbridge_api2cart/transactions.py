"""API2Cart order transactions (``order.transaction.list``) in canonical payments.

refdata api2cart-openapi ``/order.transaction.list.json`` (``order_ids`` required) answers
``result.transactions[]``, each an ``Order_Transaction``: ``id``, ``transaction_id``,
``parent_id``, ``status``, ``description``, ``gateway``, ``currency``, ``amount``,
``created_time`` (``A2CDateTime``), ``is_test_mode``.  The spec has no ``kind``: what a
transaction *is* (an authorisation, a capture, a void) can only be read from its
``status`` text, whose values the spec does not enumerate and which differ by cart
(``shared/docs/platforms/api2cart.md`` §7.5).  So the connector knows only the words
that say it plainly (``WORDS``); the connection's ``transaction_kinds`` setting names
the rest, and a status neither knows parks the order, naming it, rather than guess
whether money was received.

Why it matters: from the order alone the connector sees only "paid in full" (one
synthesized payment, ``mapper._received_in_full``); the transactions tell an
authorisation voided with nothing captured (nothing to book), two partial captures
(two payments) and a gift-card redemption (its ``gateway``, keyed in
``lookups.payment_methods`` like any gateway).  Refund transactions are not payments
here: refunds come from ``Order.refunds[]`` (``refunds.py``), and reading both would
count the money back twice.

The spec does not say a transaction ``id`` is unique beyond its order (each row carries
its ``order_id``; carts may number an order's transactions from 1), and a payment's id
is what the engine binds it by across the whole connection: so, like a shipment's, a
payment's id (and its ``parent_id``) is ``<order id>:<id>`` -- the stricter reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from ledgerbridge.canonical import Payment, PaymentKind, PaymentStatus
from ledgerbridge.contracts.readers import money, text
from ledgerbridge.contracts.vocabulary import Vocabulary
from ledgerbridge.errors import ValidationFailed

from .envelope import PLATFORM
from .fields import amount, in_order, timestamp
from .settings import TransactionKind as Kind

METHOD = "order.transaction.list"
ITEMS = "transactions"  # result.transactions (Response_Order_Transaction_List_Result)
COUNT = "transactions_count"
READ = "__transactions"  # where the source puts an order's transactions before mapping
KINDS = "__transaction_kinds"  # and the connection's ``transaction_kinds``
# ``params`` defaults to ``id,order_id,amount,description`` (the spec): ask for what is read.
PARAMS = ",".join((
    "id", "transaction_id", "order_id", "parent_id", "status", "description", "gateway",
    "currency", "amount", "created_time", "is_test_mode",
))  # fmt: skip


# The status words that name what happened without doubt.  "success", "completed" and
# the like are left out on purpose: they say a transaction went through, not whether
# it was an authorisation or money taken.
WORDS: Vocabulary[Kind] = Vocabulary(normalise=lambda word: word.strip().lower(), words={
    "authorization": "authorization", "authorized": "authorization",
    "authorised": "authorization", "authorize": "authorization", "auth": "authorization",
    "capture": "capture", "captured": "capture",
    "sale": "sale", "paid": "sale",
    "void": "void", "voided": "void",
    "refund": "refund", "refunded": "refund",
    "pending": "pending",
    "failed": "failure", "failure": "failure", "declined": "failure", "error": "failure",
})  # fmt: skip

_AS: dict[str, tuple[PaymentKind, PaymentStatus]] = {
    "authorization": (PaymentKind.AUTHORIZATION, PaymentStatus.SUCCESS),
    "capture": (PaymentKind.CAPTURE, PaymentStatus.SUCCESS),
    "sale": (PaymentKind.SALE, PaymentStatus.SUCCESS),
    "void": (PaymentKind.VOID, PaymentStatus.SUCCESS),
    "pending": (PaymentKind.SALE, PaymentStatus.PENDING),
    "failure": (PaymentKind.SALE, PaymentStatus.FAILURE),
}


def kind_of(status: str | None, overrides: Mapping[str, Kind], where: str) -> Kind:
    """What a transaction with ``status`` is: the setting first (case-insensitive too), then
    the plain words; a status neither names parks the order."""

    def refuse(word: str | None) -> NoReturn:
        raise ValidationFailed(
            f"{where}.status {status!r} does not say whether money was taken; name it in "
            "the connection's transaction_kinds setting (authorization, capture, sale, void, "
            "refund, pending, failure or ignore)",
            platform=PLATFORM,
        )

    own = {WORDS.normalise(k): v for k, v in overrides.items()}
    return WORDS.required(WORDS.normalise(status or ""), overrides=own, refuse=refuse)


def paid_through(payments: tuple[Payment, ...], fallback: str | None) -> str | None:
    """The gateway money came in through (the first that names one), for the refunds."""
    return next((p.gateway for p in payments if p.is_money_in and p.gateway), fallback)


def payments(
    order_id: str, raw: Mapping[str, Any], currency: str, notes: dict[str, Any]
) -> tuple[Payment, ...] | None:
    """The order's payments from its transactions; None when none were read (the setting
    is off, or the cart answered an empty list: then the order's financial status is the
    fallback, as before).  ``notes`` (the order's ``extra.api2cart``) records the source."""
    rows = raw.get(READ)
    if not rows:
        return None
    notes["payments_from"] = METHOD
    overrides = raw.get(KINDS) or {}
    out = []
    for i, row in enumerate(rows):
        where = in_order(order_id, f"transactions[{i}]")
        kind = kind_of(text(row.get("status")), overrides, where)
        if kind in ("refund", "ignore"):
            continue  # refunds: Order.refunds[] (module docstring)
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
