"""Money movements in Zoho Books: customer payments, credit applications, credit-note refunds.

Each is a ``POST`` Zoho cannot de-duplicate, so each carries something to be found by
after a lost answer, and is read back before it is ever sent again (``Books.create``):

* a payment: the order's ``reference_number`` and, in its ``description``, the marker
  ``[ledgerbridge <source key>]`` (or our key custom field) -- the reference alone is
  shared by every payment of the order;
* a refund: the marker ``[ledgerbridge <credit note key>]`` in its ``description``,
  found in the note's refund list (``GET /creditnotes/{id}/refunds``);
* a credit application: the note's credited invoices (``GET /creditnotes/{id}/invoices``);
  the engine applies a note to a document once.
"""

from __future__ import annotations

from ledgerbridge.contracts.advice import add_to_settings
from ledgerbridge.errors import NeedsMapping
from ledgerbridge.plan import (
    BusinessKey,
    CreditApplication,
    CreditRefundDraft,
    DocumentKind,
    PaymentDraft,
    TargetRef,
)

from . import models, payloads
from .books import plain_ref
from .client import PLATFORM
from .documents import Documents
from .jsonmoney import quantize


class MoneyMovements(Documents):
    """The ``Target`` methods that move money (a refund reads its credit note)."""

    async def find_payment(self, key: BusinessKey) -> TargetRef | None:
        """The payment written for ``key``: exact ``reference_number``, then our key field or
        the ``[ledgerbridge <key>]`` marker in its description -- the reference alone is
        the order's, shared by every payment of the order.

        A payment with neither (written before payments carried the marker) is taken
        only when it is the one such payment under the reference.
        """
        rows = await self.client.pages(
            "/customerpayments",
            ("customer_payments", "customerpayments"),  # spec defect 12: accept both keys
            {"reference_number": key.reference},
        )
        field = self.settings.key_field
        unmarked: list[models.CustomerPayment] = []
        for row in rows:
            payment = models.CustomerPayment.model_validate(row)
            if payment.reference_number != key.reference:
                continue
            stored = payment.custom_field_hash.get(field) if field else None
            if stored == key.source_key or payloads.has_marker(payment.description, key.source_key):
                # The amount found: the engine records what the books hold, which may differ
                # from what a rerun meant to write (more money arrived meanwhile).
                return TargetRef(kind="payment", target_id=payment.payment_id, total=payment.amount)
            if stored in (None, "") and "[ledgerbridge " not in (payment.description or ""):
                unmarked.append(payment)
        if len(unmarked) == 1:
            return plain_ref("payment", unmarked[0].payment_id)
        return None

    async def record_payment(
        self, draft: PaymentDraft, *, first_attempt: bool = False
    ) -> TargetRef:
        draft = await self.rated(f"payment {draft.key.reference}", draft)
        key_field = self.settings.key_field
        fields = await self.custom_fields(
            "customerpayments", {key_field: draft.key.source_key} if key_field else {}
        )
        body = payloads.payment_body(draft, places=await self.places(draft.currency), fields=fields)
        if not first_attempt:
            existing = await self.find_payment(draft.key)
            if existing is not None:
                return existing.model_copy(update={"adopted": True})
        result = await self.create("/customerpayments", body, lambda: self.find_payment(draft.key))
        if isinstance(result, TargetRef):
            return result
        return plain_ref(
            "payment", models.CustomerPayment.model_validate(result["payment"]).payment_id
        )

    async def apply_credit(self, application: CreditApplication) -> TargetRef | None:
        base = await self.base_currency() or "USD"
        note_id = application.credit_note.require()
        body = {
            "invoices": [
                {
                    "invoice_id": application.document.require(),
                    "amount_applied": quantize(application.amount, await self.places(base)),
                }
            ]
        }
        result = await self.create(
            f"/creditnotes/{note_id}/invoices",
            body,
            lambda: self.find_credit_application(application),
        )
        if isinstance(result, TargetRef):
            return result
        return plain_ref("credit_application", note_id)

    async def find_credit_application(self, application: CreditApplication) -> TargetRef | None:
        """The credit note's application to the document, from ``GET
        /creditnotes/{id}/invoices``. The engine applies a note (one per source refund) to
        a document at most once, so the pair -- with the amount -- identifies the write."""
        note_id = application.credit_note.require()
        invoice_id = application.document.require()
        body = await self.client.call("GET", f"/creditnotes/{note_id}/invoices")
        places = await self.places(await self.base_currency() or "USD")
        wanted = quantize(application.amount, places)
        for row in body.get("invoices_credited") or []:
            credited = models.CreditedInvoice.model_validate(row)
            if credited.invoice_id == invoice_id and credited.credited_amount == wanted:
                return plain_ref("credit_application", note_id)
        return None

    async def refund_credit(self, draft: CreditRefundDraft) -> TargetRef:
        account = draft.from_account_id or self.settings.refund_account_id
        if not account:
            raise NeedsMapping(
                "a credit-note refund needs the account the money left from (from_account_id); "
                "map one for the payment gateway or set refund_account_id"
                + add_to_settings(("refund_account_id",), "<account id>"),
                missing="account:refund_from",
                platform=PLATFORM,
            )
        note = await self.get_document(
            TargetRef(kind=DocumentKind.CREDIT_NOTE.value, target_id=draft.credit_note.require())
        )
        places = await self.places(note.currency or "USD")
        result = await self.create(
            f"/creditnotes/{draft.credit_note.require()}/refunds",
            payloads.credit_refund_body(draft, places=places, from_account_id=account),
            lambda: self.find_refund(draft),
        )
        if isinstance(result, TargetRef):
            return result
        refund = models.CreditNoteRefund.model_validate(result["creditnote_refund"])
        return plain_ref("credit_refund", refund.creditnote_refund_id)

    async def find_refund(self, draft: CreditRefundDraft) -> TargetRef | None:
        """The refund written for ``draft``, from the credit note's refund list
        (``GET /creditnotes/{id}/refunds``), by the ``[ledgerbridge <credit note key>]``
        marker in its description. A refund with no marker of ours (written before
        refunds carried it) is taken when its reference and amount are the draft's."""
        note_id = draft.credit_note.require()
        rows = await self.client.pages(f"/creditnotes/{note_id}/refunds", "creditnote_refunds")
        refunds = [models.CreditNoteRefund.model_validate(r) for r in rows]
        for refund in refunds:
            if payloads.has_marker(refund.description, draft.credit_note.key):
                return TargetRef(
                    kind="credit_refund",
                    target_id=refund.creditnote_refund_id,
                    total=refund.refunded,  # what the books hold (see ``find_payment``)
                )
        for refund in refunds:
            legacy = "[ledgerbridge " not in (refund.description or "")
            if (
                legacy
                and draft.reference
                and refund.reference_number == draft.reference
                and refund.refunded == draft.amount
            ):
                return plain_ref("credit_refund", refund.creditnote_refund_id)
        return None
