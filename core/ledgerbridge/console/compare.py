"""A conflict's two versions side by side, field by field.

The engine stores what it meant to write (the document draft: ``source_snapshot``) and the
document as the target has it now (``target_snapshot``: Zoho Books' own field names).  The
rows pair the fields that mean the same thing in both -- the draft's names and the Books
API's (``../shared/docs/platforms/zoho-books.md``, invoices) -- line by line, and mark
those that differ; the target's other fields follow, as it sent them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# draft path -> the target's field (top level of the document)
DOCUMENT_FIELDS = (
    ("key.reference", "reference_number"),
    ("date", "date"),
    ("currency", "currency_code"),
    ("contact.target_id", "customer_id"),
    ("exchange_rate", "exchange_rate"),
    ("discount", "discount"),
    ("shipping_charge", "shipping_charge"),
    ("adjustment", "adjustment"),
    ("adjustment_description", "adjustment_description"),
    ("notes", "notes"),
)
LINE_FIELDS = (
    ("description", "description"),
    ("item.target_id", "item_id"),
    ("quantity", "quantity"),
    ("rate", "rate"),
    ("discount", "discount"),
    ("tax_id", "tax_id"),
)
SHOWN_ELSEWHERE = {t for _, t in DOCUMENT_FIELDS} | {"line_items", "custom_field_hash"}


@dataclass(frozen=True)
class Row:
    field: str
    source: str
    target: str
    differs: bool


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return (
            ", ".join(f"{k}: {v}" for k, v in value.items())
            if isinstance(value, dict)
            else (", ".join(map(str, value)))
        )
    return str(value)


def _number(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return Decimal(0) if value in (None, "") else None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def same(source: Any, target: Any) -> bool:
    """Equal as numbers when both read as one (``1`` is ``"1.00"``; nothing is zero), else
    as text (nothing is the empty text).  A field the source leaves unset is one we do not
    write, so the target's value there (its default) is no difference."""
    if source is None:
        return True
    a, b = _number(source), _number(target)
    if a is not None and b is not None and not (source in (None, "") and target in (None, "")):
        return a == b
    return _text(source).strip() == _text(target).strip()


def compare(source: dict[str, Any], target: dict[str, Any], source_total: str | None) -> list[Row]:
    """Field-by-field rows: the document's fields, each line's, then the total."""
    if "field" in source and "value" in source:  # a catalog pipeline's (docs/catalog.md)
        return [
            Row(str(source["field"]), _text(source.get("value")), _text(target.get("value")),
                not same(source.get("value"), target.get("value"))),
            Row("side", _text(source.get("side")), _text(target.get("side")), False),
            Row("sku", _text(source.get("sku")), _text(target.get("sku")), False),
        ]  # fmt: skip
    rows = [
        Row(
            t,
            _text(_get(source, s)),
            _text(target.get(t)),
            not same(_get(source, s), target.get(t)),
        )
        for s, t in DOCUMENT_FIELDS
    ]
    ours = source.get("lines") or []
    theirs = target.get("line_items") or []
    for n in range(max(len(ours), len(theirs))):
        mine = ours[n] if n < len(ours) else {}
        other = theirs[n] if n < len(theirs) else {}
        for s, t in LINE_FIELDS:
            a, b = _get(mine, s), other.get(t)
            rows.append(Row(f"line {n + 1} {t}", _text(a), _text(b), not same(a, b)))
    if source_total is not None or target.get("total") is not None:
        rows.append(
            Row("total", _text(source_total), _text(target.get("total")),
                not same(source_total, target.get("total")))
        )  # fmt: skip
    return rows


def other_target_fields(target: dict[str, Any]) -> list[tuple[str, str]]:
    """The target's fields not paired above (status, balance, ids, ...), as it sent them."""
    return [(k, _text(v)) for k, v in sorted(target.items()) if k not in SHOWN_ELSEWHERE]


__all__ = ["Row", "compare", "other_target_fields", "same"]
