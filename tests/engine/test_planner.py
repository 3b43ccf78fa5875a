"""The planner: posting policy and order lifecycle, pure (no I/O)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerbridge.engine.planner import (
    Operation,
    PostedDocument,
    PriorState,
    fingerprint,
    plan_order,
)
from ledgerbridge.errors import Conflict, NeedsMapping, ValidationFailed
from ledgerbridge.plan import DocumentDraft, DocumentKind, PaymentDraft

from .conftest import m, order, refund


def ops(plan):
    return [w.operation for w in plan.writes]


def posted(runtime, o, kind="invoice"):
    draft = runtime.document(o, DocumentKind(kind), [])
    return PostedDocument(kind, "DOC-1", {"fingerprint": fingerprint(draft)})


def test_new_paid_order_is_an_invoice_and_its_payment(runtime):
    plan = plan_order(order(), runtime)
    assert ops(plan) == [Operation.CREATE_DOCUMENT, Operation.RECORD_PAYMENT]
    invoice, payment = (w.draft for w in plan.writes)
    assert isinstance(invoice, DocumentDraft) and invoice.kind is DocumentKind.INVOICE
    assert invoice.key.reference == "#1001" and invoice.key.source_key == "shopify:acme:1001"
    assert {line.tax_id for line in invoice.lines} == {"4600000000170940001"}
    assert isinstance(payment, PaymentDraft) and payment.amount == Decimal("25.30")
    assert payment.applied_to[0][0].key == "document:shopify:acme:1001"
    assert plan.contact is not None and plan.items[0].sku == "W-1"


def test_sales_receipt_policy_posts_a_paid_order_in_one_write(runtime):
    plan = plan_order(order(), runtime, policy="sales_receipt")
    assert ops(plan) == [Operation.CREATE_DOCUMENT]
    assert plan.writes[0].draft.kind is DocumentKind.SALES_RECEIPT
    unpaid = order(payments=[], financial_status="pending")
    assert (
        plan_order(unpaid, runtime, policy="sales_receipt").writes[0].draft.kind
        is DocumentKind.INVOICE
    )


def test_nothing_changed_means_no_writes(runtime):
    o = order()
    prior = PriorState(document=posted(runtime, o), payments=frozenset({"T1"}))
    assert plan_order(o, runtime, prior=prior).writes == []


def test_edit_of_unpaid_invoice_is_an_update_keyed_by_version(runtime):
    o = order(payments=[], financial_status="pending")
    prior = PriorState(document=posted(runtime, o))
    edited = order("v2", payments=[], financial_status="pending", note="gift wrap please")
    plan = plan_order(edited, runtime, prior=prior)
    assert ops(plan) == [Operation.UPDATE_DOCUMENT]
    assert plan.writes[0].versioned and plan.writes[0].ref.target_id == "DOC-1"


def test_edit_after_payment_is_a_conflict_not_a_rewrite(runtime):
    o = order()
    prior = PriorState(document=posted(runtime, o), payments=frozenset({"T1"}))
    with pytest.raises(Conflict, match="never rewritten"):
        plan_order(order("v2", note="changed"), runtime, prior=prior)


def test_cancel_before_payment_voids_or_skips(runtime):
    unpaid = dict(payments=[], financial_status="pending", status="cancelled")
    o = order("v2", **unpaid)
    plan = plan_order(o, runtime, prior=PriorState(document=posted(runtime, o)))
    assert ops(plan) == [Operation.VOID_DOCUMENT]
    never_posted = plan_order(o, runtime)
    assert never_posted.writes == [] and "cancelled before it was posted" in never_posted.skipped


def test_refund_with_money_back_is_credit_note_plus_refund(runtime):
    o = order(refunds=[refund()])
    prior = PriorState(document=posted(runtime, order()), payments=frozenset({"T1"}))
    plan = plan_order(o, runtime, prior=prior)
    assert ops(plan) == [Operation.CREATE_CREDIT_NOTE, Operation.REFUND_CREDIT]
    credit_note = plan.writes[0].draft
    assert credit_note.kind is DocumentKind.CREDIT_NOTE and credit_note.against.target_id == "DOC-1"
    assert plan.writes[1].draft.amount == Decimal("9.90")


def test_refund_without_money_on_an_open_invoice_is_applied_to_it(runtime):
    o = order(payments=[], financial_status="pending", refunds=[refund(money_back=False)])
    plan = plan_order(o, runtime, prior=PriorState(document=posted(runtime, order(payments=[]))))
    assert ops(plan) == [Operation.CREATE_CREDIT_NOTE, Operation.APPLY_CREDIT]
    assert plan.writes[1].draft.amount == Decimal("9.90")


def test_two_refunds_are_two_credit_notes_and_posted_ones_are_not_repeated(runtime):
    o = order(refunds=[refund("R1"), refund("R2")])
    prior = PriorState(
        document=posted(runtime, order()),
        payments=frozenset({"T1"}),
        credit_notes={"R1": "CN-1"},
        credit_refunds=frozenset({"R1"}),
    )
    plan = plan_order(o, runtime, prior=prior)
    assert [(w.operation, w.external_id) for w in plan.writes] == [
        (Operation.CREATE_CREDIT_NOTE, "R2"),
        (Operation.REFUND_CREDIT, "R2"),
    ]


def test_shipping_only_refund(runtime):
    r = {
        "source": {"platform": "shopify", "store": "acme", "external_id": "RS"},
        "shipping": m("5.00"),
        "shipping_taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m("0.50")}],
        "transactions": [
            {
                "external_id": "RS-T",
                "kind": "refund",
                "status": "success",
                "amount": m("5.50"),
                "gateway": "shopify_payments",
            }
        ],
    }
    plan = plan_order(order(refunds=[r]), runtime)
    credit = next(w for w in plan.writes if w.operation is Operation.CREATE_CREDIT_NOTE)
    assert credit.snapshot["credit"] == "5.50"


def test_test_orders_are_skipped_by_the_mapping_rule(runtime):
    plan = plan_order(order(test=True), runtime)
    assert plan.writes == [] and "skip test orders" in plan.skipped


def test_unknown_status_is_not_posted(runtime):
    with pytest.raises(ValidationFailed, match="status 'awaiting-shipment', which the connector"):
        plan_order(order(status="unknown", source_status="awaiting-shipment"), runtime)


def test_an_unmapped_tax_names_what_is_missing(runtime):
    o = order(
        lines=[
            {
                "line_id": "L1",
                "title": "Widget",
                "sku": "W-1",
                "quantity": 1,
                "unit_price": m("10.00"),
                "taxes": [{"title": "GST", "rate": "0.05", "amount": m("0.50")}],
            }
        ],
        shipping_lines=[],
        totals={"total": m("10.50")},
        payments=[],
    )
    with pytest.raises(NeedsMapping) as err:
        plan_order(o, runtime)
    assert "GST" in err.value.missing
