"""API2Cart's two ways of choosing fields: ``params`` lists and ``response_fields`` trees."""

from __future__ import annotations

from typing import Any

# ``params`` names a few groups rather than fields.
_GROUPS = {
    "address": ("shipping_address", "billing_address"),
    "items": ("order_products",),
}

Spec = dict[str, "Spec | None"]


def apply_params(record: dict[str, Any], params: str, exclude: str | None) -> dict[str, Any]:
    """Keep the fields ``params`` names (``force_all``: every field, less ``exclude``)."""
    names = [p.strip() for p in params.split(",") if p.strip()]
    if "force_all" in names:
        dropped = {e.strip() for e in (exclude or "").split(",")}
        return {k: v for k, v in record.items() if k not in dropped}
    wanted: set[str] = set()
    for name in names:
        wanted.update(_GROUPS.get(name, (name,)))
    return {k: v for k, v in record.items() if k in wanted}


def parse(text: str) -> Spec:
    """``{a,b{c,d},*}`` -> ``{"a": None, "b": {"c": None, "d": None}, "*": None}``."""
    spec, _end = _parse(text.replace(" ", ""), 0)
    return spec


def _parse(text: str, pos: int) -> tuple[Spec, int]:
    if pos >= len(text) or text[pos] != "{":
        raise ValueError(f"response_fields: '{{' expected at {pos}")
    pos += 1
    spec: Spec = {}
    name = ""
    while pos < len(text):
        char = text[pos]
        if char == "{":
            spec[name], pos = _parse(text, pos)
            name = ""
            continue
        if char in ",}":
            if name:
                spec[name] = None
            name = ""
            pos += 1
            if char == "}":
                return spec, pos
            continue
        name += char
        pos += 1
    raise ValueError("response_fields: unbalanced braces")


def _select(value: Any, spec: Spec | None) -> Any:
    if spec is None or "*" in spec:
        return value
    if isinstance(value, list):
        return [_select(v, spec) for v in value]
    if isinstance(value, dict):
        return {k: _select(value[k], sub) for k, sub in spec.items() if k in value}
    return value


def apply_response_fields(body: dict[str, Any], text: str) -> dict[str, Any]:
    selected = _select(body, parse(text))
    selected.setdefault("return_code", body["return_code"])
    return dict(selected)
