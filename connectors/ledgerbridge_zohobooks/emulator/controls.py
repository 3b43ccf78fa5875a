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

Outside ``/books/v3``: no OAuth token, no rate limit, never seen by the contract tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..jsonmoney import loads
from .state import CustomField

if TYPE_CHECKING:
    from .app import ZohoBooksEmulator

PATH = "/_emulator/customfields"
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

    return [
        Route(PATH, create, methods=["POST"]),
        Route(PATH, listing, methods=["GET"]),
    ]
