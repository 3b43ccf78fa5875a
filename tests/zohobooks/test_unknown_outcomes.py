"""A POST whose outcome is unknown is never re-sent blindly; it is read back first.

The client retries a non-idempotent request only when it certainly did not take effect
(connection never made, 429, refused token); after a lost answer or a 5xx it raises
``OutcomeUnknown``. The target then reads Zoho -- the note's refunds, the note's
credited invoices, the payments by reference and the key they carry -- and returns
what it finds as adopted. Status moves (mark sent, void) are safe to repeat and are
retried.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import anyio
import httpx
import pytest

from ledgerbridge.errors import OutcomeUnknown, TransientError
from ledgerbridge.plan import (
    BusinessKey,
    CreditApplication,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    Link,
    PaymentDraft,
)
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG

from .helpers import FastClock, make_target


def org(zoho: Any) -> Any:
    return zoho.state.organizations[MAIN_ORG]


def run(zoho: Any, fn: Any, **kw: Any) -> Any:
    async def main() -> Any:
        target = make_target(zoho.url, zoho.state, clock=FastClock(), **kw)
        try:
            return await fn(target)
        finally:
            await target.aclose()

    return anyio.run(main)


def posts(zoho: Any, path: str) -> int:
    return sum(1 for ex in zoho.exchanges if ex.method == "POST" and ex.path == path)


def draft(cid: str, reference: str, rate: str, **kw: Any) -> DocumentDraft:
    return DocumentDraft(
        kind=kw.pop("kind", DocumentKind.INVOICE),
        key=BusinessKey(reference=reference, source_key=f"shop:s1:{reference}"),
        contact=Link(key="contact:x", target_id=cid),
        date=date(2026, 2, 1),
        currency="USD",
        lines=(DocumentLine(description="Chair", quantity=Decimal(1), rate=Decimal(rate)),),
        **kw,
    )


async def invoice_and_note(target: Any, zoho: Any, reference: str) -> tuple[Any, Any]:
    cid = next(iter(org(zoho).contacts))
    invoice = await target.create_document(draft(cid, reference, "60.00"))
    note = await target.create_document(
        draft(cid, reference, "25.00", kind=DocumentKind.CREDIT_NOTE,
              against=Link(key="i", target_id=invoice.target_id))
    )  # fmt: skip
    return invoice, note


def contact_body(name: str) -> dict[str, Any]:
    return {"contact_name": name, "contact_type": "customer"}


# ----------------------------------------------------------------------------- the client


def post_after(zoho: Any, fault: str, name: str) -> Any:
    """POST a contact with ``fault`` armed once the token is fetched (the token POST is
    a write too)."""

    async def flow(target: Any) -> Any:
        await target.client.call("GET", "/contacts")
        setattr(zoho.faults, fault, 1)
        return await target.client.call("POST", "/contacts", body=contact_body(name))

    return run(zoho, flow)


def test_a_post_answered_5xx_is_not_retried_it_raises_outcome_unknown(zoho):
    # A 503: the client cannot tell whether the POST committed, so it does not repeat it.
    with pytest.raises(OutcomeUnknown, match="may have taken effect"):
        post_after(zoho, "fail_next", "Once")

    async def get(target: Any) -> Any:
        await target.client.call("GET", "/contacts")
        zoho.faults.fail_next = 1  # a GET answered 503 is simply retried
        return await target.client.call("GET", "/contacts")

    assert run(zoho, get)["code"] == 0


def test_a_post_whose_answer_is_lost_is_sent_once(zoho):
    with pytest.raises(OutcomeUnknown, match="outcome of the write is unknown"):
        post_after(zoho, "lose_next_responses", "Lost")
    assert posts(zoho, "/contacts") == 1
    assert [c["contact_name"] for c in org(zoho).contacts.values()].count("Lost") == 1


class RefuseFirstConnect(httpx.AsyncBaseTransport):
    """The first connection attempt fails before anything is sent (server unreachable)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if (
            request.method == "POST"
            and "/books/v3/contacts" in str(request.url)
            and not self.refused
        ):
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_post_that_never_left_is_retried(zoho):
    transport = RefuseFirstConnect()
    body = run(
        zoho,
        lambda t: t.client.call("POST", "/contacts", body=contact_body("Retried")),
        transport=transport,
    )
    assert transport.refused == 1 and body["contact"]["contact_name"] == "Retried"
    assert posts(zoho, "/contacts") == 1


def test_status_moves_are_safe_to_repeat_and_retried(zoho):
    async def flow(target: Any) -> Any:
        cid = next(iter(org(zoho).contacts))
        invoice = await target.create_document(draft(cid, "#9100", "10.00"))
        zoho.faults.lose_next_responses = 1  # the void commits, its answer is lost
        await target.void_document(invoice)
        return invoice

    invoice = run(zoho, flow)
    assert org(zoho).invoices[invoice.target_id]["status"] == "void"
    assert posts(zoho, f"/invoices/{invoice.target_id}/status/void") == 2


# ----------------------------------------------------------------------------- money


