"""The mapping runtime: canonical orders in, exact drafts out, lookups traced."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerbridge.canonical import Order
from ledgerbridge.errors import NeedsMapping, ValidationFailed
from ledgerbridge.mapping import ExpressionFailed, LookupHit, load_mapping
from ledgerbridge.plan import DocumentKind, Link
from tests.canonical_factory import m, order_data

from .conftest import TENANT, book_refund, two_rate_order

VAT10, VAT7 = "4600000000170940001", "4600000000170950001"
SHIP_ITEM = "4600000000990010001"


def test_two_tax_rates_shipping_line_and_custom_field(tenant):
    order = two_rate_order()
    trace: list[LookupHit] = []
    doc = tenant.document(order, DocumentKind.INVOICE, trace)

    assert [(ln.description, ln.quantity, ln.rate, ln.discount, ln.tax_id) for ln in doc.lines] == [
        ("Widget", Decimal(2), Decimal("10.00"), Decimal("2.00"), VAT10),
        ("Book", Decimal(1), Decimal("30.00"), None, VAT7),
        ("Standard", Decimal(1), Decimal("5.00"), None, VAT10),
    ]
    shipping = doc.lines[2]
    assert shipping.item == Link(key=f"item:id:{SHIP_ITEM}", target_id=SHIP_ITEM)
    assert doc.shipping_charge is None
    assert doc.lines[0].item == Link(key="item:sku:W-1")
    assert doc.custom_fields == {"cf_source_order_id": "5550001"}
    assert doc.key.reference == "#1001" and doc.key.source_key == "shopify:acme:5550001"
    assert doc.contact.key == "contact:shopify:acme:9001"
    assert doc.currency == "USD" and doc.taxes_included is False and doc.adjustment is None
    assert str(doc.date) == "2026-01-05"
    fired = {(h.subject, h.key, h.value) for h in trace}
    assert ("line L1", "VAT 10% (0.10)", VAT10) in fired
    assert ("line L2", "VAT 7% (0.07)", VAT7) in fired
    assert ("shipping 1", "VAT 10% (0.10)", VAT10) in fired


def test_shipping_as_charge_in_the_preset(write):
    rt = load_mapping(
        write(
            """\
            extends: shopify-to-zohobooks
            lookups:
              taxes:
                entries:
                  - {title: VAT 10%, rate: 0.10, tax_id: "11"}
                  - {title: VAT 7%, rate: 0.07, tax_id: "22"}
            """
        )
    )
    doc = rt.document(two_rate_order(), DocumentKind.INVOICE, [])
    assert len(doc.lines) == 2
    assert doc.shipping_charge == Decimal("5.00") and doc.shipping_tax_id == "11"


def test_unmapped_tax_names_the_exact_missing_key(write):
    rt = load_mapping(
        write(
            """\
            extends: shopify-to-zohobooks
            lookups:
              taxes:
                entries: [{title: VAT 10%, rate: 0.10, tax_id: "11"}]
            """
        )
    )
    with pytest.raises(NeedsMapping) as caught:
        rt.document(two_rate_order(), DocumentKind.INVOICE, [])
    assert caught.value.missing == "tax:VAT 7% (0.07)"
    assert caught.value.record_state == "needs_mapping"
    assert "line L2" in str(caught.value)


def test_a_tax_default_applies_only_when_the_mapping_says_so(write):
    rt = load_mapping(
        write(
            """\
            extends: shopify-to-zohobooks
            lookups:
              taxes:
                default: "99"
                entries: [{title: VAT 10%, rate: 0.10, tax_id: "11"}]
            """
        )
    )
    trace: list[LookupHit] = []
    doc = rt.document(two_rate_order(), DocumentKind.INVOICE, trace)
    assert doc.lines[1].tax_id == "99"
    assert any(h.key == "VAT 7% (0.07)" and h.via == "default" for h in trace)


def test_same_title_different_rate_is_not_a_match(write):
    rt = load_mapping(
        write(
            """\
            extends: shopify-to-zohobooks
            lookups:
              taxes:
                entries: [{title: VAT 10%, rate: 0.20, tax_id: "11"}, {title: VAT 7%, tax_id: "22"}]
            """
        )
    )
    with pytest.raises(NeedsMapping) as caught:
        rt.document(two_rate_order(), DocumentKind.INVOICE, [])
    assert caught.value.missing == "tax:VAT 10% (0.10)"


def test_skip_test_orders_names_the_rule(tenant):
    assert tenant.skip_reason(two_rate_order()) is None
    assert tenant.skip_reason(two_rate_order(test=True)) == "rule 'skip test orders' (order.test)"


def test_tenant_null_turns_an_inherited_filter_off(write):
    rt = load_mapping(write(TENANT + "filters:\n  skip test orders: null\n"))
    assert rt.skip_reason(two_rate_order(test=True)) is None


def test_contact_and_match_keys(tenant):
    order = two_rate_order()
    draft = tenant.contact(order, [])
    assert draft.link.key == "contact:shopify:acme:9001"
    assert (draft.display_name, draft.email, draft.currency) == (
        "Ann Lee",
        "ann@example.com",
        "USD",
    )
    assert draft.custom_fields == {"cf_source_customer_id": "9001"}
    assert tenant.contact_match_keys(order) == [
        ("xref", "contact:shopify:acme:9001"),
        ("email", "ann@example.com"),
    ]


def test_guest_by_email_and_walk_in(write, tenant):
    guest = two_rate_order(customer=None)
    assert tenant.contact(guest, []).link.key == "contact:email:ann@example.com"
    walk_in = load_mapping(write(TENANT + "contact:\n  guests: walk_in\n", "walkin.yaml"))
    draft = walk_in.contact(guest, [])
    assert draft.link.key == "contact:walkin:USD"
    assert draft.display_name == "Walk-in customer (USD)" and draft.email is None
    assert walk_in.contact_match_keys(guest) == [("xref", "contact:walkin:USD")]


def test_items_for_sku_lines_deduplicated(tenant):
    order = two_rate_order()
    items = tenant.items(order, [])
    assert [(i.link.key, i.name, i.rate, i.tax_id) for i in items] == [
        ("item:sku:W-1", "Widget", Decimal("10.00"), VAT10),
        ("item:sku:B-1", "Book", Decimal("30.00"), VAT7),
    ]


def test_line_without_sku_is_a_description_line_or_needs_mapping(write, tenant):
    data = order_data(lines=[{**order_data()["lines"][0], "sku": None}])
    order = Order.model_validate(data)
    line = tenant.document(order, DocumentKind.INVOICE, []).lines[0]
    assert line.item is None and line.description == "Widget"
    strict = load_mapping(write(TENANT + "lines:\n  without_sku: needs_mapping\n", "strict.yaml"))
    with pytest.raises(NeedsMapping) as caught:
        strict.document(order, DocumentKind.INVOICE, [])
    assert caught.value.missing == "item:Widget"


def test_line_rule_overrides_tax_and_account(write):
    rt = load_mapping(
        write(
            TENANT
            + """\
