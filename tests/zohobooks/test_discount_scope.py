"""One discount scope per document, end to end: canonical order -> mapping -> Zoho Books
emulator, totals and tax per rate read back from the emulator's books to the cent.

Zoho takes ``discount_type`` ``entity_level`` *or* ``item_level`` (invoices.yml; facts doc
§15). The emulator refuses a document carrying both; the mapping folds an order discount
into the product lines whenever the document has a line discount or a shipping/fee line.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from ledgerbridge.canonical import Order
from ledgerbridge.mapping import load_mapping
from ledgerbridge.plan import DocumentKind
from ledgerbridge_zohobooks.emulator.rules import discount_scope
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG
from ledgerbridge_zohobooks.emulator.state import ZohoError, compute_document
from tests.canonical_factory import m

from .helpers import make_target, tax_ids_by_rate


def _mapping(tmp_path: Path, taxes: dict[Decimal, str], shipping: str) -> Any:
    text = f"""\
    extends: shopify-to-zohobooks
    document:
      custom_fields:
        cf_source_order_id: null   # the emulator's organisation has no such field
    shipping:
      as: {shipping}
      account_id: "1"
    lookups:
      taxes:
        entries:
          - {{title: VAT 10%, rate: 0.10, tax_id: "{taxes[Decimal("10")]}"}}
          - {{title: Reduced 5%, rate: 0.05, tax_id: "{taxes[Decimal("5")]}"}}
    """
    path = tmp_path / f"tenant-{shipping}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_mapping(path)


def _tax(rate: str, amount: str) -> dict[str, Any]:
    title = "VAT 10%" if rate == "0.10" else "Reduced 5%"
    return {"title": title, "rate": rate, "amount": m(amount)}


def _order(
    number: str,
    lines: list[tuple[str, str, str | None, str, str]],
    *,
    total: str,
    order_discount: str | None = None,
    shipping: tuple[str, str] | None = None,
    included: bool = False,
) -> Order:
    """``lines``: (quantity, unit price, line discount, tax rate, stated tax)."""
    data: dict[str, Any] = {
        "source": {"platform": "shopify", "store": "acme", "external_id": number},
        "number": number,
        "currency": "USD",
        "created_at": "2026-02-01T10:00:00+00:00",
        "email": f"buyer-{number}@example.com",
        "taxes_included": included,
        "lines": [
            {
                "line_id": f"L{i}",
                "title": f"Thing {i}",
                "quantity": qty,
                "unit_price": m(price),
                "discount": m(disc) if disc else None,
                "taxes": [_tax(rate, tax)],
            }
            for i, (qty, price, disc, rate, tax) in enumerate(lines, start=1)
        ],
        "totals": {"total": m(total)},
    }
    if order_discount:
        data["discounts"] = [{"amount": m(order_discount), "code": "SAVE", "allocated": False}]
    if shipping:
        data["shipping_lines"] = [
            {"title": "Post", "price": m(shipping[0]), "taxes": [_tax("0.10", shipping[1])]}
        ]
    return Order.model_validate(data)


# (name, order, shipping sent as, expected discount_type) -- the stated taxes are what the
# storefront computed on its discounted lines.
CASES = [
    (
        "line discounts only",
        _order(
            "D1",
            [("2", "10.00", "2.00", "0.10", "1.80"), ("1", "30.00", "3.00", "0.05", "1.35")],
            shipping=("5.00", "0.50"),
            total="53.65",
        ),
        "charge",
        "item_level",
    ),
    (
        # A taxed shipping charge is written as a taxed line (no request schema declares
        # shipping_charge_tax_id), so the order discount is folded into the product lines.
        "order discount only, taxed shipping as a charge",
        _order(
            "D2",
            [("2", "10.00", None, "0.10", "1.80"), ("1", "30.00", None, "0.05", "1.35")],
            order_discount="5.00",
            shipping=("5.00", "0.50"),
            total="53.65",
        ),
        "charge",
        "item_level",
    ),
    (
        "order discount only, shipping as a line",
        _order(
            "D3",
            [("2", "10.00", None, "0.10", "1.80"), ("1", "30.00", None, "0.05", "1.35")],
            order_discount="5.00",
            shipping=("5.00", "0.50"),
            total="53.65",
        ),
        "line",
        "item_level",
    ),
    (
        "line and order discounts",
        _order(
            "D4",
            [("2", "10.00", "2.00", "0.10", "1.63"), ("1", "30.00", None, "0.05", "1.36")],
            order_discount="4.50",
            shipping=("5.00", "0.50"),
            total="51.99",
        ),
        "charge",
        "item_level",
    ),
    (
        "line and order discounts, taxes included, shipping as a line",
        _order(
            "D5",
            [("2", "11.00", "2.20", "0.10", "1.62"), ("1", "31.50", None, "0.05", "1.35")],
            order_discount="5.13",
            shipping=("5.50", "0.50"),
            total="51.67",
            included=True,
        ),
        "line",
        "item_level",
    ),
    (
        "order discount only, taxes included",
        _order(
            "D6",
            [("1", "22.00", None, "0.10", "1.80"), ("1", "21.00", None, "0.05", "0.90")],
            order_discount="4.30",
            total="38.70",
            included=True,
        ),
        "charge",
        "entity_level",
    ),
]


@pytest.mark.parametrize(
    ("order", "shipping", "scope"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_discounted_orders_book_to_the_cent(zoho, tmp_path, order, shipping, scope):
    async def main() -> dict[str, Any]:
        target = make_target(zoho.url, zoho.state)
        try:
            runtime = _mapping(tmp_path, await tax_ids_by_rate(target), shipping)
            contact = await target.create_contact(runtime.contact(order, []))
            draft = runtime.document(order, DocumentKind.INVOICE, [])
            draft = draft.model_copy(update={"contact": draft.contact.resolved(contact.target_id)})
            ref = await target.create_document(draft)
            return zoho.state.organizations[MAIN_ORG].invoices[ref.target_id]
        finally:
            await target.aclose()

    books = anyio.run(main)
    assert books["discount_type"] == scope
    assert books["total"] == order.totals.total.amount  # what the buyer paid, to the cent
    stated: dict[str, Decimal] = {}
    for line in (*order.lines, *order.shipping_lines):
        for tax in line.taxes:
            name = "VAT 10" if tax.rate == Decimal("0.10") else "Reduced 5"
            stated[name] = stated.get(name, Decimal(0)) + tax.amount.amount
    assert {t["tax_name"]: t["tax_amount"] for t in books["taxes"]} == stated


def _body(**kw: Any) -> dict[str, Any]:
    return {"line_items": [{"description": "A", "rate": "10.00", "quantity": 1}], **kw}


def test_the_emulator_refuses_two_scopes_and_an_unnamed_scope():
    both = _body(discount="1.00", discount_type="entity_level", is_discount_before_tax=True)
    both["line_items"][0]["discount"] = "1.00"
    with pytest.raises(ZohoError, match="not both"):
        discount_scope(both)
    with pytest.raises(ZohoError, match="entity_level"):
        discount_scope(_body(discount="1.00", is_discount_before_tax=True))
    with pytest.raises(ZohoError, match="is_discount_before_tax"):
        discount_scope(_body(discount="1.00", discount_type="entity_level"))
    lined = _body()
    lined["line_items"][0]["discount"] = "1.00"
    with pytest.raises(ZohoError, match="item_level"):
        discount_scope(lined)
    with pytest.raises(ZohoError, match="discount_type"):
        discount_scope(_body(discount_type="order_level"))
    assert discount_scope(_body()).scope is None


def test_an_entity_discount_after_tax_leaves_the_taxable_amount(zoho):
    org = zoho.state.organizations[MAIN_ORG]
    vat = next(t.tax_id for t in org.taxes.values() if t.tax_name == "VAT 10")
    body = {
        "line_items": [{"description": "A", "rate": "100.00", "quantity": 1, "tax_id": vat}],
        "discount": "10.00",
        "discount_type": "entity_level",
    }
    after = compute_document(org, {**body, "is_discount_before_tax": False})
    before = compute_document(org, {**body, "is_discount_before_tax": True})
    assert (after.tax_total, after.total) == (Decimal("10.00"), Decimal("100.00"))
    assert (before.tax_total, before.total) == (Decimal("9.00"), Decimal("99.00"))