def test_a_refund_whose_answer_is_lost_is_read_from_the_note_and_adopted(zoho):
    bank = next(iter(org(zoho).bank_accounts))

    async def flow(target: Any) -> Any:
        _, note = await invoice_and_note(target, zoho, "#9200")
        refund = CreditRefundDraft(
            credit_note=Link(key="credit_note:shop:s1:9200:R1", target_id=note.target_id),
            amount=Decimal("10.00"), date=date(2026, 2, 2), from_account_id=bank,
            reference="re_9200",
        )  # fmt: skip
        assert await target.find_refund(refund) is None
        zoho.faults.lose_next_responses = 1
        return note, await target.refund_credit(refund), await target.find_refund(refund)

    note, ref, found = run(zoho, flow)
    row = org(zoho).creditnotes[note.target_id]
    # 10.00 of 25.00: a second refund would have been accepted -- money refunded twice.
    assert row["_refunds"] == [Decimal("10.00")] and row["balance"] == Decimal("15.00")
    assert ref.adopted and found is not None and found.target_id == ref.target_id
    assert posts(zoho, f"/creditnotes/{note.target_id}/refunds") == 1


def test_refunds_of_one_amount_on_two_notes_are_told_apart_by_the_key(zoho):
    """The balance heuristic cannot tell two equal refunds apart; the key can."""
    bank = next(iter(org(zoho).bank_accounts))

    async def flow(target: Any) -> Any:
        _, note = await invoice_and_note(target, zoho, "#9300")
        mine = CreditRefundDraft(
            credit_note=Link(key="credit_note:shop:s1:9300:R1", target_id=note.target_id),
            amount=Decimal("5.00"), date=date(2026, 2, 2), from_account_id=bank,
            reference="re_same",
        )  # fmt: skip
        other = mine.model_copy(
            update={
                "credit_note": Link(key="credit_note:shop:s1:9300:R2", target_id=note.target_id)
            }
        )
        await target.refund_credit(other)  # someone else's 5.00 refund, same reference
        before = await target.find_refund(mine)
        await target.refund_credit(mine)
        return before, await target.find_refund(mine), await target.find_refund(other)

    before, mine, other = run(zoho, flow)
    assert before is None and mine is not None and other is not None
    assert mine.target_id != other.target_id


def test_a_credit_application_whose_answer_is_lost_is_read_and_adopted(zoho):
    async def flow(target: Any) -> Any:
        invoice, note = await invoice_and_note(target, zoho, "#9400")
        application = CreditApplication(
            credit_note=Link(key="n", target_id=note.target_id),
            document=Link(key="i", target_id=invoice.target_id),
            amount=Decimal("20.00"),
        )
        assert await target.find_credit_application(application) is None
        zoho.faults.lose_next_responses = 1
        return invoice, note, await target.apply_credit(application)

    invoice, note, ref = run(zoho, flow)
    assert ref is not None and ref.adopted
    assert org(zoho).creditnotes[note.target_id]["_applied"] == {
        invoice.target_id: Decimal("20.00")
    }
    assert org(zoho).invoices[invoice.target_id]["balance"] == Decimal("40.00")


def test_two_equal_payments_of_one_order_are_told_apart_by_the_key_they_carry(zoho):
    """Same reference (the order's), same amount: without a key custom field, the marker
    in the description is what finds the right one after a lost answer."""

    async def flow(target: Any) -> Any:
        cid = next(iter(org(zoho).contacts))
        invoice = await target.create_document(draft(cid, "#9500", "40.00"))

        def payment(n: int) -> PaymentDraft:
            return PaymentDraft(
                key=BusinessKey(reference="#9500", source_key=f"shop:s1:9500:payment:T{n}"),
                contact=Link(key="c", target_id=cid), amount=Decimal("20.00"), currency="USD",
                date=date(2026, 2, 1), reference=f"ch_{n}",
                applied_to=((Link(key="i", target_id=invoice.target_id), Decimal("20.00")),),
            )  # fmt: skip

        first = await target.record_payment(payment(1), first_attempt=True)
        assert await target.find_payment(payment(2).key) is None  # not taken for the first
        zoho.faults.lose_next_responses = 1
        second = await target.record_payment(payment(2))
        found = await target.find_payment(payment(10).key)  # "...:T1" inside "...:T10"
        return invoice, first, second, found

    invoice, first, second, found = run(zoho, flow, key_field=None)
    assert first.target_id != second.target_id and second.adopted and found is None
    assert org(zoho).invoices[invoice.target_id]["status"] == "paid"
    assert len(org(zoho).payments) == 2


def test_a_failed_read_after_an_unknown_outcome_surfaces_as_outcome_unknown(zoho):
    """Zoho unreachable for the check too: the target cannot tell, and says so."""

    async def flow(target: Any) -> Any:
        _, note = await invoice_and_note(target, zoho, "#9600")
        bank = next(iter(org(zoho).bank_accounts))
        refund = CreditRefundDraft(
            credit_note=Link(key="credit_note:shop:s1:9600:R1", target_id=note.target_id),
            amount=Decimal("5.00"), date=date(2026, 2, 2), from_account_id=bank,
        )  # fmt: skip
        zoho.faults.lose_next_responses = 1
        zoho.faults.fail_next = 0
        original = target.find_refund

        async def unreachable(draft: Any) -> Any:
            raise TransientError("Zoho Books unreachable")

        target.find_refund = unreachable
        try:
            await target.refund_credit(refund)
        finally:
            target.find_refund = original
        return note

    with pytest.raises(OutcomeUnknown):
        run(zoho, flow)
