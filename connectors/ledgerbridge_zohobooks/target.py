"""The Zoho Books ``Target``: plan drafts in, Zoho Books records out.

Idempotency (facts doc §10), strongest first:

* invoices with ``key_field_unique``: ``PUT /invoices`` with
  ``X-Unique-Identifier-Key/-Value`` and ``X-Upsert: true`` -- Zoho itself
  de-duplicates on our key, so a retry after a lost response is harmless;
* otherwise search before create (exact match on ``reference_number`` and, when
  present, our key custom field) -- skipped when the engine says the write was
  never attempted (``first_attempt=True``) -- and after a create whose response
  was lost search again before retrying, always -- never a blind retry of a ``POST``;
* sales receipts carry the order reference as their ``receipt_number``
  (auto-numbering off), so a repeated create collides instead of duplicating.

Every other ``POST`` that moves money is read back the same way before it is sent
again (``_create``): a payment by its reference and the ``[ledgerbridge <key>]``
marker in its description, a credit-note refund from the note's refund list by
that marker, a credit application from the note's credited invoices. A record
found that way comes back with ``adopted=True`` so the engine records the truth.
If the read itself fails, ``OutcomeUnknown`` reaches the engine, which reads
again on its next attempt before writing anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import httpx

from ledgerbridge.canonical.money import minor_units
from ledgerbridge.contracts import ConnectorContext, Target
from ledgerbridge.contracts.advice import add_to_mapping
from ledgerbridge.contracts.target import (
    FieldNeed,
    SetupProblem,
    TargetDocument,
    TargetIdentity,
)
from ledgerbridge.errors import (
    AuthFailed,
    NeedsMapping,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    SyncError,
    TransientError,
    ValidationFailed,
)
from ledgerbridge.plan import (
    BusinessKey,
    ContactDraft,
    DocumentDraft,
    DocumentKind,
    ItemDraft,
    Link,
    LookupEntry,
    LookupKind,
    TargetRef,
)

from . import customfields, directory, models, payloads, setup, shapes
from .auth import TokenManager
from .client import PLATFORM, ZohoClient
from .datacenters import data_center, trusted_accounts_server
from .limits import LimitConfig, RateLimiter, limiter_for
from .movements import MoneyMovements, plain_ref
from .settings import ZohoBooksSecrets, ZohoBooksSettings

log = logging.getLogger(__name__)

PAYMENT_MODES = (
    "cash",
    "check",
    "creditcard",
    "banktransfer",
    "bankremittance",
    "autotransaction",
    "others",
)


class _Kind:
    """Where each document kind lives in the API."""

    def __init__(
        self,
        path: str,
        key: str,
        list_key: str,
        id_field: str,
        number_field: str,
        model: type[models.Document],
    ):
        self.path, self.key, self.list_key = path, key, list_key
        self.id_field, self.number_field, self.model = id_field, number_field, model


KINDS: dict[DocumentKind, _Kind] = {
    DocumentKind.INVOICE: _Kind(
        "/invoices", "invoice", "invoices", "invoice_id", "invoice_number", models.Invoice
    ),
    DocumentKind.SALES_RECEIPT: _Kind(
        "/salesreceipts",
        "salesreceipt",
        "salesreceipts",
        "sales_receipt_id",
        "receipt_number",
        models.SalesReceipt,
    ),
    DocumentKind.CREDIT_NOTE: _Kind(
        "/creditnotes",
        "creditnote",
        "creditnotes",
        "creditnote_id",
        "creditnote_number",
        models.CreditNote,
    ),
}


class ZohoBooksTarget(MoneyMovements, Target):
    def __init__(self, context: ConnectorContext) -> None:
        self.context = context
        self.settings = cast(ZohoBooksSettings, context.settings)
        secrets = cast(ZohoBooksSecrets, context.secrets)
        dc = data_center(self.settings.data_center)
        overrides = frozenset(
            u.rstrip("/") for u in (self.settings.api_url, self.settings.accounts_url) if u
        )
        accounts = trusted_accounts_server(
            self.settings.accounts_url or dc.accounts_server, extra=overrides
        )
        api_domain = (self.settings.api_url or dc.api_domain).rstrip("/")
        self.http = httpx.AsyncClient(
            transport=context.transport, timeout=httpx.Timeout(30.0, connect=10.0)
        )
        self.tokens = TokenManager(
            connection_id=context.connection_id,
            http=self.http,
            accounts_server=accounts,
            client_id=secrets.client_id.get_secret_value() if secrets.client_id else "",
            client_secret=secrets.client_secret.get_secret_value() if secrets.client_secret else "",
            refresh_token=secrets.refresh_token.get_secret_value()
            if secrets.refresh_token
            else None,
            credentials=context.credentials,
            locks=context.locks,
        )
        self.limit_config = LimitConfig.for_plan(
            self.settings.plan,
            per_minute=self.settings.requests_per_minute,
            daily_quota=self.settings.daily_quota,
            max_in_flight=self.settings.max_in_flight,
            burst=self.settings.burst,
        )
        self.client = ZohoClient(
            http=self.http,
            tokens=self.tokens,
            api_base=f"{api_domain}/books/v3",
            organization_id=self.settings.organization_id,
            limiter=self._limiter,
            clock=context.clock,
            trusted_domains=overrides,
        )
        self._currencies: list[models.Currency] | None = None
        self._rates_on: dict[tuple[str, date], Decimal | None] = {}
        self._identity: TargetIdentity | None = None
        self._catalog: customfields.Catalog | None = None  # custom fields, read once
        self._service_items: dict[str, str] = {}  # receipt service items by purpose
        self._tax_rates: dict[str, Decimal] | None = None
        self._warned_receipt_fields = False
        # Copies of the contacts and items for one tenure of a lease (``prepare_lookups``).
        self._lookup_scope = ""
        now = context.clock.now
        self._directories = {
            "contacts": directory.Directory("/contacts", "contacts", now),
            "items": directory.Directory("/items", "items", now),
        }

    def _limiter(self) -> RateLimiter:
        org = self.settings.organization_id or "-"
        return limiter_for(org, self.limit_config, self.context.clock, self.context.limiters)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def limits(self) -> dict[str, Any]:
        """Calls left today (Zoho's own count, read from one cheap call's headers) and the
        pacing budget of this minute in this process."""
        await self.client.call("GET", "/settings/currencies")
        limiter = self._limiter()
        # whether today's count is Zoho's own (X-Rate-Limit-* headers) or only this process's
        counted_by = "platform" if getattr(limiter, "today_from_zoho", False) else "this process"
        return {
            "organization_id": self.settings.organization_id,
            **limiter.snapshot(),
            "today_counted_by": counted_by,
        }

    # ------------------------------------------------------------------ organisation

    async def identity(self) -> TargetIdentity:
        body = await self.client.call("GET", "/organizations", with_org=False)
        orgs = [models.Organization.model_validate(o) for o in body.get("organizations") or []]
        reachable = tuple(o.organization_id for o in orgs)
        wanted = self.settings.organization_id
        if not wanted:
            raise PermissionDenied(
                "no organization_id is configured for this Zoho Books connection; the token "
                f"reaches: {', '.join(f'{o.organization_id} ({o.name})' for o in orgs) or 'none'}",
                platform=PLATFORM,
            )
        for org in orgs:
            if org.organization_id == wanted:
                self._identity = TargetIdentity(
                    organization_id=wanted,
                    name=org.name,
                    base_currency=org.currency_code,
                    reachable=reachable,
                )
                return self._identity
        raise PermissionDenied(
            f"the configured Zoho Books organization_id {wanted} is not reachable with this "
            f"connection's token; it reaches: "
            f"{', '.join(f'{o.organization_id} ({o.name})' for o in orgs) or 'no organisation'}. "
            "Fix organization_id or reconnect as a user of that organisation.",
            platform=PLATFORM,
            details={"configured": wanted, "reachable": list(reachable)},
        )

    async def _base_currency(self) -> str | None:
        if self._identity is None:
            await self.identity()
        return self._identity.base_currency if self._identity else None

    async def _currency_list(self) -> list[models.Currency]:
        if self._currencies is None:
            rows = await self.client.pages("/settings/currencies", "currencies")
            self._currencies = [models.Currency.model_validate(r) for r in rows]
        return self._currencies

    async def _currency(self, code: str) -> models.Currency:
        for currency in await self._currency_list():
            if currency.currency_code == code:
                return currency
        raise NeedsMapping(
            f"currency {code} is not enabled in Zoho Books organisation "
            f"{self.settings.organization_id}; add it under Settings > Currencies",
            missing=f"currency:{code}",
            platform=PLATFORM,
        )

    async def _custom_fields(self, module: str, values: dict[str, str]) -> list[dict[str, Any]]:
        """``{name: value}`` addressed as ``module``'s request schema declares; the
        organisation's custom fields are read once (``GET /settings/fields``) and cached."""
        if not values:
            return []
        fresh = self._catalog is None
        if self._catalog is None:
            self._catalog = await self._read_catalog()
        try:
            return self._catalog.entries(module, values)
        except NeedsMapping:
            if fresh:
                raise
            # Created in the web app since this run read the settings: read them once more.
            self._catalog = await self._read_catalog()
            return self._catalog.entries(module, values)

    async def _read_catalog(self) -> customfields.Catalog:
        rows = await self.client.pages(customfields.SETTINGS_PATH, customfields.LIST_KEY)
        return customfields.Catalog(rows)

    async def _rates_of_taxes(self) -> dict[str, Decimal]:
        if self._tax_rates is None:
            rows = await self.client.pages("/settings/taxes", "taxes")
            taxes = [models.Tax.model_validate(r) for r in rows]
            self._tax_rates = {t.tax_id: Decimal(str(t.tax_percentage)) for t in taxes}
        return self._tax_rates

    async def _service_item(self, purpose: str) -> str:
        """The connector's item for receipt lines without one (``shapes.SERVICE_ITEMS``),
        found by its SKU or created once, then cached."""
        if purpose not in self._service_items:
            sku, name = shapes.SERVICE_ITEMS[purpose]
            found = await self.find_item(sku=sku)
            if found is None:
                found = await self.create_item(
                    ItemDraft(link=Link(key=f"item:sku:{sku}"), name=name, sku=sku, rate=Decimal(0))
                )
            self._service_items[purpose] = found.target_id
        return self._service_items[purpose]

    async def _places(self, code: str) -> int:
        for currency in self._currencies or []:
            if currency.currency_code == code and currency.price_precision is not None:
                return currency.price_precision
        return minor_units(code)

    # ------------------------------------------------------------------ contacts

    async def find_contact(
        self,
        *,
        email: str | None = None,
        key: str | None = None,
        name: str | None = None,
        currency: str | None = None,
    ) -> TargetRef | None:
        """Our key field, then the exact e-mail; with ``currency``, only a contact in that
        currency: a Zoho contact has one currency and its documents follow it (facts doc
        §7.1, §15), so a EUR order never lands on the same customer's USD contact.
        Answered from the lease tenure's copy of the contacts when it has one (``directory``)."""
        if self._directories["contacts"].fresh():
            found = directory.match_contact(
                self._directories["contacts"].rows(), field=self.settings.contact_key_field,
                key=key, email=email, name=name, currency=currency,
            )  # fmt: skip
            return plain_ref("contact", found) if found else None
        return await self._search_contact(email=email, key=key, name=name, currency=currency)

    async def _search_contact(
        self,
        *,
        email: str | None = None,
        key: str | None = None,
        name: str | None = None,
        currency: str | None = None,
    ) -> TargetRef | None:
        """``find_contact`` by searches: always, after a create whose response was lost."""
        field = self.settings.contact_key_field
        searches: list[tuple[dict[str, Any], dict[str, str | None]]] = []
        if key and field:
            searches.append(({"search_text": key}, {"key": key}))
        if email:
            searches.append(({"email": email}, {"email": email}))
        if name:  # GET /contacts?contact_name= (contacts.yml, list-contacts); exact match only
            searches.append(({"contact_name": name}, {"name": name}))
        for query, wanted in searches:
            rows = await self.client.pages("/contacts", "contacts", query)
            found = directory.match_contact(rows, field=field, currency=currency, **wanted)
            if found:
                return plain_ref("contact", found)
        return None

    async def prepare_lookups(self, *, contacts: int = 0, items: int = 0, scope: str = "") -> None:
        """Read the organisation's contacts / items as one page each for the look-ups of
        this tenure of the pipeline's lease (``directory``); forget what another read."""
        if not scope or scope != self._lookup_scope:
            for copy in self._directories.values():
                copy.drop()
        self._lookup_scope = scope
        for kind, wanted in (("contacts", contacts), ("items", items)):
            copy = self._directories[kind]
            if not wanted:
                continue
            try:
                await copy.load(self._reader(copy.path))
            except AuthFailed:
                raise
            except SyncError as exc:  # no copy: the look-ups search one by one
                log.info("Zoho Books: %s not read in bulk (%s); searching", kind, exc)

    def _reader(self, path: str) -> directory.Reader:
        async def read(params: dict[str, Any]) -> dict[str, Any]:
            return await self.client.call("GET", path, params=params)

        return read

    async def _created(self, kind: str, result: dict[str, Any] | TargetRef, row_key: str) -> None:
        """Keep the copy in step with a create (an adopted row is not in hand)."""
        if isinstance(result, TargetRef):
            self._directories[kind].drop()
        else:
            self._directories[kind].add(result[row_key])

    async def _contact_body(self, draft: ContactDraft) -> dict[str, Any]:
        currency_id = (await self._currency(draft.currency)).currency_id if draft.currency else None
        values = dict(draft.custom_fields)
        if self.settings.contact_key_field:
            values[self.settings.contact_key_field] = draft.link.key
        fields = await self._custom_fields("contacts", values)
        return payloads.contact_body(draft, currency_id=currency_id, fields=fields)

    async def create_contact(self, draft: ContactDraft) -> TargetRef:
        body = await self._contact_body(draft)

        async def find() -> TargetRef | None:  # after a lost response: search, never the copy
            return await self._search_contact(
                email=draft.email,
                key=draft.link.key,
                name=draft.display_name if draft.unique_name else None,
                currency=draft.currency,
            )

        try:
            result = await self._create("/contacts", body, find)
        except SyncError:  # it may exist without being in the copy
            self._directories["contacts"].drop()
            raise
        await self._created("contacts", result, "contact")
        if isinstance(result, TargetRef):
            return result
        return plain_ref("contact", models.Contact.model_validate(result["contact"]).contact_id)

    async def update_contact(self, ref: TargetRef, draft: ContactDraft) -> TargetRef:
        body = await self._contact_body(draft)
        self._directories["contacts"].drop()  # its e-mail or key may change
        result = await self.client.call("PUT", f"/contacts/{ref.target_id}", body=body)
        return plain_ref("contact", models.Contact.model_validate(result["contact"]).contact_id)

    # ------------------------------------------------------------------ items

    async def find_item(self, *, sku: str) -> TargetRef | None:
        """The item with exactly this SKU: from the lease tenure's copy of the items when it has
        one (``directory``), else a search."""
        copy = self._directories["items"]
        if copy.fresh():
            found = directory.match_item(copy.rows(), sku)
            return plain_ref("item", found) if found else None
        return await self._search_item(sku)

    async def _search_item(self, sku: str) -> TargetRef | None:
        # The Books spec has no sku filter: search, then insist on an exact SKU match.
        found = directory.match_item(
            await self.client.pages("/items", "items", {"search_text": sku}), sku
        )
        return plain_ref("item", found) if found else None

    async def create_item(self, draft: ItemDraft) -> TargetRef:
        base = await self._base_currency() or "USD"
        body = payloads.item_body(draft, places=await self._places(base))

        async def find() -> TargetRef | None:  # after a lost response: search, never the copy
            return await self._search_item(draft.sku) if draft.sku else None

        try:
            result = await self._create("/items", body, find)
        except SyncError:  # it may exist without being in the copy
            self._directories["items"].drop()
            raise
        await self._created("items", result, "item")
        if isinstance(result, TargetRef):
            return result
        return plain_ref("item", models.Item.model_validate(result["item"]).item_id)

    async def update_item(self, ref: TargetRef, draft: ItemDraft) -> TargetRef:
        base = await self._base_currency() or "USD"
        body = payloads.item_body(draft, places=await self._places(base))
        self._directories["items"].drop()  # its SKU may change
        result = await self.client.call("PUT", f"/items/{ref.target_id}", body=body)
        return plain_ref("item", models.Item.model_validate(result["item"]).item_id)

    # ------------------------------------------------------------------ documents

    async def exchange_rate(
        self,
        what: str,
        currency: str,
        configured: Decimal | None,
        stated: dict[str, Decimal],
        on: date | None = None,
    ) -> Decimal | None:
        """The rate a record in ``currency`` is written with; None in the base currency.

        Zoho requires one for a currency other than the organisation's base currency
        (invoices.yml, ``exchange_rate``). The source's own rate comes first (the amounts
        it states in the base currency, ``stated``); then, when the pipeline takes the
        books' own rate (``on``: the day), the organisation's rate for that day; then the
        pipeline's configured one. With none the record waits for an operator -- never a
        silent 1.0.
        """
        base = await self._base_currency()
        if not base or currency == base:
            return None
        if base in stated:
            return stated[base]
        if on is not None:
            own = await self.rate_on(currency, on)
            if own is not None:
                return own
        if configured is not None:
            return configured
        books = (
            f", Zoho Books has no {currency} rate on or before {on.isoformat()} "
            f"(Settings > Currencies > {currency} > exchange rates)"
            if on is not None
            else ""
        )
        raise NeedsMapping(
            f"{what} is in {currency} but the Zoho Books organisation keeps its books in "
            f"{base}, the source states no {currency}->{base} rate{books}; set "
            f"lookups.currencies.exchange_rates.{currency} (how many {base} one {currency} "
            "is worth) in the pipeline's mapping file"
            + add_to_mapping(
                ("lookups", "currencies", "exchange_rates"),
                {currency: f"<how many {base} one {currency} is worth>"},
            ),
            missing=f"exchange_rate:{currency}",
            platform=PLATFORM,
        )

    async def rate_on(self, code: str, day: date) -> Decimal | None:
        """The organisation's own rate of ``code`` for ``day``: the one effective that day,
        else the closest before it; None when it has none.

        ``GET /settings/currencies/{currency_id}/exchangerates?from_date=`` (currency.yml,
        operationId ``list_exchange_rates``: "Returns the exchange rate details from the
        given date or from previous closest match in the absence of the exchange rate on
        the given date"). Whatever rows come back, only one effective on or before ``day``
        is taken, the latest such. Asked once per currency and day.
        """
        key = (code, day)
        if key in self._rates_on:
            return self._rates_on[key]
        currency = await self._currency(code)
        body = await self.client.call(
            "GET",
            f"/settings/currencies/{currency.currency_id}/exchangerates",
            params={"from_date": day.isoformat()},
        )
        best: models.ExchangeRate | None = None
        for row in body.get("exchange_rates") or []:
            rate = models.ExchangeRate.model_validate(row)
            if rate.rate is None or rate.rate <= 0 or rate.effective_date is None:
                continue
            if rate.effective_date <= day and (
                best is None or rate.effective_date > (best.effective_date or day)
            ):
                best = rate
        found = best.rate if best is not None else None
        self._rates_on[key] = found
        return found

    async def _document_body(self, draft: DocumentDraft) -> dict[str, Any]:
        currency = await self._currency(draft.currency)  # it must exist in the org
        if draft.kind is DocumentKind.SALES_RECEIPT:
            base = await self._base_currency()
            if base and draft.currency != base:
                raise ValidationFailed(
                    f"sales receipt {draft.key.reference} is in {draft.currency}, not the "
                    f"organisation's base currency {base}, and a Zoho Books sales receipt "
                    "takes no exchange rate (sales-receipt.yml); post such orders with "
                    "posting_policy: invoice",
                    platform=PLATFORM,
                )
        rate = await self.exchange_rate(
            f"{draft.kind.value} {draft.key.reference}",
            draft.currency,
            draft.exchange_rate,
            draft.stated_rates,
            draft.target_rate_on,
        )
        draft = draft.model_copy(update={"exchange_rate": rate})
        if not draft.lines:
            raise ValidationFailed(
                f"{draft.kind.value} {draft.key.reference} has no lines", platform=PLATFORM
            )
        places = await self._places(draft.currency)
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
            fields=await self._custom_fields(module, values),
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
        service = {p: await self._service_item(p) for p in shapes.needs_service_items(draft)}
        tax_rates = await self._rates_of_taxes() if draft.taxes_included else {}
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
                result = await self._create(spec.path, body, find, params=params)
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

    async def _create(
        self,
        path: str,
        body: dict[str, Any],
        find: Callable[[], Awaitable[TargetRef | None]],
        *,
        params: dict[str, Any] | None = None,
        attempts: int = 3,
    ) -> dict[str, Any] | TargetRef:
        """POST once; if the outcome is unknown, read the target before trying again.

        Found: the record is returned with ``adopted=True``. Certainly absent: the POST is
        sent again (at most ``attempts`` in all). The read failed: ``OutcomeUnknown`` is
        raised, and the engine reads again on its next attempt before writing.
        """
        for attempt in range(1, attempts + 1):
            try:
                return await self.client.call("POST", path, params=params, body=body)
            except OutcomeUnknown as unknown:
                try:
                    found = await find()
                except TransientError:
                    raise unknown from None
                if found is not None:
                    return found.model_copy(update={"adopted": True})
                if attempt == attempts:
                    raise
                await self.context.clock.sleep(0.5 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

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
        if kind is DocumentKind.SALES_RECEIPT:
            query = {"receipt_number": key.reference}
        else:
            query = {"reference_number": key.reference}
        rows = await self.client.pages(spec.path, spec.list_key, query)
        field = self.settings.key_field
        for row in rows:
            doc = spec.model.model_validate(row)
            number = (
                row.get(spec.number_field)
                if kind is DocumentKind.SALES_RECEIPT
                else doc.reference_number
            )
            if number != key.reference or doc.status == "void":
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

    # ------------------------------------------------------------------ lookups

    async def lookups(self, kind: LookupKind) -> list[LookupEntry]:
        if kind is LookupKind.TAXES:
            rows = await self.client.pages("/settings/taxes", "taxes")
            taxes = [models.Tax.model_validate(r) for r in rows]
            return [
                LookupEntry(
                    kind=kind,
                    target_id=t.tax_id,
                    name=t.tax_name,
                    details={"percentage": str(t.tax_percentage)},
                )
                for t in taxes
            ]
        if kind is LookupKind.CURRENCIES:
            self._currencies = None
            return [
                LookupEntry(
                    kind=kind,
                    target_id=c.currency_id,
                    name=c.currency_code,
                    details={"base": c.is_base_currency},
                )
                for c in await self._currency_list()
            ]
        if kind in (LookupKind.ACCOUNTS, LookupKind.BANK_ACCOUNTS):
            path, key = (
                ("/chartofaccounts", "chartofaccounts")
                if kind is LookupKind.ACCOUNTS
                else ("/bankaccounts", "bankaccounts")
            )
            accounts = [
                models.Account.model_validate(r) for r in await self.client.pages(path, key)
            ]
            return [
                LookupEntry(
                    kind=kind,
                    target_id=a.account_id,
                    name=a.account_name,
                    details={"type": a.account_type},
                )
                for a in accounts
            ]
        if kind is LookupKind.ITEMS:
            items = [
                models.Item.model_validate(r) for r in await self.client.pages("/items", "items")
            ]
            return [
                LookupEntry(kind=kind, target_id=i.item_id, name=i.name, details={"sku": i.sku})
                for i in items
            ]
        if kind is LookupKind.PAYMENT_MODES:
            return [LookupEntry(kind=kind, target_id=m, name=m) for m in PAYMENT_MODES]
        if kind is LookupKind.CUSTOM_FIELDS:
            return setup.declared_fields(self.settings)
        raise NotFound(f"Zoho Books has no lookup {kind}", platform=PLATFORM)

    async def verify_setup(self, fields: Sequence[FieldNeed]) -> list[SetupProblem]:
        """Custom fields (stated in ``settings.custom_fields``) and the settings' ids."""
        problems = setup.custom_field_problems(self.settings, fields)
        if self.settings.refund_account_id:
            accounts = [
                *await self.lookups(LookupKind.ACCOUNTS),
                *await self.lookups(LookupKind.BANK_ACCOUNTS),
            ]
            problems += setup.account_problems(self.settings, accounts)
        return problems


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
