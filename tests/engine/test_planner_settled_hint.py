"""The planner's ``settled_in_plan`` hint: a new invoice the same plan pays in full.

Pure planning, no I/O. The hint lets a target skip what only an unpaid document needs
(Zoho Books: marking the draft sent); it is never part of the document's fingerprint.
"""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge.engine.planner import (
    Operation,
    PostedDocument,
    PriorState,
    fingerprint,
    plan_order,
)
from ledgerbridge.plan import DocumentDraft, DocumentKind

from .conftest import m, order, refund


def created(plan) -> DocumentDraft:
    [write] = [w for w in plan.writes if w.operation is Operation.CREATE_DOCUMENT]
    assert isinstance(write.draft, DocumentDraft)
    return write.draft


def sale(external_id: str, amount: str) -> dict:
    return {
        "external_id": external_id,
        "kind": "sale",
        "status": "success",
        "amount": m(amount),
        "gateway": "shopify_payments",
    }


def test_an_invoice_paid_in_full_by_the_plan_carries_the_hint(runtime):
    plan = plan_order(order(), runtime)
    assert [w.operation for w in plan.writes] == [
        Operation.CREATE_DOCUMENT,
        Operation.RECORD_PAYMENT,
    ]
    assert created(plan).settled_in_plan is True


def test_two_payments_that_add_up_to_the_total_carry_the_hint(runtime):
    plan = plan_order(order(payments=[sale("T1", "20.00"), sale("T2", "5.30")]), runtime)
    assert created(plan).settled_in_plan is True


def test_an_unpaid_or_partly_paid_invoice_does_not(runtime):
    unpaid = plan_order(order(payments=[], financial_status="pending"), runtime)
    assert created(unpaid).settled_in_plan is False
    partly = plan_order(
        order(payments=[sale("T1", "10.00")], financial_status="partially_paid"), runtime
    )
    assert [w.operation for w in partly.writes][-1] is Operation.RECORD_PAYMENT
    assert created(partly).settled_in_plan is False


def test_a_paid_and_refunded_order_still_pays_its_invoice_in_full(runtime):
    plan = plan_order(order(refunds=[refund()]), runtime)
    assert created(plan).settled_in_plan is True


def test_a_sales_receipt_never_carries_the_hint(runtime):
    plan = plan_order(order(), runtime, policy="sales_receipt")
    assert created(plan).kind is DocumentKind.SALES_RECEIPT
    assert created(plan).settled_in_plan is False


def test_payments_of_a_later_run_do_not_touch_the_posted_invoice(runtime):
    unpaid = order(payments=[], financial_status="pending")
    posted = PostedDocument(
        "invoice",
        "DOC-1",
        {"fingerprint": fingerprint(runtime.document(unpaid, DocumentKind.INVOICE, []))},
    )
    plan = plan_order(order("v2"), runtime, prior=PriorState(document=posted))
    assert [w.operation for w in plan.writes] == [Operation.RECORD_PAYMENT]


def test_the_hint_is_not_part_of_the_fingerprint(runtime):
    """A posted document never looks changed because of the hint: the fingerprint of the
    planned (hinted) create equals that of the same document re-planned without it, and the
    stored snapshot is taken without it."""
    plan = plan_order(order(), runtime)
    hinted = created(plan)
    plain = hinted.model_copy(update={"settled_in_plan": False})
    assert fingerprint(hinted) == fingerprint(plain)
    assert plan.writes[0].snapshot["fingerprint"] == fingerprint(plain)
    # Re-planning the same order once it is posted and paid: nothing to write, no conflict.
    prior = PriorState(
        document=PostedDocument("invoice", "DOC-1", plan.writes[0].snapshot),
        payments=frozenset({"T1"}),
    )
    assert plan_order(order("v2"), runtime, prior=prior).writes == []


def test_the_planned_payment_covers_the_total_it_was_hinted_for(runtime):
    plan = plan_order(order(), runtime)
    invoice, payment = plan.writes
    applied = sum((a for link, a in payment.draft.applied_to if link.key == invoice.produces.key))
    assert invoice.expected_total == applied == Decimal("25.30")


def test_the_hint_says_what_the_planned_payments_apply(runtime):
    """Known before the invoice is built, the hint still agrees with the payment writes that
    follow it: set exactly when what they apply to the invoice covers its total."""
    cases = [
        [],
        [sale("T1", "10.00")],
        [sale("T1", "25.29")],
        [sale("T1", "25.30")],
        [sale("T1", "20.00"), sale("T2", "5.30")],
        [sale("T1", "30.00")],
        [sale("T1", "20.00"), dict(sale("T2", "5.30"), status="failure")],
        [dict(sale("T1", "25.30"), kind="authorization")],
    ]
    for payments in cases:
        plan = plan_order(order(payments=payments, financial_status="pending"), runtime)
        invoice = plan.writes[0]
        applied = sum(
            (
                amount
                for w in plan.writes[1:]
                if w.operation is Operation.RECORD_PAYMENT
                for link, amount in w.draft.applied_to
                if link.key == invoice.produces.key
            ),
            Decimal(0),
        )
        assert created(plan).settled_in_plan is (applied >= invoice.expected_total > 0), payments
