"""WooCommerce's small readers, shared by the order, refund and catalog mappers: amounts ("" is
zero), GMT dates, addresses, the version marker, and the order's tax rates by id."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import Money, TaxLine
from ledgerbridge.canonical.money import parse_amount
from ledgerbridge.contracts import readers
from ledgerbridge.contracts.guard import objects, record_id
from ledgerbridge.errors import ValidationFailed

PLATFORM = "woocommerce"
SAME_NAMES = ("first_name", "last_name", "company", "city", "phone", "email")
ADDRESS = {name: name for name in SAME_NAMES} | {
    "line1": "address_1",
    "line2": "address_2",
    "region_code": "state",
    "postal_code": "postcode",
    "country_code": "country",
}
MONEY_STATE = ("status", "total", "date_paid_gmt", "date_completed_gmt")

address = functools.partial(readers.address, layout=ADDRESS, platform=PLATFORM)
rows = functools.partial(objects, platform=PLATFORM)  # an array of objects, checked at the edge
optional_amount = functools.partial(readers.optional_amount, platform=PLATFORM)
record = functools.partial(readers.record, platform=PLATFORM)  # an object; blank: {}
meta = functools.partial(readers.key_values, platform=PLATFORM)  # [{key, value}] -> {key: value}
text = functools.partial(readers.text, platform=PLATFORM)  # give it the path: names a refusal
printed = functools.partial(readers.printed, platform=PLATFORM)  # str(), naming a refusal


class MappingError(ValidationFailed):
    """A field that cannot be read; the message names the record and the field."""

    def __init__(self, message: str) -> None:
        super().__init__(f"woocommerce: {message}", platform=PLATFORM)


def amount(value: Any, where: str) -> Decimal:
    """An amount or quantity as Decimal; WooCommerce writes an unset one as ``""`` (zero), and
    anything else goes through the core edge reader, which names ``where`` when it refuses."""
    if isinstance(value, str) and not value.strip():
        return Decimal(0)
    return parse_amount(value, where, platform=PLATFORM)


def gross(row: Mapping[str, Any], at: str, inclusive: bool, net: str = "total") -> Decimal:
    """``row[net]``, plus its tax (``<net>_tax``) when prices include tax: WooCommerce stores
    line, shipping and fee amounts net of tax even then."""
    value = amount(row.get(net), f"{at}.{net}")
    return value + amount(row.get(f"{net}_tax"), f"{at}.{net}_tax") if inclusive else value


def gmt(value: Any, where: str) -> datetime | None:
    """A ``*_gmt`` field (ISO 8601 without offset, UTC) as an aware datetime."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise MappingError(f"{where} is {value!r}, not an ISO 8601 date") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def version_of(order: Mapping[str, Any]) -> str:
    """The change marker: ``date_modified_gmt``, a digest of the state that moves money
    (``MONEY_STATE``) and the refund ids the order lists.  WooCommerce stamps modifications to
    the whole second, so an order paid a moment after it was read keeps its stamp; the digest
    makes that a new version, and a poll and a webhook of the same state agree.  At most 82
    characters with a well-formed stamp (the store keeps 100)."""
    stamp = order.get("date_modified_gmt") or order.get("date_created_gmt") or ""
    parts = [stamp if isinstance(stamp, str) else record_id(stamp)]
    parts.append("s=" + _digest("|".join(_text(order.get(k)) for k in MONEY_STATE)))
    listed = order.get("refunds")
    listed = listed if isinstance(listed, list) else []
    refund_ids = ",".join(sorted(record_id(r.get("id")) for r in listed if isinstance(r, dict)))
    if refund_ids:
        parts.append(
            f"refunds={refund_ids}" if len(refund_ids) <= 40 else f"refunds#{_digest(refund_ids)}"
        )
    return ";".join(parts)[: 19 + 1 + 12 + 1 + 49]


def _text(value: Any) -> str:
    """Never an exception: the version is read before the order is mapped, and a malformed
    order (an integer ``str`` refuses) must reach the mapper and be parked there."""
    try:
        return str(value or "")
    except ValueError:
        return f"<{type(value).__name__} too long to print>"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


class TaxRates:
    """The order's ``tax_lines`` by rate id: what a bare ``taxes[{id, total}]`` entry means."""

    def __init__(self, tax_lines: Iterable[dict[str, Any]], where: str = "tax_lines") -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.paths: dict[str, str] = {}  # where each rate is, for a refusal to name
        for i, t in enumerate(tax_lines):
            if t.get("rate_id") is not None:
                rate_id = printed(t["rate_id"], f"{where}[{i}].rate_id")
                self.by_id[rate_id] = t
                self.paths[rate_id] = f"{where}[{i}]"

    def tax(self, rate_id: Any, value: Decimal, currency: str) -> TaxLine:
        info = self.by_id.get(str(rate_id), {})
        at = self.paths.get(str(rate_id), "")
        percent = info.get("rate_percent")
        rate = None
        if isinstance(percent, int | Decimal) and not isinstance(percent, bool):
            rate = Decimal(percent) / 100
        return TaxLine(
            title=text(info.get("label"), f"{at}.label") or f"Tax rate {rate_id}",
            rate=rate,
            amount=Money(amount=value, currency=currency),
            code=text(info.get("rate_code"), f"{at}.rate_code") or str(rate_id),
        )

    def taxes(
        self, entries: Any, currency: str, where: str, *, sign: int = 1
    ) -> tuple[TaxLine, ...]:
        """``taxes[{id, total, subtotal}]`` -> TaxLines of the ``total`` (after discounts)."""
        result = []
        for i, entry in enumerate(rows(entries, f"{where}.taxes")):
            value = amount(entry.get("total"), f"{where}.taxes[{i}].total") * sign
            if value != 0:
                result.append(self.tax(entry.get("id"), value, currency))
        return tuple(result)