lines:
  rules:
    - name: books are zero rated
      when: "line.sku and line.sku.startswith('B-')"
      tax: VAT 10%
      account_id: "777"
"""
        )
    )
    trace: list[LookupHit] = []
    doc = rt.document(two_rate_order(), DocumentKind.INVOICE, trace)
    assert (doc.lines[1].tax_id, doc.lines[1].account_id) == (VAT10, "777")
    assert (doc.lines[0].tax_id, doc.lines[0].account_id) == (VAT10, None)
    assert any(h.subject == "line L2" and h.via == "rule 'books are zero rated'" for h in trace)


def test_fees_need_an_account_and_rounding_goes_to_adjustment(write, tenant):
    data = order_data(
        fees=[{"name": "Tip", "kind": "tip", "amount": m("3.00")}],
        totals={"total": m("28.31")},  # 0.01 over the parts: a rounding adjustment
    )
    order = Order.model_validate(data)
    with pytest.raises(NeedsMapping) as caught:
        tenant.document(order, DocumentKind.INVOICE, [])
    assert caught.value.missing == "fee_account:tip"
    rt = load_mapping(
        write(TENANT + "  fee_accounts:\n    entries: {tip: '4600000000005550001'}\n", "fees.yaml")
    )
    doc = rt.document(order, DocumentKind.INVOICE, [])
    fee = doc.lines[-1]
    assert (fee.description, fee.rate, fee.account_id, fee.tax_id) == (
        "Tip",
        Decimal("3.00"),
        "4600000000005550001",
        None,
    )
    assert doc.adjustment == Decimal("0.01") and doc.adjustment_description == "Rounding"


def test_unallocated_order_discount_goes_to_document_discount_or_adjustment(write, tenant):
    data = order_data(
        discounts=[{"amount": m("4.00"), "code": "WELCOME", "allocated": False}],
        totals={"total": m("21.30")},
    )
    order = Order.model_validate(data)
    doc = tenant.document(order, DocumentKind.INVOICE, [])
    # The widget line has its own 2.00 discount: one scope per document, so the order's
    # 4.00 is folded into the product line (shipping, sent as a line here, keeps none).
    assert doc.discount is None and doc.adjustment is None
    assert [ln.discount for ln in doc.lines] == [Decimal("6.00"), None]
    # No line discount, but shipping is sent as a line (this tenant): a document discount
    # would be spread over the shipping line too, so it is folded into the product line.
    no_line_discount = order_data(
        lines=[{**order_data()["lines"][0], "discount": None}],
        discounts=[{"amount": m("4.00"), "code": "WELCOME", "allocated": False}],
        totals={"total": m("23.30")},
    )
    doc = tenant.document(Order.model_validate(no_line_discount), DocumentKind.INVOICE, [])
    assert doc.discount is None and [ln.discount for ln in doc.lines] == [Decimal("4.00"), None]
    # Product lines only, none discounted: the order discount stays a document discount.
    products_only = {**no_line_discount, "shipping_lines": [], "totals": {"total": m("17.80")}}
    doc = tenant.document(Order.model_validate(products_only), DocumentKind.INVOICE, [])
    assert doc.discount == Decimal("4.00") and [ln.discount for ln in doc.lines] == [None]
    rt = load_mapping(write(TENANT + "document:\n  order_discounts: adjustment\n", "adj.yaml"))
    doc = rt.document(order, DocumentKind.INVOICE, [])
    assert doc.discount is None and doc.adjustment == Decimal("-4.00")


def test_sales_receipt_payment_and_currency_rules(write, tenant):
    order = two_rate_order()
    receipt = tenant.document(order, DocumentKind.SALES_RECEIPT, [])
    assert (receipt.payment_mode, receipt.deposit_account_id) == (
        "creditcard",
        "4600000000003610001",
    )
    link = Link(key="document:shopify:acme:5550001")
    payment = tenant.payment(order, order.payments[0], link, [])
    assert payment.amount == Decimal("57.40") and payment.applied_to == ((link, Decimal("57.40")),)
    assert payment.key.source_key == "shopify:acme:5550001:payment:T1"
    assert (payment.payment_mode, payment.account_id, payment.reference) == (
        "creditcard",
        "4600000000003610001",
        "T1",
    )
    euro_only = load_mapping(write(TENANT + "  currencies:\n    accept: [EUR]\n", "eur.yaml"))
    with pytest.raises(NeedsMapping) as caught:
        euro_only.document(order, DocumentKind.INVOICE, [])
    assert caught.value.missing == "currency:USD"


def test_unknown_gateway_needs_mapping(tenant):
    order = two_rate_order()
    other = order.payments[0].model_copy(update={"gateway": "klarna"})
    with pytest.raises(NeedsMapping) as caught:
        tenant.payment(order, other, None, [])
    assert caught.value.missing == "payment_method:klarna"


def _refunded(order: Order, money_back: bool) -> Order:
    refund = book_refund(money_back)
    return Order.model_validate({**order.model_dump(), "refunds": [refund]})


def test_credit_note_and_credit_refund(tenant):
    order = _refunded(two_rate_order(), money_back=True)
    against = Link(key="document:shopify:acme:5550001", target_id="1")
    note = tenant.credit_note(order, order.refunds[0], against, [])
    assert note.kind is DocumentKind.CREDIT_NOTE and note.against == against
    assert note.key.source_key == "shopify:acme:5550001:refund:R7"
    assert [(ln.description, ln.quantity, ln.rate, ln.tax_id, ln.item) for ln in note.lines] == [
        ("Book", Decimal(1), Decimal("30.00"), VAT7, Link(key="item:sku:B-1")),
        (
            "Shipping refund",
            Decimal(1),
            Decimal("5.00"),
            VAT10,
            Link(key=f"item:id:{SHIP_ITEM}", target_id=SHIP_ITEM),
        ),
    ]
    cn = Link(key="credit_note:shopify:acme:5550001:R7")
    money = tenant.credit_refund(order, order.refunds[0], cn, [])
    assert money is not None
    assert (money.amount, money.from_account_id, money.payment_mode, money.reference) == (
        Decimal("37.60"),
        "4600000000003610001",
        "creditcard",
        "RT1",
    )
    store_credit = _refunded(two_rate_order(), money_back=False)
    assert tenant.credit_refund(store_credit, store_credit.refunds[0], cn, []) is None


def test_refund_line_with_an_inexact_unit_rate_keeps_the_exact_total(tenant):
    order = _refunded(two_rate_order(), money_back=False)
    refund = order.refunds[0].model_copy(
        update={
            "lines": (
                order.refunds[0]
                .lines[0]
                .model_copy(
                    update={"quantity": Decimal(3), "subtotal": m_("10.00"), "title": "Pen"}
                ),
            )
        }
    )
    line = tenant.credit_note(order, refund, None, []).lines[0]
    assert (line.quantity, line.rate, line.description) == (Decimal(1), Decimal("10.00"), "3 x Pen")


def m_(amount: str):
    from tests.canonical_factory import usd

    return usd(amount)


def test_expression_failure_on_a_record_is_a_clear_validation_error(write):
    rt = load_mapping(
        write(
            TENANT + "document:\n  custom_fields:\n    cf_email: customer.email.upper()\n", "x.yaml"
        )
    )
    order = two_rate_order(customer=None)
    with pytest.raises(ExpressionFailed) as caught:
        rt.document(order, DocumentKind.INVOICE, [])
    assert isinstance(caught.value, ValidationFailed)
    assert "document.custom_fields.cf_email" in str(caught.value)
    assert "x.yaml:" in str(caught.value)


def test_lookup_tables_from_expressions_and_extra(write):
    text = TENANT.replace(
        "lookups:\n", "lookups:\n  tables:\n    salespeople:\n      entries: {pos: Mia}\n", 1
    )
    text += "document:\n  fields:\n    salesperson_name: \"lookup('salespeople', extra.channel)\"\n"
    rt = load_mapping(write(text, "tables.yaml"))
    trace: list[LookupHit] = []
    doc = rt.document(two_rate_order(extra={"channel": "pos"}), DocumentKind.INVOICE, trace)
    assert doc.extra == {"salesperson_name": "Mia"}
    assert LookupHit("tables.salespeople", "pos", "Mia", "expression") in trace
    with pytest.raises(NeedsMapping) as caught:
        rt.document(two_rate_order(extra={"channel": "web"}), DocumentKind.INVOICE, [])
    assert caught.value.missing == "salespeople:web"


def test_summary_lines_group_by_tax_and_account(write):
    rt = load_mapping(
        write(
            TENANT
            + """\
