"""Handlers for the Books resources the connector uses (one small function each)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from . import rules
from .state import ZERO, Organization, ZohoError, compute_document, dec, money

if TYPE_CHECKING:
    from .app import Handler, ZohoBooksEmulator

Result = tuple[int, dict[str, Any]]
MAX_PER_PAGE = 200


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")


def _page(request: Request, rows: list[dict[str, Any]], key: str) -> Result:
    try:
        page = max(1, int(request.query_params.get("page", "1")))
        per_page = min(MAX_PER_PAGE, max(1, int(request.query_params.get("per_page", "200"))))
    except ValueError:
        raise ZohoError(400, 2, "Invalid value passed for page or per_page") from None
    start = (page - 1) * per_page
    chunk = rows[start : start + per_page]
    return 200, {
        "code": 0,
        "message": "success",
        key: chunk,
        "page_context": {
            "page": page,
            "per_page": per_page,
            "has_more_page": start + per_page < len(rows),
        },
    }


def _ok(status: int, message: str, key: str, value: Any) -> Result:
    return status, {"code": 0, "message": message, key: value}


def _get(table: dict[str, dict[str, Any]], record_id: str, what: str) -> dict[str, Any]:
    found = table.get(record_id)
    if found is None:
        raise ZohoError(404, 1002, f"{what} does not exist.")
    return found


def _custom_fields(
    org: Organization, entity: str, body: dict[str, Any], current: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Resolve ``custom_fields`` the way the module's request schema addresses them
    (``rules.custom_field_entry``: ``customfield_id`` or ``label``, never ``api_name``)
    and check uniqueness."""
    values: dict[str, Any] = dict((current or {}).get("custom_field_hash", {}))
    defined = org.custom_fields.get(entity, {})
    for raw in body.get("custom_fields") or []:
        how, key = rules.custom_field_entry(entity, raw)
        match = next(
            (
                field_def
                for field_def in defined.values()
                if (how == "customfield_id" and field_def.customfield_id == key)
                or (how == "label" and field_def.label == key)
            ),
            None,
        )
        if match is None:
            # A field the organisation does not define is refused with code 2, nothing
            # written: the stricter reading of the facts doc §15 "Custom fields on writes"
            # (a public integration retries on HTTP 400 when Zoho does not know the name).
            raise ZohoError(400, 2, f"Invalid value passed for custom_fields: {raw}")
        values[match.api_name] = raw.get("value")
    table = _table_for(org, entity)
    for api_name, value in values.items():
        field_def = defined[api_name]
        if not field_def.unique or value in (None, ""):
            continue
        for other in table.values():
            if other is not current and other.get("custom_field_hash", {}).get(api_name) == value:
                raise ZohoError(400, 4, f"The value {value} already exists for {field_def.label}.")
    listed = [
        {
            "customfield_id": defined[k].customfield_id,
            "api_name": k,
            "label": defined[k].label,
            "value": v,
        }
        for k, v in values.items()
    ]
    return listed, values


# Module -> the ``entity`` of Zoho's custom-fields API (its page names ``invoice``,
# ``contact``; the others are read the same way, singular).
ENTITY_OF = {
    "contacts": "contact",
    "items": "item",
    "invoices": "invoice",
    "salesreceipts": "salesreceipt",
    "creditnotes": "creditnote",
    "customerpayments": "customerpayment",
}


def _table_for(org: Organization, entity: str) -> dict[str, dict[str, Any]]:
    return {
        "contacts": org.contacts,
        "items": org.items,
        "invoices": org.invoices,
        "salesreceipts": org.salesreceipts,
        "creditnotes": org.creditnotes,
        "customerpayments": org.payments,
    }[entity]


