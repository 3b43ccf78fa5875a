"""Checks HTTP traffic against API2Cart's own OpenAPI 3.1 document (2020-12 JSON Schema).

``ContractTransport`` wraps any httpx transport: every request the connector
sends is checked against the operation's declared query parameters, security
headers and request body; every response against the operation's 200 schema.
Violations are collected (not raised) so a test can show all of them at once.

Spec defects are allowed explicitly, each with the reason, in ``ALLOWED_DEFECTS``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:api2cart-openapi"

# Every entry: (JSON path regex, validator keyword, why it is allowed).
ALLOWED_DEFECTS: list[tuple[str, str, str]] = [
    # Captured responses (api2cart-mock-api) carry integer address ids although the spec
    # declares Customer_Address.id a string.
    (r"\.(shipping|billing)_address\.id$", "type", "Customer_Address.id arrives as an integer"),
    # EtsyAPIv3 order.info answers store_id 9881820 (integer); the spec says string|null.
    (r"^\$\.result\.store_id$", "type", "Order.store_id arrives as an integer on Etsy"),
]

# Error envelopes: the spec models only successful answers (defect 10.1 in the facts doc), so
# a non-zero return_code is checked against this shape instead of the operation's schema.
ERROR_ENVELOPE = {
    "type": "object",
    "required": ["return_code", "return_message"],
    "properties": {
        "return_code": {"type": "integer", "minimum": 1},
        "return_message": {"type": "string"},
        "result": {"type": ["object", "array", "null"]},
    },
}


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass
class OpenApiContract:
    spec: dict[str, Any]
    registry: Registry = field(init=False)

    def __post_init__(self) -> None:
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource)

    @classmethod
    def load(cls, path: Path) -> OpenApiContract:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def _operation(self, api_method: str, verb: str) -> tuple[str, dict[str, Any]] | None:
        path = f"/{api_method}.json"
        op = self.spec["paths"].get(path, {}).get(verb.lower())
        return (path, op) if op else None

    def _validator(self, ref: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": f"{SPEC_URI}#/{ref}"}, registry=self.registry)

    def check_request(self, request: httpx.Request) -> list[str]:
        api_method = request.url.path.rsplit("/", 1)[-1].removesuffix(".json")
        found = self._operation(api_method, request.method)
        if found is None:
            return [f"{request.method} {api_method}: no such operation in the spec"]
        path, op = found
        problems: list[str] = []
        declared = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        for name, value in query:
            param = declared.get(name)
            if param is None:
                problems.append(f"{api_method}: query parameter {name!r} is not in the spec")
                continue
            kind = param.get("schema", {}).get("type")
            if kind == "integer" and not re.fullmatch(r"-?\d+", value):
                problems.append(f"{api_method}: {name}={value!r} is not an integer")
            if kind == "boolean" and value not in ("true", "false"):
                problems.append(f"{api_method}: {name}={value!r} is not a boolean")
        names = {n for n, _ in query}
        for name, param in declared.items():
            if param.get("required") and name not in names:
                problems.append(f"{api_method}: required parameter {name!r} missing")
        for requirement in op.get("security", []):
            for scheme in requirement:
                header = self.spec["components"]["securitySchemes"][scheme]["name"]
                if not request.headers.get(header):
                    problems.append(f"{api_method}: security header {header!r} missing")
        if "requestBody" in op:
            content = op["requestBody"]["content"]
            if "application/json" not in content:
                problems.append(f"{api_method}: the spec takes no JSON body")
            else:
                ref = _pointer(
                    "paths",
                    path,
                    request.method.lower(),
                    "requestBody",
                    "content",
                    "application/json",
                    "schema",
                )
                body = json.loads(request.content or b"null")
                problems += [
                    f"{api_method} request body {e.json_path}: {e.message}"
                    for e in self._validator(ref).iter_errors(body)
                ]
        return problems

    def check_response(self, request: httpx.Request, payload: Any) -> list[str]:
        api_method = request.url.path.rsplit("/", 1)[-1].removesuffix(".json")
        found = self._operation(api_method, request.method)
        if found is None:
            return []
        path, _op = found
        if isinstance(payload, dict) and payload.get("return_code", 0) != 0:
            validator = Draft202012Validator(ERROR_ENVELOPE)
        else:
            validator = self._validator(
                _pointer(
                    "paths",
                    path,
                    request.method.lower(),
                    "responses",
                    "200",
                    "content",
                    "application/json",
                    "schema",
                )
            )
        return self.response_problems(api_method, validator, payload)

    def validate_payload(self, api_method: str, payload: Any) -> list[str]:
        """Problems of a stored response (refdata examples) for ``api_method``."""
        path = f"/{api_method}.json"
        verb = next(iter(self.spec["paths"][path]))
        if isinstance(payload, dict) and payload.get("return_code", 0) != 0:
            return self.response_problems(api_method, Draft202012Validator(ERROR_ENVELOPE), payload)
        ref = _pointer(
            "paths", path, verb, "responses", "200", "content", "application/json", "schema"
        )
        return self.response_problems(api_method, self._validator(ref), payload)

    @staticmethod
    def response_problems(api_method: str, validator: Any, payload: Any) -> list[str]:
        return [
            f"{api_method} response {error.json_path}: {error.message}"
            for error in validator.iter_errors(payload)
            if not _allowed(error)
        ]


def _allowed(error: Any) -> bool:
    """An allow-listed defect -- also inside ``anyOf`` (``X | null``): one branch must pass."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        return any(all(_allowed(sub) for sub in subs) for subs in branches.values())
    return any(
        re.search(pattern, error.json_path) and error.validator == keyword
        for pattern, keyword, _why in ALLOWED_DEFECTS
    )


class ContractTransport(httpx.AsyncBaseTransport):
    """Passes requests through to ``inner``, recording every contract violation."""

    def __init__(self, inner: httpx.AsyncBaseTransport, contract: OpenApiContract | None) -> None:
        self.inner = inner
        self.contract = contract
        self.violations: list[str] = []
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.contract is not None:
            self.violations += self.contract.check_request(request)
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        if self.contract is not None and response.status_code == 200:
            try:
                payload = json.loads(content)
            except ValueError:
                payload = None
            if payload is not None:
                self.violations += self.contract.check_response(request, payload)
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
