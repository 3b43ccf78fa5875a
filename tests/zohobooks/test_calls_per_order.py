"""Zoho Books calls per order, counted where Zoho would count them: at the emulator.

An invoice-policy order paid at checkout costs 2 calls at steady state (create the invoice,
record the payment) when the engine vouches the writes were never attempted
(``first_attempt=True``) and the planner says the plan pays the invoice in full
(``settled_in_plan``): no search before either create, no ``status/sent``. Everything that
keeps writes exactly-once is still there: without ``first_attempt`` the connector searches
and adopts, and a create whose response is lost is looked up before any retry.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from ledgerbridge.plan import (
    BusinessKey,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    Link,
    PaymentDraft,
    TargetRef,
)
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG
from ledgerbridge_zohobooks.settings import ZohoBooksSettings
from ledgerbridge_zohobooks.target import ZohoBooksTarget

from .test_idempotency import contact_id, invoices_for, run

TOTAL = Decimal("7.50")


def invoice(cid: str, reference: str, *, settled: bool = False) -> DocumentDraft:
    return DocumentDraft(
        kind=DocumentKind.INVOICE,
        key=BusinessKey(reference=reference, source_key=f"shop:s1:{reference.strip('#')}"),
        contact=Link(key="contact:x", target_id=cid),
        date=date(2026, 1, 5),
        currency="USD",
        lines=(DocumentLine(description="Gift wrap", quantity=Decimal(1), rate=TOTAL),),
        settled_in_plan=settled,
    )


def payment(cid: str, reference: str, invoice_id: str) -> PaymentDraft:
    return PaymentDraft(
        key=BusinessKey(reference=f"{reference}-P", source_key=f"shop:s1:{reference}:pay"),
        contact=Link(key="contact:x", target_id=cid),
        amount=TOTAL,
        currency="USD",
        date=date(2026, 1, 5),
        payment_mode="creditcard",
        applied_to=((Link(key="doc", target_id=invoice_id), TOTAL),),
    )


async def warm_up(target: ZohoBooksTarget, cid: str) -> None:
    """A first order: the organisation and its currencies are known from here (steady state)."""
    ref = await target.create_document(invoice(cid, "#WARM", settled=True), first_attempt=True)
    await target.record_payment(payment(cid, "#WARM", ref.target_id), first_attempt=True)


def calls(zoho, since: int) -> list[tuple[str, str]]:
    return [(ex.method, ex.path) for ex in zoho.exchanges[since:]]


def status_of(zoho, invoice_id: str) -> str:
    return zoho.state.organizations[MAIN_ORG].invoices[invoice_id]["status"]


# ---------------------------------------------------------------------------- the two calls


def test_paid_order_at_steady_state_is_two_calls_create_and_pay(zoho):
    cid = contact_id(zoho)
    marks: dict[str, int] = {}

    async def order(target):
        await warm_up(target, cid)
        marks["start"] = len(zoho.exchanges)
        ref = await target.create_document(invoice(cid, "#8101", settled=True), first_attempt=True)
        marks["created"] = len(zoho.exchanges)
        status_after_create = status_of(zoho, ref.target_id)
        paid = await target.record_payment(payment(cid, "#8101", ref.target_id), first_attempt=True)
        return ref, paid, status_after_create

    ref, paid, status_after_create = run(zoho, order)
    assert calls(zoho, marks["start"]) == [("POST", "/invoices"), ("POST", "/customerpayments")]
    assert calls(zoho, marks["start"])[: marks["created"] - marks["start"]] == [
        ("POST", "/invoices")
    ]  # one document write for the invoice, no status call
    assert status_after_create == "draft"  # not in the ledger until the payment...
    assert status_of(zoho, ref.target_id) == "paid"  # ...which takes it out of draft
    org = zoho.state.organizations[MAIN_ORG]
    assert org.payments[paid.target_id]["invoices"][0]["invoice_id"] == ref.target_id


def test_unpaid_order_is_created_then_marked_sent(zoho):
    cid = contact_id(zoho)
    marks: dict[str, int] = {}

    async def order(target):
        await warm_up(target, cid)
        marks["start"] = len(zoho.exchanges)
        return await target.create_document(invoice(cid, "#8102"), first_attempt=True)

    ref = run(zoho, order)
    assert calls(zoho, marks["start"]) == [
        ("POST", "/invoices"),
        ("POST", f"/invoices/{ref.target_id}/status/sent"),
    ]
    assert status_of(zoho, ref.target_id) == "sent"  # an open receivable, in the ledger


@pytest.mark.parametrize(
    ("mode", "settled", "marked"),
    [
        ("always", True, True),
        ("always", False, True),
        ("unless_paid", True, False),
        ("unless_paid", False, True),
        ("never", True, False),
        ("never", False, False),
    ],
)
def test_mark_invoices_sent_modes(zoho, mode, settled, marked):
    cid = contact_id(zoho)

    async def create(target):
        return await target.create_document(
            invoice(cid, f"#83{mode}{settled}", settled=settled), first_attempt=True
        )

    ref = run(zoho, create, mark_invoices_sent=mode)
    sent_calls = [ex for ex in zoho.exchanges if ex.path.endswith("/status/sent")]
    assert len(sent_calls) == (1 if marked else 0)
    assert status_of(zoho, ref.target_id) == ("sent" if marked else "draft")


@pytest.mark.parametrize(
    ("paid", "mode", "first_attempt", "expected"),
    [
        (True, "unless_paid", True, 2),
        (True, "unless_paid", False, 4),
        (False, "unless_paid", True, 2),
        (False, "unless_paid", False, 3),
        (True, "always", True, 3),
        (True, "always", False, 5),
    ],
)
def test_calls_per_order_table(zoho, paid, mode, first_attempt, expected):
    """The table in docs/connectors/zohobooks.md, measured."""
    cid = contact_id(zoho)
    reference = f"#84{int(paid)}{mode}{int(first_attempt)}"
    marks: dict[str, int] = {}

    async def order(target):
        await warm_up(target, cid)
        marks["start"] = len(zoho.exchanges)
        ref = await target.create_document(
            invoice(cid, reference, settled=paid), first_attempt=first_attempt
        )
        if paid:
            await target.record_payment(
                payment(cid, reference, ref.target_id), first_attempt=first_attempt
            )
        return ref

    ref = run(zoho, order, mark_invoices_sent=mode)
    assert len(calls(zoho, marks["start"])) == expected, calls(zoho, marks["start"])
    assert status_of(zoho, ref.target_id) == ("paid" if paid else "sent")


# ---------------------------------------------------------------------------- first_attempt


def test_first_attempt_skips_the_search_before_the_create(zoho):
    cid = contact_id(zoho)

    async def order(target):
        await warm_up(target, cid)
        start = len(zoho.exchanges)
        ref = await target.create_document(invoice(cid, "#8104", settled=True), first_attempt=True)
        await target.record_payment(payment(cid, "#8104", ref.target_id), first_attempt=True)
        return start

    start = run(zoho, order)
    assert not [ex for ex in zoho.exchanges[start:] if ex.method == "GET"]


def test_without_first_attempt_the_search_runs_and_adopts_what_exists(zoho):
    cid = contact_id(zoho)
    marks: dict[str, int] = {}

    async def twice(target):
        await warm_up(target, cid)
        marks["first"] = len(zoho.exchanges)
        first = await target.create_document(invoice(cid, "#8105", settled=True))
        paid = await target.record_payment(payment(cid, "#8105", first.target_id))
        marks["again"] = len(zoho.exchanges)
        # A run the engine cannot vouch for: search first, find, adopt -- no second write.
        second = await target.create_document(invoice(cid, "#8105", settled=True))
        paid_again = await target.record_payment(payment(cid, "#8105", first.target_id))
        return first, second, paid, paid_again

    first, second, paid, paid_again = run(zoho, twice)
    assert second.target_id == first.target_id and paid_again.target_id == paid.target_id
    assert len(invoices_for(zoho, "#8105")) == 1
    org = zoho.state.organizations[MAIN_ORG]
    assert [p for p in org.payments.values() if p["reference_number"] == "#8105-P"] == [
        org.payments[paid.target_id]
    ]
    assert calls(zoho, marks["first"])[: marks["again"] - marks["first"]] == [
        ("GET", "/invoices"),  # searched: nothing yet
        ("POST", "/invoices"),
        ("GET", "/customerpayments"),
        ("POST", "/customerpayments"),
    ]
    assert calls(zoho, marks["again"]) == [("GET", "/invoices"), ("GET", "/customerpayments")]


def test_lost_create_response_with_first_attempt_is_found_not_duplicated(zoho):
    """``first_attempt`` skips the search *before* a create, never the one after a lost
    response: the committed invoice is found and returned, the POST is not repeated."""
    cid = contact_id(zoho)
    marks: dict[str, int] = {}

    async def order(target):
        await warm_up(target, cid)
        marks["start"] = len(zoho.exchanges)
        zoho.faults.lose_next_responses = 1  # the POST commits, its response never arrives
        ref = await target.create_document(invoice(cid, "#8106", settled=True), first_attempt=True)
        zoho.faults.lose_next_responses = 1
        paid = await target.record_payment(payment(cid, "#8106", ref.target_id), first_attempt=True)
        return ref, paid

    ref, paid = run(zoho, order)
    (only,) = invoices_for(zoho, "#8106")
    assert ref.target_id == only["invoice_id"]
    org = zoho.state.organizations[MAIN_ORG]
    (only_payment,) = [p for p in org.payments.values() if p["reference_number"] == "#8106-P"]
    assert paid.target_id == only_payment["payment_id"]
    assert calls(zoho, marks["start"]) == [
        ("POST", "/invoices"),  # committed, response lost
        ("GET", "/invoices"),  # looked up, found: adopted
        ("POST", "/customerpayments"),  # committed, response lost
        ("GET", "/customerpayments"),  # looked up, found: adopted
    ]
    assert status_of(zoho, ref.target_id) == "paid"


def test_an_unpaid_invoice_found_instead_of_created_is_still_marked_sent(zoho):
    """Adoption leaves no draft behind: an invoice found after a lost response, or by the
    search before the create, is marked sent when it is still a draft and nothing in the
    plan will pay it."""
    cid = contact_id(zoho)

    async def order(target):
        await warm_up(target, cid)  # (the token request would otherwise take the fault)
        zoho.faults.lose_next_responses = 1
        lost = await target.create_document(invoice(cid, "#8107"), first_attempt=True)
        # Written by an earlier run that died before marking it sent; found, then marked.
        zoho.state.organizations[MAIN_ORG].invoices[lost.target_id]["status"] = "draft"
        again = await target.create_document(invoice(cid, "#8107"))
        return lost, again

    lost, again = run(zoho, order)
    (only,) = invoices_for(zoho, "#8107")
    assert lost.target_id == again.target_id == only["invoice_id"]
    assert calls(zoho, 0)[-5:] == [
        ("POST", "/invoices"),  # committed, response lost
        ("GET", "/invoices"),  # found
        ("POST", f"/invoices/{only['invoice_id']}/status/sent"),
        ("GET", "/invoices"),  # the second create: searched first, found a draft
        ("POST", f"/invoices/{only['invoice_id']}/status/sent"),
    ]
    assert only["status"] == "sent"


# ---------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("always", "always"),
        ("unless_paid", "unless_paid"),
        ("never", "never"),
        (True, "unless_paid"),  # legacy YAML: `true` was the default, now `unless_paid`
        (False, "never"),
        ("true", "unless_paid"),
        ("False", "never"),
    ],
)
def test_mark_invoices_sent_setting_accepts_modes_and_legacy_booleans(value, expected):
    assert ZohoBooksSettings(mark_invoices_sent=value).mark_invoices_sent == expected


def test_mark_invoices_sent_defaults_to_unless_paid_and_refuses_other_values():
    assert ZohoBooksSettings().mark_invoices_sent == "unless_paid"
    with pytest.raises(ValidationError, match="mark_invoices_sent"):
        ZohoBooksSettings(mark_invoices_sent="sometimes")


CONFIG = """\
version: 1
tenants:
  - id: acme
    connections:
      books:
        platform: zohobooks
        settings:
          organization_id: "10234695"
          mark_invoices_sent: {value}
