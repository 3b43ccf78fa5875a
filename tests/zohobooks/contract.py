"""Contract checks against Zoho's official OpenAPI (../shared/refdata/zoho-books-openapi).

For each exchange: the operation must exist (method + path template), every
query parameter and ``X-*`` header must be declared, required ones present and
values of the declared type, the JSON body valid against the request schema,
and the response body valid against the response schema of its status.

The spec has known defects (facts doc §12).  They are handled by the explicit,
commented ``DEFECTS`` allow-list below -- each one a narrow patch of the schema
for the operation it concerns -- never by switching validation off.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator

from ledgerbridge_zohobooks.emulator import Exchange

from ..conftest import REFDATA

SPEC_DIR = REFDATA / "zoho-books-openapi"
# The modules the connector talks to (the other 31 files are not loaded: faster).
SPEC_FILES = (
    "organizations", "contacts", "items", "invoices", "sales-receipt", "customer-payments",
    "credit-notes", "taxes", "currency", "chart-of-accounts", "bank-accounts",
)  # fmt: skip

Patch = Callable[[dict[str, Any]], None]


def _drop_required(*names: str, at: tuple[str, ...] = ()) -> Patch:
    def patch(schema: dict[str, Any]) -> None:
        node = schema
        for step in at:
            node = node["items"] if step == "[]" else node["properties"][step]
        node["required"] = [n for n in node.get("required", []) if n not in names]

    return patch


def _page_context_object(schema: dict[str, Any]) -> None:
    schema.get("properties", {})["page_context"] = {
        "type": "object",
        "properties": {
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "has_more_page": {"type": "boolean"},
        },
    }


def _list_of_objects(key: str) -> Patch:
    def patch(schema: dict[str, Any]) -> None:
        node = schema["properties"][key]
        if node.get("type") == "object":
            schema["properties"][key] = {"type": "array", "items": node}

    return patch


def _custom_fields_objects(schema: dict[str, Any]) -> None:
    schema["properties"]["custom_fields"] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "customfield_id": {"type": "string"},
                "value": {},
            },
        },
    }


def _contact_custom_fields_by_label(schema: dict[str, Any]) -> None:
    items = schema["properties"]["custom_fields"]["items"]
    items["properties"]["label"] = {"type": "string"}


# Money typed "string" in some response schemas, while live responses carry JSON numbers
# (facts doc §8.1; refdata real-world-redacted/books_invoice_get_NGN_trimmed.json has
# "total": 1.08 and "tax_percentage": 7.5).  Only these field names accept a number too.
MONEY_TYPED_AS_STRING = frozenset(
    {"total", "balance", "shipping_charge", "tax_amount", "tax_percentage", "bcy_total"}
)


def _money_may_be_number(node: Any) -> None:
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            if (
                name in MONEY_TYPED_AS_STRING
                and isinstance(prop, dict)
                and prop.get("type") == "string"
            ):
                node["properties"][name] = {"anyOf": [{"type": "string"}, {"type": "number"}]}
        for value in node.values():
            _money_may_be_number(value)
    elif isinstance(node, list):
        for value in node:
            _money_may_be_number(value)


# Applied to every response schema (see MONEY_TYPED_AS_STRING).
RESPONSE_DEFECTS: list[Patch] = [_money_may_be_number]

# (method, path template, "request" | "response") -> patches, each naming its defect.
DEFECTS: dict[tuple[str, str, str], list[Patch]] = {
    # Defect 4: line_items[].item_id is required, but description-only lines exist in real data.
    ("POST", "/invoices", "request"): [_drop_required("item_id", at=("line_items", "[]"))],
    ("PUT", "/invoices", "request"): [_drop_required("item_id", at=("line_items", "[]"))],
    ("PUT", "/invoices/{invoice_id}", "request"): [
        _drop_required("item_id", at=("line_items", "[]"))
    ],
    # Defect 5 (creditnote_number is required although Zoho generates it): see below.
    # Defect 6: invoice_id/amount_applied belong inside invoices[], not at the top level.
    ("POST", "/customerpayments", "request"): [_drop_required("invoice_id", "amount_applied")],
    # Defect 6 (same shape) for applying a credit note: they live inside invoices[].
    ("POST", "/creditnotes/{creditnote_id}/invoices", "request"): [
        _drop_required("invoice_id", "amount_applied")
    ],
    # Defect 1: page_context is typed as an array; live responses return an object.
    ("GET", "/invoices", "response"): [_page_context_object],
    # Not in the facts doc's list, found by these tests: the credit-note list key is typed
    # as one object; every Books list key is an array (facts doc §4.1).
    ("GET", "/creditnotes", "response"): [_list_of_objects("creditnotes")],
    # Not in the facts doc's list: credit-note custom_fields are typed as an array of strings,
    # while the same file's responses and every other module use objects: read as the
    # invoices' {customfield_id, value} (no request schema declares api_name).
    ("POST", "/creditnotes", "request"): [
        _drop_required("creditnote_number"),
        _custom_fields_objects,
    ],
    ("PUT", "/creditnotes/{creditnote_id}", "request"): [_custom_fields_objects],
    # contacts.yml: create declares custom_fields[{index, value}], update {index, label,
    # value} for the same list; the connector addresses contact fields by label (an index is
    # a position, not a field), so create is read with the update's shape.
    ("POST", "/contacts", "request"): [_contact_custom_fields_by_label],
}

# Operations Zoho documents on its API pages that the refdata OpenAPI files lack: not
# contract-checked (there is no schema to check against), each with its source.
DOCUMENTED_OUTSIDE_SPEC: dict[tuple[str, str], str] = {
    # The organisation's custom fields, read once per run to address fields by
    # customfield_id / label (customfields.py). https://www.zoho.com/books/api/v3/custom-fields
    # documents /settings/fields ("Create a custom field", entity, label, data_type).
    ("GET", "/settings/fields"): "https://www.zoho.com/books/api/v3/custom-fields",
}


def _resolve(root: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """Inline every local ``$ref`` (the Zoho files use only ``#/components/...``)."""
    if depth > 40:
        return {}
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _resolve(root, target, depth + 1)
        return {k: _resolve(root, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(root, v, depth + 1) for v in node]
    return node


@dataclass
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    literal_parts: int
    parameters: list[dict[str, Any]]
    request_schema: dict[str, Any] | None
    responses: dict[str, dict[str, Any] | None]


def _json_schema(content: dict[str, Any] | None) -> dict[str, Any] | None:
    if not content:
        return None
    media = content.get("application/json")
    return media.get("schema") if media else None


class ZohoContract:
    def __init__(self, spec_dir: Path) -> None:
        self.operations: list[Operation] = []
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        for name in SPEC_FILES:
            path = spec_dir / f"{name}.yml"
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
            for template, item in (doc.get("paths") or {}).items():
                shared = item.get("parameters", [])
                for method, op in item.items():
                    if method not in {"get", "post", "put", "delete"}:
                        continue
                    params = _resolve(doc, shared + op.get("parameters", []))
                    body = _resolve(doc, _json_schema((op.get("requestBody") or {}).get("content")))
                    responses = {
                        str(code): _resolve(doc, _json_schema(resp.get("content")))
                        for code, resp in (op.get("responses") or {}).items()
                    }
                    regex = "^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$"
                    self.operations.append(
                        Operation(
                            method.upper(),
                            template,
                            re.compile(regex),
                            len([p for p in template.split("/") if p and "{" not in p]),
                            params,
                            body,
                            responses,
                        )
                    )

    def find(self, method: str, path: str) -> Operation | None:
        matches = [o for o in self.operations if o.method == method and o.pattern.match(path)]
        return max(matches, key=lambda o: o.literal_parts) if matches else None

    def _schema(self, op: Operation, where: str, schema: dict[str, Any]) -> dict[str, Any]:
        patched = copy.deepcopy(schema)
        extra = RESPONSE_DEFECTS if where == "response" else []
        for patch in [*extra, *DEFECTS.get((op.method, op.template, where), [])]:
            patch(patched)
        return patched

    def check_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> list[str]:
        where = f"{method} {path}"
        op = self.find(method, path)
        if op is None and (method, path) in DOCUMENTED_OUTSIDE_SPEC:
            return []
        if op is None:
            return [f"{where}: no such operation in Zoho's OpenAPI"]
        problems: list[str] = []
        declared = {p["name"]: p for p in op.parameters if p.get("in") == "query"}
        for name, value in query.items():
            param = declared.get(name)
            if param is None:
                problems.append(f"{where}: query parameter {name!r} is not declared")
                continue
            problems += _check_value(where, name, value, param.get("schema") or {})
        for name, param in declared.items():
            if param.get("required") and name not in query:
                problems.append(f"{where}: required query parameter {name!r} missing")
        header_params = {p["name"].lower() for p in op.parameters if p.get("in") == "header"}
        for name in headers:
            if name.startswith("x-") and name not in header_params:
                problems.append(f"{where}: header {name!r} is not declared")
        if body not in (None, {}, b""):
            if op.request_schema is None:
                problems.append(f"{where}: sends a JSON body the operation does not take")
            else:
                problems += _validate(
                    where + " body", self._schema(op, "request", op.request_schema), body
                )
        return problems

    def check_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        op = self.find(method, path)
        if op is None or not 200 <= status < 300:
            return []
        schema = op.responses.get(str(status)) or op.responses.get("default")
        if schema is None:
            if op.responses and str(status) not in op.responses:
                return [f"{method} {path}: status {status} is not a documented response"]
            return []
        return _validate(f"{method} {path} response", self._schema(op, "response", schema), body)

    def check_exchange(self, ex: Exchange) -> list[str]:
        headers = {
            k: v for k, v in ex.headers.items() if k.startswith("x-unique") or k == "x-upsert"
        }
        return self.check_request(
            ex.method, ex.path, ex.query, headers, ex.body
        ) + self.check_response(ex.method, ex.path, ex.status, ex.response)


def _check_value(where: str, name: str, value: str, schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    try:
        if kind == "integer":
            int(value)
        elif kind == "number":
            float(value)
        elif kind == "boolean" and value not in {"true", "false"}:
            raise ValueError
    except ValueError:
        return [f"{where}: query parameter {name}={value!r} is not a {kind}"]
    if "enum" in schema and value not in [str(v) for v in schema["enum"]]:
        return [f"{where}: query parameter {name}={value!r} not in {schema['enum']}"]
    return []


def _jsonable(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _validate(where: str, schema: dict[str, Any], instance: Any) -> list[str]:
    validator = OAS30Validator(schema)
    return [
        f"{where}: {'/'.join(map(str, err.absolute_path)) or '<root>'}: {err.message}"
        for err in validator.iter_errors(_jsonable(instance))
    ]


def load_contract() -> ZohoContract | None:
    if not SPEC_DIR.exists():
        return None
    return ZohoContract(SPEC_DIR)
