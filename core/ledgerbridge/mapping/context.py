"""What every mapping builder shares: the mapping, its path and time zone, the names an
expression sees, and the small value helpers (dates, links, texts).

The builders (contacts, taxes, lines, charges, payments, documents, refunds, summaries) each
hold one ``MappingContext`` so that a lookup is traced the same way whichever builder makes
it, and a ``NeedsMapping`` names the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from ..canonical import Order, Refund
from ..contracts.advice import add_to_mapping
from ..errors import NeedsMapping, SourceLocation, ValidationFailed
from ..plan import BusinessKey, Link, LookupKind
from .currency import refund_rates, stated_rates
from .expressions import Expression
from .schema import DocumentRules, MappingFile, RefundRules


@dataclass(frozen=True)
class LookupHit:
    """One decision taken through a lookup: ``table`` at ``key`` gave ``value`` for ``subject``."""

    table: str
    key: str
    value: str | None
    subject: str
    via: str = "entry"  # entry | default | rule '<name>'

    def __str__(self) -> str:
        return f"{self.subject}: {self.table}[{self.key}] -> {self.value} ({self.via})"


@dataclass(frozen=True)
class NamedReference:
    """A target id the mapping names (checked by ``mappings validate --against``)."""

    kinds: tuple[LookupKind, ...]
    value: str
    where: str
    location: SourceLocation


MAX_CACHED = 4096  # tax lookups (per runtime) and links (shared) kept for the next order


def norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def to_date(value: Any, what: str, zone: tzinfo | None = None) -> date:
    """The accounting date of ``value``: an aware datetime is read in the books' time zone."""
    if isinstance(value, datetime):
        if zone is not None and value.tzinfo is not None:
            return value.astimezone(zone).date()
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise ValidationFailed(f"{what} must give a date or a datetime, got {value!r}")


@lru_cache(maxsize=MAX_CACHED)
def link(key: str, target_id: str | None = None) -> Link:
    """A Link, built once per key: the same contact and items recur on order after order
    (a Link is frozen, so drafts can share one)."""
    return Link(key=key, target_id=target_id)


def text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def nonzero(amount: Decimal | None) -> Decimal | None:
    return amount if amount is not None and amount != 0 else None


class MappingContext:
    """One loaded mapping as the builders read it: the file, its path (named in every
    ``NeedsMapping``) and the books' time zone."""

    def __init__(self, mapping: MappingFile, path: str) -> None:
        self.mapping = mapping
        self.path = path
        self.zone: tzinfo | None = ZoneInfo(mapping.timezone) if mapping.timezone else None

    def names(self, order: Order, trace: list[LookupHit], **more: Any) -> dict[str, Any]:
        """The names an expression sees for ``order``; its ``lookup(table, key)`` is traced."""

        def lookup(table: str, key: Any) -> Any:
            found = self.mapping.lookups.tables.get(table)
            if found is None:
                raise ValidationFailed(f"lookup table {table!r} is not defined in {self.path}")
            skey = str(key)
            if skey in found.entries:
                value = found.entries[skey]
                trace.append(LookupHit(f"tables.{table}", skey, text(value), "expression"))
                return value
            if found.default is not None:
                trace.append(
                    LookupHit(f"tables.{table}", skey, text(found.default), "expression", "default")
                )
                return found.default
            raise NeedsMapping(
                f"order {order.number}: no entry {skey!r} in lookup table {table!r} "
                f"({self.path}) and no default"
                + add_to_mapping(("lookups", "tables", table, "entries"), {skey: "<value>"}),
                missing=f"{table}:{skey}",
            )

        return {
            "order": order,
            "customer": order.customer,
            "extra": order.extra,
            "options": self.mapping.options,
            "lookup": lookup,
            **more,
        }

    @staticmethod
    def eval_text(expr: Expression | None, names: dict[str, Any]) -> str | None:
        return None if expr is None else text(expr.evaluate(names))

    @staticmethod
    def custom_fields(rules: dict[str, Expression], names: dict[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for api_name, expr in rules.items():
            value = expr.evaluate(names)
            if value is not None and value != "":
                out[api_name] = str(value)
        return out

    @staticmethod
    def fields(rules: dict[str, Expression], names: dict[str, Any]) -> dict[str, Any]:
        """Extra target fields; an expression giving None leaves its field out."""
        out: dict[str, Any] = {}
        for key, expr in rules.items():
            value = expr.evaluate(names)
            if value is not None:
                out[key] = value
        return out

    def check_currency(self, order: Order) -> None:
        accept = self.mapping.lookups.currencies.accept
        if accept and order.currency not in accept:
            raise NeedsMapping(
                f"order {order.number} is in {order.currency}, which is not in "
                f"lookups.currencies.accept ({', '.join(accept)}) of {self.path}"
                + add_to_mapping(("lookups", "currencies", "accept"), [order.currency]),
                missing=f"currency:{order.currency}",
            )

    def rates(self, order: Order, day: date, refund: Refund | None = None) -> dict[str, Any]:
        """The rate fields of a draft of ``order`` dated ``day``: ``stated_rates`` (what the
        source states: the other currency's money against this one's), ``exchange_rate``
        (the mapping's, for the document currency) and, with ``fallback_rate: target``,
        ``target_rate_on`` (the day whose rate the target looks up). The target picks the
        one for its base currency (``DocumentDraft.stated_rates``).

        A credit note (``refund``) takes the original order's rate (its stated rate, the
        target's rate of the order's day) or, with ``refund_rate: refund_day``, the rate
        the refund itself states, else the target's rate of the refund's day.
        """
        rules = self.mapping.lookups.currencies
        stated = stated_rates(order)
        if refund is not None:
            if rules.refund_rate == "refund_day":
                stated = refund_rates(order, refund)
            else:
                names = self.names(order, [])
                day = to_date(self.mapping.document.date.evaluate(names), "date", self.zone)
        return {
            "exchange_rate": rules.exchange_rates.get(order.currency),
            "stated_rates": stated,
            "target_rate_on": day if rules.fallback_rate == "target" else None,
        }

    def draft_header(
        self,
        order: Order,
        rules: DocumentRules | RefundRules,
        names: dict[str, Any],
        *,
        source_key: str,
        contact: Link,
        day: date,
        refund: Refund | None = None,
    ) -> dict[str, Any]:
        """The fields an order's invoice, sales receipt and credit note drafts share, as
        ``DocumentDraft`` keywords: the business key (the mapping's ``reference``, else the
        order number), contact, date, currency, rate fields (``rates``), notes and custom
        fields.  One place, so the documents and the credit notes of an order agree."""
        return {
            "key": BusinessKey(
                reference=text(rules.reference.evaluate(names)) or order.number,
                source_key=source_key,
            ),
            "contact": contact,
            "date": day,
            "currency": order.currency,
            **self.rates(order, day, refund),
            "notes": self.eval_text(rules.notes, names),
            "custom_fields": self.custom_fields(rules.custom_fields, names),
        }