summary:
  sales_accounts:
    entries: {VAT 10%: "4001", VAT 7%: "4002"}
"""
        )
    )
    lines = rt.summary_lines([two_rate_order(), two_rate_order()], [])
    got = {(ln.tax_id, ln.account_id): ln.rate for ln in lines}
    # lines: 2 x (18.00 + 5.00 shipping) at VAT 10 %, 2 x 30.00 at VAT 7 %
    assert got == {(VAT10, "4001"): Decimal("46.00"), (VAT7, "4002"): Decimal("60.00")}


def test_documented_filters_gift_cards_and_only_paid(write):
    rt = load_mapping(
        write(
            TENANT
            + """\
filters:
  skip gift-card purchases: "order.lines | selectattr('is_gift_card') | list | length > 0"
  only paid orders: "order.financial_status not in ['paid', 'partially_refunded']"
""",
            "filters.yaml",
        )
    )
    paid = two_rate_order(financial_status="paid")
    assert rt.skip_reason(paid) is None
    assert rt.skip_reason(two_rate_order(financial_status="pending")) == (
        "rule 'only paid orders' (order.financial_status not in ['paid', 'partially_refunded'])"
    )
    gift = paid.model_dump()
    gift["lines"][1]["is_gift_card"] = True
    assert rt.skip_reason(Order.model_validate(gift)) == (
        "rule 'skip gift-card purchases' "
        "(order.lines | selectattr('is_gift_card') | list | length > 0)"
    )


def test_two_taxes_on_one_line_map_as_a_group(write):
    data = order_data(
        lines=[
            {
                "line_id": "L1",
                "title": "Widget",
                "quantity": 1,
                "unit_price": m("100.00"),
                "taxes": [
                    {"title": "State", "rate": "0.06", "amount": m("6.00")},
                    {"title": "County", "rate": "0.01", "amount": m("1.00")},
                ],
            }
        ],
        shipping_lines=[],
        totals={"total": m("107.00")},
    )
    order = Order.model_validate(data)
    separate = load_mapping(
        write(
            "extends: shopify-to-zohobooks\nlookups:\n  taxes:\n    entries:\n"
            "      - {title: State, rate: 0.06, tax_id: '1'}\n"
            "      - {title: County, rate: 0.01, tax_id: '2'}\n",
            "separate.yaml",
        )
    )
    with pytest.raises(NeedsMapping) as caught:
        separate.document(order, DocumentKind.INVOICE, [])
    # The key names the combination the lookup compares with (titles joined, rates added),
    # and the advice is the entry that matches it.
    assert caught.value.missing == "tax:State + County (0.07)"
    assert str(caught.value).endswith(
        '-- add to the mapping: {lookups: {taxes: {entries: [{title: "State + County", '
        'rate: 0.07, tax_id: "<tax id>"}]}}}'
    )
    grouped = load_mapping(
        write(
            "extends: shopify-to-zohobooks\nlookups:\n  taxes:\n    entries:\n"
            "      - {title: State + County, tax_id: '12'}\n",
            "grouped.yaml",
        )
    )
    assert grouped.document(order, DocumentKind.INVOICE, []).lines[0].tax_id == "12"


def test_amount_only_refund_needs_an_account_for_its_line(write, tenant):
    order = _refunded(two_rate_order(), money_back=False)
    refund = order.refunds[0].model_copy(
        update={"lines": (), "shipping": None, "shipping_taxes": (), "adjustment": m_("12.00")}
    )
    with pytest.raises(NeedsMapping) as caught:
        tenant.credit_note(order, refund, None, [])
    assert caught.value.missing == "refund_adjustment_account"
    rt = load_mapping(write(TENANT + "refunds:\n  adjustment_account_id: '555'\n", "r.yaml"))
    note = rt.credit_note(order, refund, None, [])
    assert note.adjustment is None
    assert [(ln.rate, ln.account_id, ln.description) for ln in note.lines] == [
        (Decimal("12.00"), "555", "Refund R7")
    ]


def test_dates_follow_the_books_time_zone(write, tenant):
    from datetime import UTC, datetime

    late = two_rate_order(created_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    assert str(tenant.document(late, DocumentKind.INVOICE, []).date) == "2026-01-31"
    berlin = load_mapping(write(TENANT + "timezone: Europe/Berlin\n", "tz.yaml"))
    assert str(berlin.document(late, DocumentKind.INVOICE, []).date) == "2026-02-01"
    payment = berlin.payment(late, late.payments[0], None, [])
    assert str(payment.date) == "2026-02-01"


def test_summary_applies_line_rules_and_unallocated_discounts(write):
    rt = load_mapping(
        write(
            TENANT
            + """\