class Resources:
    def __init__(self, emulator: ZohoBooksEmulator) -> None:
        self.emulator = emulator
        self.state = emulator.state

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("/contacts", "GET", self.list_contacts),
            ("/contacts", "POST", self.create_contact),
            ("/contacts", "PUT", self.upsert_contact),
            ("/contacts/{contact_id}", "GET", self.get_contact),
            ("/contacts/{contact_id}", "PUT", self.update_contact),
            ("/items", "GET", self.list_items),
            ("/items", "POST", self.create_item),
            ("/items/{item_id}", "GET", self.get_item),
            ("/items/{item_id}", "PUT", self.update_item),
            ("/items/{item_id}/active", "POST", self.mark_item_active),
            ("/items/{item_id}/inactive", "POST", self.mark_item_inactive),
            ("/invoices", "GET", self.list_invoices),
            ("/invoices", "POST", self.create_invoice),
            ("/invoices", "PUT", self.upsert_invoice),
            ("/invoices/{invoice_id}", "GET", self.get_invoice),
            ("/invoices/{invoice_id}", "PUT", self.update_invoice),
            ("/invoices/{invoice_id}/status/void", "POST", self.void_invoice),
            ("/invoices/{invoice_id}/status/sent", "POST", self.mark_sent),
            ("/salesreceipts", "GET", self.list_receipts),
            ("/salesreceipts", "POST", self.create_receipt),
            ("/salesreceipts/{sales_receipt_id}", "GET", self.get_receipt),
            ("/salesreceipts/{sales_receipt_id}", "PUT", self.update_receipt),
            ("/customerpayments", "GET", self.list_payments),
            ("/customerpayments", "POST", self.create_payment),
            ("/customerpayments/{payment_id}", "GET", self.get_payment),
            ("/creditnotes", "GET", self.list_creditnotes),
            ("/creditnotes", "POST", self.create_creditnote),
            ("/creditnotes/{creditnote_id}", "GET", self.get_creditnote),
            ("/creditnotes/{creditnote_id}", "PUT", self.update_creditnote),
            ("/creditnotes/{creditnote_id}/invoices", "GET", self.list_creditnote_invoices),
            ("/creditnotes/{creditnote_id}/invoices", "POST", self.apply_creditnote),
            ("/creditnotes/{creditnote_id}/refunds", "GET", self.list_creditnote_refunds),
            ("/creditnotes/{creditnote_id}/refunds", "POST", self.refund_creditnote),
            ("/creditnotes/{creditnote_id}/status/void", "POST", self.void_creditnote),
            ("/settings/taxes", "GET", self.list_taxes),
            ("/settings/currencies", "GET", self.list_currencies),
            (
                "/settings/currencies/{currency_id}/exchangerates",
                "GET",
                self.list_exchange_rates,
            ),
            ("/settings/fields", "GET", self.list_custom_fields),
            ("/chartofaccounts", "GET", self.list_accounts),
            ("/bankaccounts", "GET", self.list_bank_accounts),
        ]

    # ------------------------------------------------------------------ organisations & lookups

    async def organizations(self, request: Request, org: Organization | None, body: Any) -> Result:
        # GET /organizations (operationId list_organizations, organizations.yml; facts doc §3):
        # no organization_id, answers ``organizations[]`` -- only those the token's user
        # belongs to, which is what the connect command and the startup check rely on.
        user = self.emulator._authenticate(request)
        orgs = [self.state.organizations[o].as_json() for o in self.state.user_orgs.get(user, [])]
        return 200, {"code": 0, "message": "success", "organizations": orgs}

    async def list_taxes(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        return _page(request, [t.as_json() for t in org.taxes.values()], "taxes")

    async def list_currencies(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        assert org is not None
        return _page(request, list(org.currencies.values()), "currencies")

    async def list_exchange_rates(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        """GET /settings/currencies/{currency_id}/exchangerates (currency.yml,
        list_exchange_rates): the currency's dated rates. ``from_date`` "Returns the
        exchange rate details from the given date or from previous closest match in the
        absence of the exchange rate on the given date": the rates effective on or after
        that day and, when none is effective on the day itself, the closest before it.
        ``is_current_date`` answers only a rate effective today (UTC). An unknown currency
        is code 1002 (Zoho's "does not exist")."""
        assert org is not None
        cid = request.path_params["currency_id"]
        currency = org.currencies.get(cid)
        if currency is None:
            raise ZohoError(404, 1002, "Currency does not exist.")
        rows = sorted(org.exchange_rates.get(cid, []), key=lambda r: str(r["effective_date"]))
        since = request.query_params.get("from_date")
        if since:
            later = [r for r in rows if str(r["effective_date"]) >= since]
            before = [r for r in rows if str(r["effective_date"]) < since]
            if before and not any(str(r["effective_date"]) == since for r in later):
                later = [before[-1], *later]
            rows = later
        if request.query_params.get("is_current_date") == "true":
            today = datetime.now(UTC).date().isoformat()
            rows = [r for r in rows if str(r["effective_date"]) == today]
        out = [
            {
                "exchange_rate_id": r["exchange_rate_id"],
                "currency_id": cid,
                "currency_code": currency["currency_code"],
                "effective_date": r["effective_date"],
                "rate": r["rate"],
            }
            for r in rows
        ]
        return _ok(200, "success", "exchange_rates", out)

    async def list_custom_fields(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        """GET /settings/fields: the organisation's custom fields. Zoho's custom-fields API
        page (https://www.zoho.com/books/api/v3/custom-fields, "Create a custom field":
        ``POST /settings/fields`` with ``label``, ``data_type``, ``entity``; scope
        ZohoBooks.settings) documents the resource; the list's exact response shape is not
        in the refdata OpenAPI, so the emulator answers the fields a write needs
        (``customfield_id``, ``label``, ``api_name``, ``entity``) under ``customfields``,
        optionally filtered by ``entity``. Unconfirmed live (docs/connectors/zohobooks.md)."""
        assert org is not None
        wanted = request.query_params.get("entity")
        rows = [
            {
                "customfield_id": f.customfield_id,
                "label": f.label,
                "api_name": f.api_name,
                "entity": ENTITY_OF[module],
                "data_type": "string",
                "is_active": True,
                "is_unique": f.unique,
            }
            for module, fields in org.custom_fields.items()
            for f in fields.values()
            if wanted in (None, "", ENTITY_OF[module])
        ]
        return _page(request, rows, "customfields")

    async def list_accounts(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        return _page(request, list(org.accounts.values()), "chartofaccounts")

    async def list_bank_accounts(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        assert org is not None
        return _page(request, list(org.bank_accounts.values()), "bankaccounts")

    # ------------------------------------------------------------------ contacts

    def _contact_fields(
        self, org: Organization, body: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        if current is None and not body.get("contact_name"):
            raise ZohoError(400, 2, "Contact name is required.")
        row = dict(current or {})
        for key in (
            "contact_name",
            "company_name",
            "contact_type",
            "billing_address",
            "shipping_address",
            "notes",
            "website",
        ):
            if key in body:
                row[key] = body[key]
        if "currency_id" in body:
            currency = org.currencies.get(str(body["currency_id"]))
            if currency is None:
                raise ZohoError(
                    400, 2, f"Invalid value passed for currency_id: {body['currency_id']}"
                )
            row["currency_id"], row["currency_code"] = (
                currency["currency_id"],
                currency["currency_code"],
            )
        row.setdefault("currency_id", (org.base_currency() or {}).get("currency_id", ""))
        row.setdefault("currency_code", org.currency_code)
        persons = body.get("contact_persons")
        if persons is not None:
            row["contact_persons"] = persons
            primary = next(
                (p for p in persons if p.get("is_primary_contact")), persons[0] if persons else {}
            )
            row["email"] = primary.get("email", "") or ""
            row["first_name"] = primary.get("first_name", "") or ""
            row["last_name"] = primary.get("last_name", "") or ""
            row["phone"] = primary.get("phone", "") or ""
        row.setdefault("email", "")
        row["custom_fields"], row["custom_field_hash"] = _custom_fields(
            org, "contacts", body, current
        )
        row["last_modified_time"] = _now()
        return row

    async def list_contacts(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        q = request.query_params
        rows = list(org.contacts.values())
        if q.get("email"):
            rows = [r for r in rows if r.get("email", "").lower() == q["email"].lower()]
        if q.get("contact_name"):  # contacts.yml list-contacts: "Search contacts by contact name"
            rows = [r for r in rows if r.get("contact_name", "") == q["contact_name"]]
        if q.get("search_text"):
            needle = q["search_text"].lower()
            rows = [
                r
                for r in rows
                if needle
                in " ".join(
                    [
                        r.get("contact_name", ""),
                        r.get("email", ""),
                        *map(str, r.get("custom_field_hash", {}).values()),
                    ]
                ).lower()
            ]
        return _page(request, rows, "contacts")

    async def create_contact(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        row = self._contact_fields(org, body, None)
        row["contact_id"] = self.state.ids.next()
        row["created_time"] = row["last_modified_time"]
        org.contacts[row["contact_id"]] = row
        return _ok(201, "The contact has been added.", "contact", row)

    async def get_contact(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        return _ok(
            200,
            "success",
            "contact",
            _get(org.contacts, request.path_params["contact_id"], "Contact"),
        )

    async def update_contact(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        current = _get(org.contacts, request.path_params["contact_id"], "Contact")
        rules.contact_currency_change(org, current, body)
        current.update(self._contact_fields(org, body, current))
        return _ok(200, "Contact information has been saved.", "contact", current)

    async def upsert_contact(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        found = self._by_unique_key(request, org, "contacts")
        if found is not None:
            rules.contact_currency_change(org, found, body)
            found.update(self._contact_fields(org, body, found))
            return _ok(200, "Contact information has been saved.", "contact", found)
        _, payload = await self.create_contact(request, org, body)
        return 200, payload

    # ------------------------------------------------------------------ unique custom field upsert

    def _by_unique_key(
        self, request: Request, org: Organization, entity: str
    ) -> dict[str, Any] | None:
        key = request.headers.get("x-unique-identifier-key", "")
        value = request.headers.get("x-unique-identifier-value", "")
        field_def = org.field_by_api_name(entity, key)
        if field_def is None or not field_def.unique:
            raise ZohoError(
                400,
                2,
                f"Invalid value passed for X-Unique-Identifier-Key: {key} is not a unique "
                "custom field.",
            )
        for row in _table_for(org, entity).values():
            if row.get("custom_field_hash", {}).get(key) == value:
                return row
        if request.headers.get("x-upsert", "").lower() != "true":
            raise ZohoError(404, 1002, "No record matches the unique identifier.")
        return None

    # ------------------------------------------------------------------ items

    def _item_fields(
        self, org: Organization, body: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        if current is None and (not body.get("name") or body.get("rate") in (None, "")):
            raise ZohoError(400, 2, "Item name and rate are required.")
        row = dict(current or {})
        for key in (
            "name",
            "sku",
            "description",
            "account_id",
            "product_type",
            "item_type",
            "upc",
            "ean",
        ):
            if key in body:
                row[key] = body[key]
        if "rate" in body:
            row["rate"] = dec(body["rate"])
        if current is None and body.get("item_type") == "inventory":
            # items.yml create_item: ``initial_stock`` is the opening stock of an inventory
            # item; later stock moves through inventory adjustments, not item updates.
            row["stock_on_hand"] = dec(body.get("initial_stock") or 0)
        if "tax_id" in body:
            tax = org.tax(body["tax_id"])
            row["tax_id"] = tax.tax_id if tax else ""
            row["tax_name"] = tax.tax_name if tax else ""
            row["tax_percentage"] = tax.tax_percentage if tax else ZERO
        if body.get("sku"):
            for other in org.items.values():
                if other is not current and other.get("sku") == body["sku"]:
                    raise ZohoError(400, 4, f"The SKU {body['sku']} already exists.")
        row.setdefault("sku", "")
        row.setdefault("status", "active")
        row["last_modified_time"] = _now()
        return row

    async def list_items(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        rows = list(org.items.values())
        since = request.query_params.get("last_modified_time")
        if since:
            # The changed-since filter the catalog connector sends (zoho-books.md §6: declared
            # for other modules, unconfirmed for items); "modified after", read inclusively.
            try:
                floor = datetime.strptime(since, "%Y-%m-%dT%H:%M:%S%z")
            except ValueError:
                raise ZohoError(400, 2, "Invalid value passed for last_modified_time") from None
            rows = [r for r in rows if r.get("last_modified_time") and datetime.strptime(
                r["last_modified_time"], "%Y-%m-%dT%H:%M:%S%z") >= floor]  # fmt: skip
        # ``filter_by`` (spec: GET /items, "Status.All, Status.Active and Status.Inactive").
        # The spec gives no default; the stricter reading lists active items only, so a
        # client that wants inactive items too must ask for them (zoho-books.md §6 items).
        wanted = request.query_params.get("filter_by", "Status.Active")
        if wanted not in ("Status.All", "Status.Active", "Status.Inactive"):
            raise ZohoError(400, 2, "Invalid value passed for filter_by")
        if wanted != "Status.All":
            status = wanted.removeprefix("Status.").lower()
            rows = [r for r in rows if r.get("status", "active") == status]
        if request.query_params.get("search_text"):
            needle = request.query_params["search_text"].lower()
            rows = [
                r for r in rows if needle in (r.get("name", "") + " " + r.get("sku", "")).lower()
            ]
        return _page(request, rows, "items")

    async def create_item(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        row = self._item_fields(org, body, None)
        row["item_id"] = self.state.ids.next()
        org.items[row["item_id"]] = row
        return _ok(201, "The item has been added.", "item", row)

    async def get_item(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        return _ok(200, "success", "item", _get(org.items, request.path_params["item_id"], "Item"))

    async def update_item(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        current = _get(org.items, request.path_params["item_id"], "Item")
        current.update(self._item_fields(org, body, current))
        return _ok(200, "The item details have been updated.", "item", current)

    async def _mark_item(self, request: Request, org: Organization | None, status: str) -> Result:
        # items.yml mark_item_active / mark_item_inactive: 200 "The item has been marked as ..."
        assert org is not None
        current = _get(org.items, request.path_params["item_id"], "Item")
        current["status"] = status
        current["last_modified_time"] = _now()
        return 200, {"code": 0, "message": f"The item has been marked as {status}."}

    async def mark_item_active(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        return await self._mark_item(request, org, "active")

    async def mark_item_inactive(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        return await self._mark_item(request, org, "inactive")

    # ------------------------------------------------------------------ documents

    def _document(
        self, org: Organization, entity: str, body: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        merged = {**(current or {}).get("_request", {}), **body}
        contact = org.contacts.get(str(merged.get("customer_id", "")))
        if contact is None:
            raise ZohoError(
                400, 2, f"Invalid value passed for customer_id: {merged.get('customer_id')}"
            )
        currency, rate = rules.document_currency(org, contact, merged)
        currency_code = currency["currency_code"]
        computed = compute_document(org, merged, org.places(currency))
        row = dict(current or {})
        row.update(
            {
                "_request": merged,
                "customer_id": contact["contact_id"],
                "customer_name": contact["contact_name"],
                "date": merged.get("date") or datetime.now(UTC).date().isoformat(),
                "reference_number": merged.get("reference_number", "") or "",
                "currency_id": currency["currency_id"],
                "currency_code": currency_code,
                "exchange_rate": rate,
                "is_inclusive_tax": bool(merged.get("is_inclusive_tax", False)),
                "discount": computed.discount_total,
                "discount_total": computed.discount_total,
                "is_discount_before_tax": computed.is_discount_before_tax,
                "discount_type": computed.discount_type,
                "line_items": [
                    {**line, "line_item_id": self.state.ids.next()} for line in computed.lines
                ],
                "sub_total": computed.sub_total,
                "tax_total": computed.tax_total,
                "taxes": computed.taxes,
                "shipping_charge": computed.shipping_charge,
                "adjustment": computed.adjustment,
                "adjustment_description": merged.get("adjustment_description", "") or "",
                "total": computed.total,
                "bcy_total": money(computed.total * rate, org.price_precision),
                "notes": merged.get("notes", "") or "",
                "last_modified_time": _now(),
            }
        )
        row["custom_fields"], row["custom_field_hash"] = _custom_fields(org, entity, body, current)
        return row

    @staticmethod
    def _public(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if not k.startswith("_")}

    # invoices

    def _refresh_invoice(self, row: dict[str, Any]) -> None:
        paid = sum((p for p in row.get("_payments", {}).values()), ZERO)
        credited = sum((c for c in row.get("_credits", {}).values()), ZERO)
        row["payment_made"], row["credits_applied"] = paid, credited
        row["balance"] = row["total"] - paid - credited
        if row.get("status") == "void":
            return
        if row["balance"] <= 0 and (paid or credited):
            row["status"] = "paid"
        elif paid or credited:
            row["status"] = "partially_paid"

    async def list_invoices(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        q = request.query_params
        rows = list(org.invoices.values())
        if q.get("reference_number"):  # Zoho may match loosely: substring here, on purpose
            rows = [r for r in rows if q["reference_number"] in r.get("reference_number", "")]
        if q.get("status"):
            rows = [r for r in rows if r.get("status") == q["status"]]
        summary = (
            "invoice_id",
            "invoice_number",
            "reference_number",
            "status",
            "customer_id",
            "customer_name",
            "date",
            "currency_code",
            "total",
            "balance",
            "last_modified_time",
            "custom_field_hash",
        )
        return _page(request, [{k: r.get(k) for k in summary} for r in rows], "invoices")

    async def create_invoice(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        rules.invoice_request(body)
        row = self._document(org, "invoices", body, None)
        row["invoice_id"] = self.state.ids.next()
        row["invoice_number"] = self._number(
            request, org, body, "invoice_number", "INV", org.invoices
        )
        row["status"] = "draft"
        row["_payments"], row["_credits"] = {}, {}
        self._refresh_invoice(row)
        org.invoices[row["invoice_id"]] = row
        return _ok(201, "The invoice has been created.", "invoice", self._public(row))

    def _number(
        self,
        request: Request,
        org: Organization,
        body: dict[str, Any],
        field_name: str,
        prefix: str,
        table: dict[str, dict[str, Any]],
    ) -> str:
        if request.query_params.get("ignore_auto_number_generation", "").lower() == "true":
            number = str(body.get(field_name) or "")
            if not number:
                raise ZohoError(
                    400, 2, f"{field_name} is required when auto number generation is off."
                )
            if any(r.get(field_name) == number for r in table.values()):
                raise ZohoError(400, 4, f"{field_name} {number} already exists.")
            return number
        return org.next_number(prefix)

    async def get_invoice(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        return _ok(
            200,
            "success",
            "invoice",
            self._public(_get(org.invoices, request.path_params["invoice_id"], "Invoice")),
        )

    async def update_invoice(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        current = _get(org.invoices, request.path_params["invoice_id"], "Invoice")
        rules.invoice_request(body)
        current.update(self._document(org, "invoices", body, current))
        self._refresh_invoice(current)
        if current["balance"] < 0:
            raise ZohoError(
                400, 2, "The invoice total is less than the payments and credits applied."
            )
        return _ok(200, "Invoice information has been updated.", "invoice", self._public(current))

    async def upsert_invoice(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        rules.invoice_request(body)
        found = self._by_unique_key(request, org, "invoices")
        if found is not None:
            found.update(self._document(org, "invoices", body, found))
            self._refresh_invoice(found)
            return _ok(200, "Invoice information has been updated.", "invoice", self._public(found))
        _, payload = await self.create_invoice(request, org, body)
        return 200, payload  # the spec documents 200 for PUT /invoices, also when it creates

    async def void_invoice(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        row = _get(org.invoices, request.path_params["invoice_id"], "Invoice")
        row["status"] = "void"
        for payment_id, amount in row.get("_payments", {}).items():
            payment = org.payments[payment_id]
            payment["unused_amount"] += amount
        row["_payments"], row["_credits"] = {}, {}
        row["balance"] = ZERO
        return 200, {"code": 0, "message": "Invoice status has been changed to Void."}

    async def mark_sent(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        row = _get(org.invoices, request.path_params["invoice_id"], "Invoice")
        if row["status"] == "draft":
            row["status"] = "sent"
        return 200, {"code": 0, "message": "Invoice status has been changed to Sent."}

    # sales receipts

    async def list_receipts(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        rows = list(org.salesreceipts.values())
        if request.query_params.get("receipt_number"):
            rows = [
                r for r in rows if r.get("receipt_number") == request.query_params["receipt_number"]
            ]
        return _page(request, [self._public(r) for r in rows], "salesreceipts")

    async def create_receipt(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        if not body.get("payment_mode"):
            raise ZohoError(400, 2, "payment_mode is required.")
        rules.sales_receipt_request(body)
        row = self._document(org, "salesreceipts", body, None)
        row["sales_receipt_id"] = self.state.ids.next()
        row["receipt_number"] = self._number(
            request, org, body, "receipt_number", "SR", org.salesreceipts
        )
        row["payment_mode"] = body["payment_mode"]
        row["status"] = "sent"
        row["balance"] = ZERO
        org.salesreceipts[row["sales_receipt_id"]] = row
        return _ok(201, "Sales Receipt Created Successfully.", "salesreceipt", self._public(row))

    async def get_receipt(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        row = _get(org.salesreceipts, request.path_params["sales_receipt_id"], "Sales receipt")
        return _ok(200, "success", "salesreceipt", self._public(row))

    async def update_receipt(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        current = _get(org.salesreceipts, request.path_params["sales_receipt_id"], "Sales receipt")
        rules.sales_receipt_request(body, update=True)
        current.update(self._document(org, "salesreceipts", body, current))
        return _ok(200, "Sales receipt updated.", "salesreceipt", self._public(current))

    # customer payments

    async def list_payments(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        rows = list(org.payments.values())
        ref = request.query_params.get("reference_number")
        if ref:
            rows = [r for r in rows if ref in r.get("reference_number", "")]
        return _page(request, rows, "customer_payments")

    async def create_payment(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        contact = org.contacts.get(str(body.get("customer_id", "")))
        if contact is None:
            raise ZohoError(
                400, 2, f"Invalid value passed for customer_id: {body.get('customer_id')}"
            )
        rules.payment_request(body)
        for required in ("payment_mode", "amount", "date"):
            if body.get(required) in (None, ""):
                raise ZohoError(400, 2, f"{required} is required.")
        currency, rate = rules.document_currency(org, contact, body)
        places = org.places(currency)  # the payment's currency's precision (facts §8.1)
        amount = money(dec(body["amount"]), places)
        if amount <= 0:
            raise ZohoError(400, 2, "Invalid value passed for amount")
        applications = body.get("invoices") or []
        applied_total = ZERO
        checked: list[tuple[dict[str, Any], Decimal]] = []
        for entry in applications:
            invoice = org.invoices.get(str(entry.get("invoice_id", "")))
            if invoice is None or invoice.get("status") == "void":
                raise ZohoError(
                    400, 2, f"Invalid value passed for invoice_id: {entry.get('invoice_id')}"
                )
            # Stricter reading (customer-payments.yml leaves it unsaid): a payment is applied
            # to its own customer's invoices only, so it is in their currency.
            if invoice.get("customer_id") != contact["contact_id"]:
                raise ZohoError(
                    400, 2, f"Invoice {invoice['invoice_number']} belongs to another customer."
                )
            applied = money(dec(entry.get("amount_applied")), places)
            if applied > invoice["balance"]:
                raise ZohoError(
                    400,
                    24016,
                    "The amount entered is more than the balance due for the selected invoices.",
                )
            applied_total += applied
            checked.append((invoice, applied))
        if applied_total > amount:
            raise ZohoError(400, 2, "The amount applied is more than the payment amount.")
        payment_id = self.state.ids.next()
        for invoice, applied in checked:
            invoice.setdefault("_payments", {})[payment_id] = applied
            self._refresh_invoice(invoice)
        row = {
            "payment_id": payment_id,
            "payment_number": org.next_number("PMT"),
            "customer_id": contact["contact_id"],
            "customer_name": contact["contact_name"],
            "payment_mode": body["payment_mode"],
            "amount": amount,
            "unused_amount": amount - applied_total,
            "amount_refunded": ZERO,
            "bank_charges": dec(body.get("bank_charges")),
            "date": body["date"],
            "reference_number": body.get("reference_number", "") or "",
            # customer-payments.yml create-a-payment-request: description is kept as sent
            "description": body.get("description", "") or "",
            "account_id": str(body.get("account_id", "") or ""),
            "exchange_rate": rate,
            "currency_code": currency["currency_code"],
            "invoices": [
                {
                    "invoice_id": inv["invoice_id"],
                    "invoice_number": inv["invoice_number"],
                    "amount_applied": a,
                    "balance_amount": inv["balance"],
                }
                for inv, a in checked
            ],
            "last_modified_time": _now(),
        }
        row["custom_fields"], row["custom_field_hash"] = _custom_fields(
            org, "customerpayments", body, None
        )
        org.payments[payment_id] = row
        return _ok(201, "The payment has been created.", "payment", row)

    async def get_payment(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        return _ok(
            200,
            "success",
            "payment",
            _get(org.payments, request.path_params["payment_id"], "Payment"),
        )

    # credit notes

    def _refresh_creditnote(self, row: dict[str, Any]) -> None:
        used = sum(row.get("_applied", {}).values(), ZERO) + sum(row.get("_refunds", []), ZERO)
        row["balance"] = row["total"] - used
        if row.get("status") != "void":
            row["status"] = "closed" if row["balance"] <= 0 else "open"

    async def list_creditnotes(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        assert org is not None
        rows = list(org.creditnotes.values())
        ref = request.query_params.get("reference_number")
        if ref:
            rows = [r for r in rows if ref in r.get("reference_number", "")]
        return _page(request, [self._public(r) for r in rows], "creditnotes")

    async def create_creditnote(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        assert org is not None
        if not body.get("date"):
            raise ZohoError(400, 2, "date is required.")
        rules.credit_note_request(body)
        row = self._document(org, "creditnotes", body, None)
        row["creditnote_id"] = self.state.ids.next()
        row["creditnote_number"] = self._number(
            request, org, body, "creditnote_number", "CN", org.creditnotes
        )
        row["_applied"], row["_refunds"] = {}, []
        invoice_id = request.query_params.get("invoice_id")
        if invoice_id:
            _get(org.invoices, invoice_id, "Invoice")
            row["invoice_id"] = invoice_id
        self._refresh_creditnote(row)
        org.creditnotes[row["creditnote_id"]] = row
        return _ok(201, "The credit note has been created.", "creditnote", self._public(row))

    async def get_creditnote(self, request: Request, org: Organization | None, body: Any) -> Result:
        assert org is not None
        row = _get(org.creditnotes, request.path_params["creditnote_id"], "Credit note")
        return _ok(200, "success", "creditnote", self._public(row))

    async def update_creditnote(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        assert org is not None
        current = _get(org.creditnotes, request.path_params["creditnote_id"], "Credit note")
        rules.credit_note_request(body)
        current.update(self._document(org, "creditnotes", body, current))
        self._refresh_creditnote(current)
        if current["balance"] < 0:
            raise ZohoError(
                400, 2, "The credit note total is less than the credits applied and refunded."
            )
        return _ok(
            200, "Credit Note information has been updated.", "creditnote", self._public(current)
        )

    async def apply_creditnote(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        assert org is not None
        note = _get(org.creditnotes, request.path_params["creditnote_id"], "Credit note")
        applied_rows = []
        for entry in body.get("invoices") or []:
            invoice = _get(org.invoices, str(entry.get("invoice_id", "")), "Invoice")
            places = org.places(org.currencies.get(str(note.get("currency_id", ""))))
            amount = money(dec(entry.get("amount_applied")), places)
            if amount > note["balance"] or amount > invoice["balance"]:
                raise ZohoError(400, 24016, "The amount applied is more than the balance.")
            note["_applied"][invoice["invoice_id"]] = (
                note["_applied"].get(invoice["invoice_id"], ZERO) + amount
            )
            # One row per application, as GET /creditnotes/{id}/invoices lists them
            # (credit-notes.yml, list_invoices_of_credit_note: invoices_credited).
            note.setdefault("_credited_rows", []).append(
                {
                    "creditnote_id": note["creditnote_id"],
                    "invoice_id": invoice["invoice_id"],
                    "creditnote_invoice_id": self.state.ids.next(),
                    "date": datetime.now(UTC).date().isoformat(),
                    "invoice_number": invoice["invoice_number"],
                    "creditnote_number": note["creditnote_number"],
                    "credited_amount": amount,
                }
            )
            invoice.setdefault("_credits", {})[note["creditnote_id"]] = (
                invoice.get("_credits", {}).get(note["creditnote_id"], ZERO) + amount
            )
            self._refresh_invoice(invoice)
            self._refresh_creditnote(note)
            applied_rows.append({"invoice_id": invoice["invoice_id"], "amount_applied": amount})
        if not applied_rows:
            raise ZohoError(400, 2, "Select at least one invoice.")
        return _ok(
            200,
            "Credits have been applied to the invoice(s).",
            "apply_to_invoices",
            {"invoices": applied_rows},
        )

    async def refund_creditnote(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        assert org is not None
        note = _get(org.creditnotes, request.path_params["creditnote_id"], "Credit note")
        places = org.places(org.currencies.get(str(note.get("currency_id", ""))))
        amount = money(dec(body.get("amount")), places)  # the note's currency (facts §8.1)
        if amount <= 0 or amount > note["balance"]:
            raise ZohoError(400, 2, "The refund amount is more than the credit note balance.")
        if not body.get("from_account_id") or str(body["from_account_id"]) not in {
            **org.accounts,
            **org.bank_accounts,
        }:
            raise ZohoError(
                400, 2, f"Invalid value passed for from_account_id: {body.get('from_account_id')}"
            )
        note["_refunds"].append(amount)
        self._refresh_creditnote(note)
        refund = {
            "creditnote_refund_id": self.state.ids.next(),
            "creditnote_id": note["creditnote_id"],
            "date": body.get("date", ""),
            "refund_mode": body.get("refund_mode", "") or "",
            "reference_number": body.get("reference_number", "") or "",
            "amount": amount,
            "from_account_id": str(body["from_account_id"]),
            "description": body.get("description", "") or "",
        }
        note.setdefault("_refund_rows", []).append(refund)
        return _ok(
            200, "The credit note amount is refunded successfully.", "creditnote_refund", refund
        )

    async def list_creditnote_refunds(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        """GET /creditnotes/{id}/refunds (credit-notes.yml,
        list_credit_note_refunds_of_a_credit_note): the note's refunds, with the
        ``reference_number`` and ``description`` they were written with, amounts as
        ``amount_fcy`` (the note's currency) and ``amount_bcy`` (base currency)."""
        assert org is not None
        note = _get(org.creditnotes, request.path_params["creditnote_id"], "Credit note")
        rate = dec(note.get("exchange_rate"), Decimal(1))
        rows = [
            {
                "creditnote_refund_id": r["creditnote_refund_id"],
                "creditnote_id": note["creditnote_id"],
                "date": r["date"],
                "refund_mode": r["refund_mode"],
                "reference_number": r["reference_number"],
                "creditnote_number": note["creditnote_number"],
                "customer_name": note.get("customer_name", ""),
                "description": r["description"],
                "amount_fcy": r["amount"],
                "amount_bcy": money(r["amount"] * rate, org.price_precision),
            }
            for r in note.get("_refund_rows", [])
        ]
        return _page(request, rows, "creditnote_refunds")

    async def list_creditnote_invoices(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        """GET /creditnotes/{id}/invoices (credit-notes.yml, list_invoices_of_credit_note):
        one row per application of the note, key ``invoices_credited``."""
        assert org is not None
        note = _get(org.creditnotes, request.path_params["creditnote_id"], "Credit note")
        return _ok(200, "success", "invoices_credited", list(note.get("_credited_rows", [])))

    async def void_creditnote(
        self, request: Request, org: Organization | None, body: Any
    ) -> Result:
        assert org is not None
        note = _get(org.creditnotes, request.path_params["creditnote_id"], "Credit note")
        note["status"] = "void"
        return 200, {"code": 0, "message": "The credit note has been voided."}
