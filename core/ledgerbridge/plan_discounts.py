"""One discount scope per document: an order discount folded into the product lines
unless a document-level discount says exactly the same thing.

Accounting targets take a document's discount in one scope: the whole document or each
line (Zoho Books: ``discount_type`` ``entity_level`` *or* ``item_level``). An order-level
discount stays a document discount only when every line of the document is a product line
without a discount of its own. Otherwise it is allocated to the product lines in
proportion to their net amounts (rate x quantity - line discount), to the cent, the
largest remainders taking the leftover cents, and the document carries line discounts
only:

* an order with both a line discount and an order discount cannot be sent as both;
* a document discount is spread over *every* line, shipping and fee lines included,
  which taxes shipping (and fees) on less than the storefront did -- an order discount
  reduces the goods sold, as the storefronts compute it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from .canonical.money import minor_units
from .errors import ValidationFailed
from .plan import DocumentLine

ZERO = Decimal(0)


def _net(line: DocumentLine) -> Decimal:
    return line.rate * line.quantity - (line.discount or ZERO)


def _is_product(line: DocumentLine) -> bool:
    sid = line.source_line_id or ""
    return not (sid.startswith("shipping:") or sid.startswith("fee:"))


def one_scope(
    lines: Sequence[DocumentLine],
    discount: Decimal | None,
    *,
    currency: str,
    subject: str,
    force: bool = False,
) -> tuple[list[DocumentLine], Decimal | None]:
    """``(lines, document discount)`` with at most one of the two carrying a discount.

    Only product lines, none with a discount: the order discount stays a document
    discount -- unless ``force`` (a target document that takes no document discount at
    all, e.g. a Zoho Books sales receipt). Otherwise it is folded into the product lines
    (see the module docstring).
    """
    out = list(lines)
    if not discount:
        return out, discount
    if not force and all(_is_product(line) and not line.discount for line in out):
        return out, discount
    eligible = [i for i, line in enumerate(out) if _is_product(line) and _net(line) > 0]
    base = sum((_net(out[i]) for i in eligible), ZERO)
    if base < discount:
        raise ValidationFailed(
            f"{subject}: the order discount {discount} {currency} is more than its product "
            f"lines after their own discounts ({base} {currency}), so it cannot be spread "
            "over them"
        )
    quantum = Decimal(1).scaleb(-minor_units(currency))
    shares: dict[int, Decimal] = {}
    remainders: list[tuple[Decimal, int]] = []
    for i in eligible:
        exact = discount * _net(out[i]) / base
        share = exact.quantize(quantum, rounding=ROUND_DOWN)
        shares[i] = share
        remainders.append((exact - share, -i))
    leftover = discount - sum(shares.values(), ZERO)
    for _, negative_index in sorted(remainders, reverse=True):
        if leftover <= 0:
            break
        shares[-negative_index] += quantum
        leftover -= quantum
    for i, share in shares.items():
        if share:
            line = out[i]
            out[i] = line.model_copy(update={"discount": (line.discount or ZERO) + share})
    return out, None
