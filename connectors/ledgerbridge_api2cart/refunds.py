"""API2Cart refunds -> canonical ``Refund``s (pure functions, no I/O).

A refund is listed in ``refunds[]`` or, on older carts, summarised in ``status.refund_info``.
API2Cart gives a refund's tax as one figure: it is spread over the refunded lines (and
shipping) in proportion to their amounts, titled and rated like the order line's own tax.
An order whose payment was synthesized from its financial status gets each refund's money
going back synthesized too (``ledgerbridge.contracts.synthesized.money_returned``, called by
the mapper).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import (
    OrderLine,
    Refund,
    RefundLine,
    SourceRef,
    TaxLine,
)
from ledgerbridge.canonical.money import split_by_weights
from ledgerbridge.contracts.readers import money as _money
from ledgerbridge.contracts.readers import text

from .envelope import PLATFORM
from .fields import amount, in_order, rows, timestamp, timestamp_text

ZERO = Decimal(0)
_where = in_order


def _refund_lines(items: Any, order_id: str, currency: str) -> tuple[RefundLine, ...]:
    lines = []
    for index, item in enumerate(rows(items, _where(order_id, "refund items"))):
        where = _where(order_id, f"refund item {index}")
        refunded = amount(item.get("refund"), where) or ZERO
        lines.append(
            RefundLine(
                line_id=text(item.get("order_product_id")),
                quantity=amount(item.get("qty"), where) or ZERO,
                subtotal=_money(refunded, currency),
            )
        )
    return tuple(lines)


# A refund is listed in ``refunds[]``, or (older carts) summarised in ``status.refund_info``:
# the same figures under other keys.
_REFUND_KEYS = {
    "refunds": {"items": "items", "stated": "total", "when": "modified_time"},
    "status.refund_info": {"items": "refunded_items", "stated": "total_refunded", "when": "time"},
}


def refunds_of(
    raw: Mapping[str, Any],
    store: str,
    order_id: str,
    currency: str,
    order_lines: Mapping[str, OrderLine],
) -> tuple[Refund, ...]:
    found: list[tuple[str, str, dict[str, Any]]] = [
        (text(rf.get("id")) or f"{order_id}-refund-{index + 1}", f"refunds[{index}]", rf)
        for index, rf in enumerate(rows(raw.get("refunds"), _where(order_id, "refunds")))
    ]
    info = (raw.get("status") or {}).get("refund_info")
    if not found and isinstance(info, dict):
        found = [(f"{order_id}-refund-info", "status.refund_info", info)]
    refunds: list[Refund] = []
    for refund_id, path, block in found:
        where = _where(order_id, path)
        keys = _REFUND_KEYS["refunds" if path.startswith("refunds") else path]
        stated = amount(block.get(keys["stated"]), f"{where}.{keys['stated']}")
        if path == "status.refund_info" and not stated:
            continue
        refunds.append(
            _refund(
                store,
                refund_id,
                lines=_refund_lines(block.get(keys["items"]), order_id, currency),
                shipping=amount(block.get("shipping"), f"{where}.shipping"),
                fee=amount(block.get("fee"), f"{where}.fee"),
                tax=amount(block.get("tax"), f"{where}.tax"),
                stated=stated,
                when=block.get(keys["when"]),
                comment=text(block.get("comment")),
                currency=currency,
                origin="refunds" if path.startswith("refunds") else path,
                order_lines=order_lines,
            )
        )
    return tuple(refunds)


def _refund(
    store: str,
    refund_id: str,
    *,
    lines: tuple[RefundLine, ...],
    shipping: Decimal | None,
    fee: Decimal | None,
    tax: Decimal | None,
    stated: Decimal | None,
    when: Any,
    comment: str | None,
    currency: str,
    origin: str,
    order_lines: Mapping[str, OrderLine],
) -> Refund:
    """One refund. API2Cart gives its tax as one figure: it is spread over the refunded
    lines (and shipping) in proportion to their amounts, each part titled and rated like
    the order line's own tax, so the credit note carries it where the invoice did."""
    shipping_taxes: tuple[TaxLine, ...] = ()
    notes: dict[str, Any] = {"origin": origin, "tax": str(tax) if tax is not None else None}
    if tax:
        weights = [line.subtotal.amount for line in lines] + ([shipping] if shipping else [])
        if weights:
            parts = split_by_weights(tax, weights, currency)
            placed = []
            for line, part in zip(lines, parts, strict=False):
                original = order_lines.get(line.line_id or "")
                model = original.taxes[0] if original and original.taxes else None
                taxes = (
                    (
                        TaxLine(
                            title=model.title if model else "Tax",
                            rate=model.rate if model else None,
                            amount=_money(part, currency),
                        ),
                    )
                    if part
                    else ()
                )
                placed.append(line.model_copy(update={"taxes": taxes}))
            lines = tuple(placed)
            if shipping and parts[-1]:
                shipping_taxes = (
                    TaxLine(title="Shipping tax", amount=_money(parts[-1], currency)),
                )
            notes["tax_allocated"] = True
        else:
            shipping_taxes = (
                TaxLine(title="Tax refunded (not itemised)", amount=_money(tax, currency)),
            )
            notes["tax_unplaced"] = True
    created = timestamp(when, f"refund {refund_id}: time")
    return Refund(
        source=SourceRef(
            platform=PLATFORM,
            store=store,
            external_id=refund_id,
            version=timestamp_text(when),
            updated_at=created,
        ),
        created_at=created,
        note=comment,
        lines=lines,
        shipping=_money(shipping, currency) if shipping else None,
        shipping_taxes=shipping_taxes,
        adjustment=_money(fee, currency) if fee else None,
        stated_amount=_money(stated, currency) if stated is not None else None,
        extra=notes,
    )
