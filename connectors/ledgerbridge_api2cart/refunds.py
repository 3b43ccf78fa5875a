"""API2Cart refunds -> canonical ``Refund``s (pure functions, no I/O).

A refund is listed in ``refunds[]`` or, on older carts, summarised in ``status.refund_info``
(the same figures under other keys).  API2Cart gives a refund's tax as one figure: it is
spread over the refunded lines (and shipping) in proportion to their amounts, each part
titled and rated like the order line's own tax, so the credit note carries it where the
invoice did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ledgerbridge.canonical import OrderLine, Refund, RefundLine, SourceRef, TaxLine
from ledgerbridge.canonical.money import split_by_weights
from ledgerbridge.contracts.readers import money, text

from .envelope import PLATFORM
from .fields import amount, in_order, record, rows, timestamp, timestamp_text

ZERO = Decimal(0)
# where a refund's lines, stated total and time are, by where it is listed
_KEYS = {
    "refunds": ("items", "total", "modified_time"),
    "status.refund_info": ("refunded_items", "total_refunded", "time"),
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
        for index, rf in enumerate(rows(raw.get("refunds"), in_order(order_id, "refunds")))
    ]
    info = record(raw.get("status"), in_order(order_id, "status")).get("refund_info")
    if not found and isinstance(info, dict):
        found = [(f"{order_id}-refund-info", "status.refund_info", info)]
    refunds: list[Refund] = []
    for refund_id, path, block in found:
        where = in_order(order_id, path)
        origin = "refunds" if path.startswith("refunds") else path
        items_key, stated_key, when_key = _KEYS[origin]
        stated = amount(block.get(stated_key), f"{where}.{stated_key}")
        if origin == "status.refund_info" and not stated:
            continue
        lines = []
        items = rows(block.get(items_key), in_order(order_id, "refund items"))
        for index, item in enumerate(items):
            at = in_order(order_id, f"refund item {index}")
            refunded = amount(item.get("refund"), at) or ZERO
            lines.append(
                RefundLine(
                    line_id=text(item.get("order_product_id")),
                    quantity=amount(item.get("qty"), at) or ZERO,
                    subtotal=money(refunded, currency),
                )
            )
        shipping = amount(block.get("shipping"), f"{where}.shipping")
        fee = amount(block.get("fee"), f"{where}.fee")
        tax = amount(block.get("tax"), f"{where}.tax")
        when = block.get(when_key)
        shipping_taxes: tuple[TaxLine, ...] = ()
        notes: dict[str, Any] = {"origin": origin, "tax": str(tax) if tax is not None else None}
        weights = [line.subtotal.amount for line in lines] + ([shipping] if shipping else [])
        if tax and weights:
            parts = split_by_weights(tax, weights, currency)
            for i, part in enumerate(parts[: len(lines)]):
                original = order_lines.get(lines[i].line_id or "")
                model = original.taxes[0] if original and original.taxes else None
                taxes = (
                    TaxLine(
                        title=model.title if model else "Tax",
                        rate=model.rate if model else None,
                        amount=money(part, currency),
                    ),
                )
                lines[i] = lines[i].model_copy(update={"taxes": taxes if part else ()})
            if shipping and parts[-1]:
                shipping_taxes = (TaxLine(title="Shipping tax", amount=money(parts[-1], currency)),)
            notes["tax_allocated"] = True
        elif tax:
            title = "Tax refunded (not itemised)"
            shipping_taxes = (TaxLine(title=title, amount=money(tax, currency)),)
            notes["tax_unplaced"] = True
        created = timestamp(when, f"refund {refund_id}: time")
        refunds.append(
            Refund(
                source=SourceRef(
                    platform=PLATFORM,
                    store=store,
                    external_id=refund_id,
                    version=timestamp_text(when),
                    updated_at=created,
                ),
                created_at=created,
                note=text(block.get("comment")),
                lines=tuple(lines),
                shipping=money(shipping, currency) if shipping else None,
                shipping_taxes=shipping_taxes,
                adjustment=money(fee, currency) if fee else None,
                stated_amount=money(stated, currency) if stated is not None else None,
                extra=notes,
            )
        )
    return tuple(refunds)


def listed_at(refunds: Iterable[Refund]) -> list[str]:
    """Where each of ``refunds_of``'s refunds is listed, in order: ``refunds[i]``, or
    ``status.refund_info`` (read only when ``refunds`` lists none)."""
    return [
        "status.refund_info" if r.extra.get("origin") == "status.refund_info" else f"refunds[{i}]"
        for i, r in enumerate(refunds)
    ]