summary:
  sales_accounts:
    entries: {VAT 10%: "4001", VAT 7%: "4002"}
  shipping_account: "4009"
lines:
  rules:
    - {name: widgets, when: "line.sku == 'W-1'", account_id: "4005"}
""",
            "summary.yaml",
        )
    )
    data = order_data(
        discounts=[{"amount": m("4.00"), "allocated": False}], totals={"total": m("21.30")}
    )
    lines = rt.summary_lines([Order.model_validate(data)], [])
    got = {(ln.tax_id, ln.account_id): ln.rate for ln in lines}
    # widget 18.00 on the rule's account; shipping 5.00 on the shipping account;
    # the 4.00 order discount on the account of the order's only tax
    assert got == {
        (VAT10, "4005"): Decimal("18.00"),
        (VAT10, "4009"): Decimal("5.00"),
        (VAT10, "4001"): Decimal("-4.00"),
    }
    two_taxes = two_rate_order(
        discounts=[{"amount": m("1.00"), "allocated": False}], totals={"total": m("56.40")}
    )
    with pytest.raises(ValidationFailed) as caught:
        rt.summary_lines([two_taxes], [])
    assert "cannot be split across several taxes" in str(caught.value)


def test_match_by_rate_ignores_titles_and_match_by_title_ignores_rates(write):
    by_rate = load_mapping(
        write(
            "extends: shopify-to-zohobooks\nlookups:\n  taxes:\n    match_by: rate\n    entries:\n"
            "      - {title: Anything, rate: 0.10, tax_id: '10'}\n"
            "      - {rate: 0.07, tax_id: '7'}\n",
            "rate.yaml",
        )
    )
    doc = by_rate.document(two_rate_order(), DocumentKind.INVOICE, [])
    assert [ln.tax_id for ln in doc.lines] == ["10", "7"]
    by_title = load_mapping(
        write(
            "extends: shopify-to-zohobooks\nlookups:\n  taxes:\n    match_by: title\n    entries:\n"
            "      - {title: vat 10%, rate: 0.99, tax_id: '10'}\n"
            "      - {title: VAT  7%, tax_id: '7'}\n",
            "title.yaml",
        )
    )
    doc = by_title.document(two_rate_order(), DocumentKind.INVOICE, [])
    assert [ln.tax_id for ln in doc.lines] == ["10", "7"]


def test_a_payment_method_without_deposit_account_needs_mapping_unless_null_on_purpose(write):
    order = two_rate_order()
    preset_only = load_mapping(
        write(
            "extends: shopify-to-zohobooks\nlookups:\n  taxes:\n    entries:\n"
            "      - {title: VAT 10%, tax_id: '1'}\n      - {title: VAT 7%, tax_id: '2'}\n",
            "preset-only.yaml",
        )
    )
    with pytest.raises(NeedsMapping) as caught:
        preset_only.payment(order, order.payments[0], None, [])
    assert caught.value.missing == "payment_account:shopify_payments"
    on_purpose = load_mapping(
        write(
            TENANT.replace(
                'shopify_payments: {payment_mode: creditcard, account_id: "4600000000003610001"}',
                "shopify_payments: {payment_mode: creditcard, account_id: null}",
            ),
            "null.yaml",
        )
    )
    draft = on_purpose.payment(order, order.payments[0], None, [])
    assert (draft.payment_mode, draft.account_id) == ("creditcard", None)
