"""Sandbox controls that stand in for the Zoho Books web app (not part of Zoho's API).

A merchant creates custom fields in the web app (Settings -> Preferences -> <module> ->
Field Customization).  The refdata OpenAPI has no operation for it (per-record value
updates and custom *modules* only; Zoho's custom-fields page documents ``/settings/fields``,
which the emulator answers read-only for the connector: ``resources.list_custom_fields``).
So a fresh organisation of this emulator has no custom field but the ledgerbridge key
field its seed always had, and a person following the sandbox quick start creates the
ones a mapping writes here, the way they would click them into Zoho:

    POST /_emulator/customfields
    {"organization_id": "10234695", "module": "invoices", "api_name": "cf_source_order_id"}

An accountant edits an invoice in the web app; so a conflict can be tried by hand
(`docs/quickstart-sandbox.md`, "Try a conflict"):

    POST /_emulator/invoices/{invoice_id}
    {"organization_id": "10234695", "notes": "edited by the accountant"}

changes the invoice's plain, non-computed fields (``EDITABLE``: amounts, status and
balances are Zoho's to compute from lines and payments, so never edited here) and moves
its ``last_modified_time`` on, as any edit in the web app does.

Outside ``/books/v3``: no OAuth token, no rate limit, never seen by the contract tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ledgerbridge.sandbox.edits import (
    EditRefused,
    answer,
    later,
    plain_changes,
    read_object,
    refused,
)

from ..jsonmoney import loads
from .state import CustomField

if TYPE_CHECKING:
    from .app import ZohoBooksEmulator

PATH = "/_emulator/customfields"
INVOICES = "/_emulator/invoices/{invoice_id}"
# What the invoice page lets an accountant change without touching lines (the OpenAPI's
# ``update-an-invoice-request`` body of ``update_invoice``, zoho-books-openapi/invoices.yml).
EDITABLE = frozenset({"notes", "terms", "reference_number", "due_date", "salesperson_name"})
TIME = "%Y-%m-%dT%H:%M:%S%z"
# The modules whose writes carry custom fields (resources._table_for).
MODULES = ("contacts", "invoices", "salesreceipts", "creditnotes", "customerpayments")


def routes(emulator: ZohoBooksEmulator) -> list[Route]:
    async def create(request: Request) -> Response:
        try:
            body: Any = loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "send JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "send a JSON object"}, status_code=400)
        org = emulator.state.organizations.get(str(body.get("organization_id", "")))
        module = str(body.get("module", ""))
        api_name = str(body.get("api_name", ""))
        if org is None:
            return JSONResponse({"error": "unknown organization_id"}, status_code=404)
        if module not in MODULES:
            return JSONResponse({"error": f"module must be one of {list(MODULES)}"}, 400)
        if not api_name.startswith("cf_") or not api_name[3:].replace("_", "").isalnum():
            # The web app derives API names as cf_<label words joined by underscores>.
            return JSONResponse({"error": "api_name must look like cf_words_with_underscores"}, 400)
        fields = org.custom_fields.setdefault(module, {})
        if api_name not in fields:
            label = api_name.removeprefix("cf_").replace("_", " ").title()
            fields[api_name] = CustomField(
                emulator.state.ids.next(), api_name, label, unique=bool(body.get("unique"))
            )
        made = fields[api_name]
        return JSONResponse(
            {"module": module, "api_name": made.api_name, "customfield_id": made.customfield_id},
            status_code=201,
        )

    async def listing(request: Request) -> Response:
        org = emulator.state.organizations.get(request.query_params.get("organization_id", ""))
        if org is None:
            return JSONResponse({"error": "unknown organization_id"}, status_code=404)
        return JSONResponse(
            {module: sorted(fields) for module, fields in org.custom_fields.items()}
        )

    async def edit_invoice(request: Request) -> Response:
        body = await read_object(request)
        if isinstance(body, Response):
            return body
        org = emulator.state.organizations.get(str(body.get("organization_id", "")))
        if org is None:
            return JSONResponse({"error": "unknown organization_id"}, status_code=404)
        invoice = org.invoices.get(request.path_params["invoice_id"])
        if invoice is None:
            return JSONResponse({"error": "no such invoice in that organisation"}, 404)
        try:
            changes = plain_changes(invoice, body, ignore=frozenset({"organization_id"}))
            if not changes.keys() <= EDITABLE:
                wrong = sorted(changes.keys() - EDITABLE)[0]
                raise EditRefused(f"{wrong!r} is not edited here; edit one of {sorted(EDITABLE)}")
        except EditRefused as exc:
            return refused(exc)
        previous = datetime.strptime(invoice["last_modified_time"], TIME)
        invoice.update(changes)
        now = datetime.now(UTC).replace(microsecond=0)
        invoice["last_modified_time"] = later(previous, now).strftime(TIME)
        return answer({"invoice": invoice})

    return [
        Route(PATH, create, methods=["POST"]),
        Route(PATH, listing, methods=["GET"]),
        Route(INVOICES, edit_invoice, methods=["POST"]),
    ]
