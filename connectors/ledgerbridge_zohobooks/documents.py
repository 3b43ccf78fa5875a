"""Invoices, sales receipts and credit notes in Zoho Books, written once.

Idempotency (facts doc §10), strongest first:

* invoices with ``key_field_unique``: ``PUT /invoices`` with
  ``X-Unique-Identifier-Key/-Value`` and ``X-Upsert: true`` -- Zoho itself
  de-duplicates on our key, so a retry after a lost response is harmless;
* otherwise search before create (exact match on ``reference_number`` and, when
  present, our key custom field) -- skipped when the engine says the write was
  never attempted (``first_attempt=True``) -- and after a create whose response
  was lost search again before retrying, always -- never a blind retry of a ``POST``
  (``Books.create``);
* sales receipts carry the order reference as their ``receipt_number``
  (auto-numbering off), so a repeated create collides instead of duplicating.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, NamedTuple

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.contracts.target import TargetDocument
from ledgerbridge.errors import SyncError, ValidationFailed
from ledgerbridge.plan import BusinessKey, DocumentDraft, DocumentKind, TargetRef

from . import models, payloads, shapes
from .client import PLATFORM
from .parties import Parties

log = logging.getLogger(__name__)


class _Kind(NamedTuple):
    """Where each document kind lives in the API."""

    path: str
    key: str
    list_key: str
    id_field: str
    number_field: str
    model: type[models.Document]
    our_number: str  # the field holding our reference, and the list's filter on it


KINDS: dict[DocumentKind, _Kind] = {
    DocumentKind.INVOICE: _Kind(
        "/invoices", "invoice", "invoices", "invoice_id", "invoice_number", models.Invoice,
        "reference_number",
    ),
    DocumentKind.SALES_RECEIPT: _Kind(
        "/salesreceipts", "salesreceipt", "salesreceipts", "sales_receipt_id", "receipt_number",
        models.SalesReceipt, "receipt_number",
    ),
    DocumentKind.CREDIT_NOTE: _Kind(
        "/creditnotes", "creditnote", "creditnotes", "creditnote_id", "creditnote_number",
        models.CreditNote, "reference_number",
    ),
}  # fmt: skip


class Documents(Parties):
    """The ``Target`` methods for documents (receipts need the connector's service items)."""

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self._warned_receipt_fields = False

    async def _document_body(self, draft: DocumentDraft) -> dict[str, Any]:
        currency = await self.currency(draft.currency)  # it must exist in the org
        if draft.kind is DocumentKind.SALES_RECEIPT:
            base = await self.base_currency()
            if base and draft.currency != base:
                raise ValidationFailed(
                    f"sales receipt {draft.key.reference} is in {draft.currency}, not the "
                    f"organisation's base currency {base}, and a Zoho Books sales receipt "
                    "takes no exchange rate (sales-receipt.yml); post such orders with "
                    "posting_policy: invoice",
                    platform=PLATFORM,
                )
        draft = await self.rated(f"{draft.kind.value} {draft.key.reference}", draft)
        if not draft.lines:
            raise ValidationFailed(
                f"{draft.kind.value} {draft.key.reference} has no lines", platform=PLATFORM
            )
        places = await self.places(draft.currency)
        if draft.kind is DocumentKind.SALES_RECEIPT:
            return await self._receipt_body(draft, places)
        if draft.kind is DocumentKind.INVOICE:
            draft = shapes.invoice(draft)  # a taxed shipping charge becomes a line
        module = KINDS[draft.kind].list_key
        values = dict(draft.custom_fields)
        if self.settings.key_field:
            values[self.settings.key_field] = draft.key.source_key
        return payloads.document_body(
            draft,
            places=places,
            fields=await self.custom_fields(module, values),
            currency_id=currency.currency_id,
        )

    async def _receipt_body(self, draft: DocumentDraft, places: int) -> dict[str, Any]:
        """A receipt within ``sales-receipt.yml``'s fields (``shapes.receipt_lines``).

        The schema has no exchange rate, so a receipt in another currency than the
        organisation's is refused (``_document_body``); it has no custom fields, so the
        ``key_field`` is not written (receipts are found by their ``receipt_number``) and
        a mapping's own custom fields are left out (logged once per run)."""
        if draft.custom_fields and not self._warned_receipt_fields:
            # Nowhere to keep them on a receipt; the document is still right to the cent.
            self._warned_receipt_fields = True
            log.warning(
                "Zoho Books sales receipts take no custom fields (sales-receipt.yml); "
                "not written on receipts: %s",
                ", ".join(sorted(draft.custom_fields)),
            )
        service = {p: await self.service_item(p) for p in shapes.needs_service_items(draft)}
        tax_rates = await self.tax_rates() if draft.taxes_included else {}
        lines = shapes.receipt_lines(
            draft, places=places, tax_rates=tax_rates, service_items=service
        )
        return payloads.receipt_body(draft, lines, places=places)

    def _ref_for(self, kind: DocumentKind, row: dict[str, Any]) -> TargetRef:
        spec = KINDS[kind]
        doc = spec.model.model_validate(row)
        return TargetRef(
            kind=kind.value,
            target_id=str(row[spec.id_field]),
            number=row.get(spec.number_field),
            last_modified=_timestamp(doc.last_modified_time),
            total=doc.total,  # lets the engine settle rounding against the source total
        )

    async def create_document(
        self, draft: DocumentDraft, *, first_attempt: bool = False
    ) -> TargetRef:
        """Upsert, or (search unless ``first_attempt``) then ``POST``; then mark sent if needed.

        ``first_attempt`` skips only the search *before* the create: a create whose
        response is lost is still looked up before any retry (``_create``). An invoice
        found instead of created (written before, or by the lost call) that is still a
        draft is marked sent like a new one, so no adoption leaves a draft behind.
        """
        spec = KINDS[draft.kind]
        body = await self._document_body(draft)
        params: dict[str, Any] = {}
        if draft.kind is DocumentKind.SALES_RECEIPT:
            params["ignore_auto_number_generation"] = "true"
        if draft.kind is DocumentKind.CREDIT_NOTE and draft.against is not None:
            params["invoice_id"] = draft.against.require()
        if (
            draft.kind is DocumentKind.INVOICE
            and self.settings.key_field
            and self.settings.key_field_unique
        ):
            upserted = await self.client.call(
                "PUT",
                "/invoices",
                body=body,
                headers={
                    "X-Unique-Identifier-Key": self.settings.key_field,
                    "X-Unique-Identifier-Value": draft.key.source_key,
                    "X-Upsert": "true",
                },
            )
            row = upserted[spec.key]
            ref, status = self._ref_for(draft.kind, row), row.get("status")
        else:
            found: list[TargetDocument] = []

            async def find() -> TargetRef | None:
                doc = await self.find_document(draft.kind, draft.key)
                if doc is not None:
                    found.append(doc)
                return doc.ref if doc else None

            # Written before (a crash between write and record)? Not looked up when the
            # engine's intents show this write was never attempted.
            result: dict[str, Any] | TargetRef | None = None if first_attempt else await find()
            if isinstance(result, TargetRef):
                result = result.model_copy(update={"adopted": True})
            if result is None:
                result = await self.create(spec.path, body, find, params=params)
            if isinstance(result, TargetRef):  # found, not created
                ref, status = result, found[-1].status
            else:
                row = result[spec.key]
                ref, status = self._ref_for(draft.kind, row), row.get("status")
        return await self._issue(ref, status, draft)

    async def adopt_document(self, found: TargetDocument, draft: DocumentDraft) -> TargetRef:
        """A document the engine adopts after a crash: an invoice still a draft is marked
        sent as ``create_document`` would have (the crash may have come between the two)."""
        return await self._issue(found.ref, found.status, draft)

    async def _issue(self, ref: TargetRef, status: str | None, draft: DocumentDraft) -> TargetRef:
        """Take a new or adopted invoice out of draft when ``mark_invoices_sent`` says so."""
        if (
            draft.kind is DocumentKind.INVOICE
            and status in (None, "draft")
            and self._mark_sent(draft)
        ):
            # A status move: repeating it changes nothing, so the client may retry it.
            try:
                await self.client.call(
                    "POST", f"/invoices/{ref.target_id}/status/sent", idempotent=True
                )
            except SyncError as exc:
                exc.details["committed"] = True  # the invoice exists; only this step failed
                raise
        return ref

    def _mark_sent(self, draft: DocumentDraft) -> bool:
        """Whether a new invoice needs ``POST /invoices/{id}/status/sent``.

        Zoho creates API invoices as drafts, which are not in the ledger. Under
        ``unless_paid`` an invoice the same plan pays in full (``settled_in_plan``) is left
        to the payment: recording it takes the invoice out of draft (the emulator's
        model; unconfirmed for the real service, facts doc §7.3). Should that payment
        fail, the record is parked and its replay records the payment, so the draft
        does not stay unnoticed.
        """
        mode = self.settings.mark_invoices_sent
        return mode == "always" or (mode == "unless_paid" and not draft.settled_in_plan)

    async def update_document(self, ref: TargetRef, draft: DocumentDraft) -> TargetRef:
        spec = KINDS[draft.kind]
        body = await self._document_body(draft)
        result = await self.client.call("PUT", f"{spec.path}/{ref.target_id}", body=body)
        return self._ref_for(draft.kind, result[spec.key])

    async def void_document(self, ref: TargetRef) -> None:
        kind = DocumentKind(ref.kind)
        if kind is DocumentKind.SALES_RECEIPT:
            raise ValidationFailed(
                f"sales receipt {ref.number or ref.target_id} cannot be voided in Zoho Books; "
                "issue a credit note and refund instead",
                platform=PLATFORM,
            )
        await self.client.call(
            "POST", f"{KINDS[kind].path}/{ref.target_id}/status/void", idempotent=True
        )

    def _document(
        self, kind: DocumentKind, row: dict[str, Any], key: BusinessKey | None
    ) -> TargetDocument:
        doc = KINDS[kind].model.model_validate(row)
        return TargetDocument(
            ref=self._ref_for(kind, row),
            key=key,
            status=doc.status,
            total=doc.total,
            balance=doc.balance,
            currency=doc.currency_code,
            fields=row,
            last_modified=_timestamp(doc.last_modified_time),
        )

    async def find_document(self, kind: DocumentKind, key: BusinessKey) -> TargetDocument | None:
        spec = KINDS[kind]
        rows = await self.client.pages(spec.path, spec.list_key, {spec.our_number: key.reference})
        field = self.settings.key_field
        for row in rows:
            doc = spec.model.model_validate(row)
            if getattr(doc, spec.our_number) != key.reference or doc.status == "void":
                continue  # Zoho may match loosely; we only accept an exact match
            stored_key = doc.custom_field_hash.get(field) if field else None
            if stored_key not in (None, "", key.source_key):
                continue  # same reference, another record (e.g. a second refund)
            return self._document(kind, row, key)
        return None

    async def holds_nothing_written(self) -> bool:
        """The organisation lists no invoice, sales receipt, credit note or customer payment.

        Everything we write is one of those (a refund or a credit application belongs to a
        credit note, an advance is a customer payment); voided documents are still listed
        (facts doc §7.3, ``GET /invoices`` ``status`` includes ``void``). One page of one
        row per list: four calls, made only on a run without a checkpoint. An organisation
        already in use answers False and the first run searches before each create.
        """
        lists = [(spec.path, spec.list_key) for spec in KINDS.values()]
        lists.append(("/customerpayments", "customer_payments"))
        for path, key in lists:
            body = await self.client.call("GET", path, params={"page": 1, "per_page": 1})
            if body.get(key):
                return False
        return True

    async def get_document(self, ref: TargetRef) -> TargetDocument:
        kind = DocumentKind(ref.kind)
        spec = KINDS[kind]
        body = await self.client.call("GET", f"{spec.path}/{ref.target_id}")
        return self._document(kind, body[spec.key], None)


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