"""


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", "unless_paid"), ("false", "never"), ("always", "always"), ("never", "never")],
)
def test_mark_invoices_sent_in_an_existing_ledgerbridge_yaml(tmp_path, value, expected):
    from ledgerbridge.config import load_config

    path = tmp_path / "ledgerbridge.yaml"
    path.write_text(CONFIG.format(value=value))
    books = load_config(path).tenant("acme").connections["books"]
    assert ZohoBooksSettings.model_validate(books.settings).mark_invoices_sent == expected


def test_a_wrong_mark_invoices_sent_is_reported_with_its_position(tmp_path):
    from ledgerbridge.config import load_config
    from ledgerbridge.errors import ConfigError

    path = tmp_path / "ledgerbridge.yaml"
    path.write_text(CONFIG.format(value="sometimes"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    [(where, message)] = err.value.problems
    assert str(where).endswith(":9:31") and "mark_invoices_sent" in f"{where} {message}"


def test_target_ref_is_what_the_engine_records():
    # The hint is on the draft only; what a create returns is unchanged.
    assert "settled_in_plan" not in TargetRef.model_fields


# ---------------------------------------------------------------------------- the cold probe


def _empty(zoho) -> None:
    org = zoho.state.organizations[MAIN_ORG]
    for kind in ("invoices", "salesreceipts", "creditnotes", "payments"):
        getattr(org, kind).clear()


def test_a_new_organisation_is_proved_to_hold_nothing_we_wrote_in_four_calls(zoho):
    _empty(zoho)
    start = len(zoho.exchanges)
    assert run(zoho, lambda t: t.holds_nothing_written()) is True
    probes = [(ex.method, ex.path, ex.query.get("per_page")) for ex in zoho.exchanges[start:]]
    probes = [p for p in probes if p[1] != "/organizations"]
    assert sorted(probes) == sorted(
        ("GET", path, "1")
        for path in ("/invoices", "/salesreceipts", "/creditnotes", "/customerpayments")
    )


@pytest.mark.parametrize("kind", ["invoices", "salesreceipts", "creditnotes", "payments"])
def test_any_document_or_payment_in_the_organisation_is_no_proof(zoho, kind):
    """Even one voided invoice, or a lone payment: the first run searches before creating."""
    _empty(zoho)
    cid = contact_id(zoho)
    org = zoho.state.organizations[MAIN_ORG]

    async def write(target):
        ref = await target.create_document(invoice(cid, "#8201"), first_attempt=True)
        await target.record_payment(payment(cid, "#8201", ref.target_id), first_attempt=True)
        await target.void_document(ref)  # still listed: void is a status, not a deletion

    run(zoho, write)
    row = next(iter(org.invoices.values()))
    if kind != "invoices":
        org.invoices.clear()
    if kind != "payments":
        org.payments.clear()
    if kind in ("salesreceipts", "creditnotes"):  # the same row stands in for one of those
        getattr(org, kind)[row["invoice_id"]] = row
    assert {k for k in ("invoices", "salesreceipts", "creditnotes", "payments")
            if getattr(org, k)} == {kind}  # fmt: skip
    assert run(zoho, lambda t: t.holds_nothing_written()) is False
