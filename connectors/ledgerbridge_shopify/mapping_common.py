"""Helpers shared by the GraphQL and the REST (webhook-shaped) mappers.

Both shapes describe the same Shopify objects, so the rules that turn them into
canonical terms live here once: how ids, amounts and times are read, which
Shopify enum means which canonical status, how order-level taxes are separated
from the taxes already attached to lines, and how a record that cannot be
mapped becomes a ``ValidationFailed`` naming the record and the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError

from ledgerbridge.canonical import (
    FinancialStatus,
    Money,
    OrderDiscount,
    PaymentKind,
    PaymentStatus,
    SourceRef,
    TaxLine,
)
from ledgerbridge.canonical.money import parse_amount
from ledgerbridge.contracts.guard import field_path
from ledgerbridge.errors import TotalsMismatch, ValidationFailed

PLATFORM = "shopify"

T = TypeVar("T")


def loads(raw: bytes | str) -> Any:
    """Parse Shopify JSON with exact decimals (floats would lose cents)."""
    return json.loads(raw, parse_float=Decimal)


def legacy_id(value: Any) -> str:
    """The numeric id as a string, from a GID (``gid://shopify/Order/1``) or a REST number."""
    if value is None:
        raise ValueError("missing id")
    text = str(value)
    if text.startswith("gid://"):
        text = text.rsplit("/", 1)[-1].split("?", 1)[0]
    return text


def node_id(node: dict[str, Any]) -> str:
    """A GraphQL node's numeric id: ``legacyResourceId``, else read from its GID."""
    return legacy_id(node.get("legacyResourceId") or node["id"])


def optional_id(value: Any) -> str | None:
    return None if value in (None, "") else legacy_id(value)


def decimal(value: Any, where: str) -> Decimal:
    """An exact amount from a string or a JSON number parsed as Decimal (never a float).

    The core edge reader also refuses non-finite (``"sNaN"``), out-of-range
    (``"1e999999999"``) and non-numeric values; ``build`` names the record.
    """
    try:
        return parse_amount(value, where, platform=PLATFORM)
    except ValidationFailed as exc:
        raise ValueError(exc.message) from None


def money(value: Any, currency: str, where: str) -> Money:
    return Money(amount=decimal(value, where), currency=currency)


def moment(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def rate(value: Any) -> Decimal | None:
    """Tax rates come as JSON numbers (0.06); parsed with Decimal they stay exact."""
    if value is None:
        return None
    return decimal(value, "rate")


PAYMENT_KIND = {k.value: k for k in PaymentKind} | {"emv_authorization": PaymentKind.AUTHORIZATION}
PAYMENT_STATUS = {s.value: s for s in PaymentStatus} | {"awaiting_response": PaymentStatus.PENDING}
FINANCIAL_STATUS = {s.value: s for s in FinancialStatus} | {"expired": FinancialStatus.VOIDED}
DISCOUNT_KIND = {"discount_code": "code", "DiscountCodeApplication": "code"}
DISCOUNT_KIND |= {k: k for k in ("automatic", "manual", "script")}
DISCOUNT_KIND |= {f"{k.title()}DiscountApplication": k for k in ("automatic", "manual", "script")}
RESTOCKING = {"return", "cancel", "legacy_restock"}


def payment_kind(value: Any) -> PaymentKind:
    kind = PAYMENT_KIND.get(value.lower()) if isinstance(value, str) else None
    if kind is None:
        # SUGGESTED_REFUND and future kinds move no money we can post: refuse loudly.
        raise ValueError(f"transaction kind {value!r} is not one ledgerbridge can post")
    return kind


def payment_status(value: str | None) -> PaymentStatus:
    return PAYMENT_STATUS.get((value or "").lower(), PaymentStatus.UNKNOWN)


def financial_status(value: str | None) -> FinancialStatus:
    return FINANCIAL_STATUS.get((value or "").lower(), FinancialStatus.UNKNOWN)


def order_level_taxes(stated: Iterable[TaxLine], attached: Iterable[TaxLine]) -> list[TaxLine]:
    """Shopify's order ``tax_lines`` total the line and shipping taxes; keep only what is left.

    Taxes are grouped by (title, rate): whatever the order states beyond the
    taxes already on its lines and shipping is a tax not attached to either and
    becomes an order-level ``TaxLine``; nothing is counted twice.
    """
    remaining: dict[tuple[str, Decimal | None], TaxLine] = {}
    for tax in stated:
        prior = remaining.get(key := (tax.title, tax.rate))
        remaining[key] = (
            tax if prior is None else prior.model_copy(update={"amount": prior.amount + tax.amount})
        )
    for tax in attached:
        if (prior := remaining.get(key := (tax.title, tax.rate))) is not None:
            remaining[key] = prior.model_copy(update={"amount": prior.amount - tax.amount})
    return [t for t in remaining.values() if not t.amount.is_zero()]


class DiscountTally:
    """Adds up discount allocations per discount application (by its index)."""

    def __init__(self) -> None:
        self._found: dict[int, tuple[Money, str | None, str | None, str]] = {}

    def add(
        self, index: int, amount: Money, code: str | None, title: str | None, kind: str
    ) -> None:
        prior = self._found.get(index)
        if prior is not None:  # the sum, with what the first allocation said of it
            amount, code, title, kind = prior[0] + amount, *prior[1:]
        self._found[index] = (amount, code, title, kind)

    def discounts(self) -> tuple[OrderDiscount, ...]:
        return tuple(
            OrderDiscount(amount=amount, code=code, title=title, kind=kind, allocated=True)
            for _, (amount, code, title, kind) in sorted(self._found.items())
        )


def sum_money(items: Iterable[Money]) -> Money | None:
    result: Money | None = None
    for item in items:
        result = item if result is None else result + item
    return result


def build(kind: str, ident: str, fn: Callable[[], T]) -> T:
    """Run a mapping; any way it fails becomes a ``ValidationFailed`` naming the record.

    ``TotalsMismatch`` (an order that does not add up) passes through unchanged
    so the engine parks the record with the amounts.
    """
    try:
        return fn()
    except TotalsMismatch:
        raise
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise ValidationFailed(
            f"shopify {kind} {ident} cannot be mapped: {problems}", platform=PLATFORM
        ) from exc
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ValidationFailed(
            f"shopify {kind} {ident} cannot be mapped: {detail}",
            platform=PLATFORM,
            details={"exception": type(exc).__name__, "field": field_path(exc)},
        ) from exc


def source_ref(store: str, ident: str, stamp: Any) -> SourceRef:
    """Where a record comes from; ``stamp`` (its update time as stated) is its version."""
    return SourceRef(
        platform=PLATFORM, store=store, external_id=ident, version=stamp, updated_at=moment(stamp)
    )
