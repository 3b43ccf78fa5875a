"""WooCommerce's small readers: amounts ("" is zero), GMT dates, addresses, metadata, the
version marker, and the order's tax rates by id -- what the order, refund and catalog
mappers share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import Address, Money, TaxLine
from ledgerbridge.canonical.money import parse_amount
from ledgerbridge.contracts import readers
from ledgerbridge.contracts.guard import objects, record_id
from ledgerbridge.contracts.readers import text
from ledgerbridge.errors import ValidationFailed

PLATFORM = "woocommerce"


class MappingError(ValidationFailed):
    """A field that cannot be read; the message names the record and the field."""

    def __init__(self, message: str) -> None:
        super().__init__(f"woocommerce: {message}", platform=PLATFORM)


# --------------------------------------------------------------------------- small readers

ADDRESS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "line1": "address_1",
    "line2": "address_2",
    "city": "city",
    "region_code": "state",
    "postal_code": "postcode",
    "country_code": "country",
    "phone": "phone",
    "email": "email",
}


def amount(value: Any, where: str) -> Decimal:
    """A money/quantity value as Decimal: strings ("0.9"), ints and Decimals; never floats.

    WooCommerce writes an unset amount as ``""`` (zero); anything else goes through the
    core edge reader, which refuses non-finite, out-of-range and non-numeric values with
    a ``ValidationFailed`` naming ``where``.
    """
    if isinstance(value, str) and not value.strip():
        return Decimal(0)
    return parse_amount(value, where, platform=PLATFORM)


def rows(value: Any, where: str) -> list[dict[str, Any]]:
    """An array of objects (``line_items``, ``taxes`` ...), its shape checked at the edge."""
    return objects(value, where, platform=PLATFORM)


def optional_amount(value: Any, where: str) -> Decimal | None:
    return readers.optional_amount(value, where, platform=PLATFORM)


def gmt(value: Any, where: str) -> datetime | None:
    """A ``*_gmt`` field (ISO 8601 without offset, UTC) as an aware datetime."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise MappingError(f"{where} is {value!r}, not an ISO 8601 date") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def address(data: Any) -> Address | None:
    return readers.address(data, ADDRESS)


def version_of(order: Mapping[str, Any]) -> str:
    """The change marker: ``date_modified_gmt``, a digest of the state that moves money
    (status, total, the paid and completed instants) and the refund ids the order lists, so a
    poll and a webhook of the same state agree, a new refund is a new version, and a change is
    a new version even within the second it was read in: WooCommerce stamps modifications to
    the whole second, and an order paid a moment after it was placed and read keeps its
    ``date_modified_gmt``.  82 characters at most with a well-formed stamp (the store keeps 100)."""
    stamp = order.get("date_modified_gmt") or order.get("date_created_gmt") or ""
    parts = [stamp if isinstance(stamp, str) else record_id(stamp)]
    state = "|".join(_text(order.get(k)) for k in MONEY_STATE)
    parts.append("s=" + _digest(state))
    listed = order.get("refunds")
    listed = listed if isinstance(listed, list) else []
    refund_ids = ",".join(sorted(record_id(r.get("id")) for r in listed if isinstance(r, dict)))
    if refund_ids:
        parts.append(
            f"refunds={refund_ids}" if len(refund_ids) <= 40 else f"refunds#{_digest(refund_ids)}"
        )
    return ";".join(parts)[: 19 + 1 + 12 + 1 + 49]


MONEY_STATE = ("status", "total", "date_paid_gmt", "date_completed_gmt")


def _text(value: Any) -> str:
    """A value of the state as text, never an exception: the version is read before the
    order is mapped, and a malformed order (an integer of 5,000 digits, which ``str``
    refuses) must reach the mapper and be parked there, naming its field."""
    try:
        return str(value or "")
    except ValueError:
        return f"<{type(value).__name__} too long to print>"


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:10]


# --------------------------------------------------------------------------- taxes


class TaxRates:
    """The order's ``tax_lines`` by rate id: what a bare ``taxes[{id, total}]`` entry means."""

    def __init__(self, tax_lines: Iterable[dict[str, Any]]) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        for line in tax_lines:
            rate_id = line.get("rate_id")
            if rate_id is not None:
                self.by_id[str(rate_id)] = line

    def tax(self, rate_id: Any, value: Decimal, currency: str) -> TaxLine:
        info = self.by_id.get(str(rate_id), {})
        percent = info.get("rate_percent")
        rate = None
        if isinstance(percent, int | Decimal) and not isinstance(percent, bool):
            rate = Decimal(percent) / 100
        return TaxLine(
            title=text(info.get("label")) or f"Tax rate {rate_id}",
            rate=rate,
            amount=Money(amount=value, currency=currency),
            code=text(info.get("rate_code")) or str(rate_id),
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
