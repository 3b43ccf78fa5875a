"""Advice an operator can follow: what to add to the mapping so a parked record posts.

A record parked in ``needs_mapping`` says what is missing (``missing``) and, at the end
of its reason, exactly what to add, as a YAML flow mapping merged into the mapping file
(mappings merge key by key, lists are appended to)::

    ... -- add to the mapping: {lookups: {taxes: {entries: [{title: "State tax + County
    tax", rate: 0.085, tax_id: "<tax id>"}]}}}

Values in angle brackets are the operator's to fill in (``<tax id>``: a tax id of the
target). ``follow`` does that merge, so the advice is the same text a person reads and a
test replays (``tests/mapping/test_advice_followed.py``): an advice that does not make
the record post is a defect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

MARKER = " -- add to the mapping: "
"""Separates a reason's explanation from the advice (the rest of the reason)."""

SETTINGS_MARKER = " -- add to the target connection's settings: "
"""The same, for a key of the target connection's ``settings`` in ``ledgerbridge.yaml``."""


def render(value: Any) -> str:
    """``value`` in YAML flow style: strings JSON-quoted (exact in YAML), Decimals bare."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)}: {render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    if value is None:
        return "null"
    return json.dumps(str(value), ensure_ascii=False)


def _key(key: Any) -> str:
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) else json.dumps(text)


def nested(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """``("lookups", "taxes", "entries"), [..]`` -> ``{lookups: {taxes: {entries: [..]}}}``."""
    out: Any = value
    for part in reversed(path):
        out = {part: out}
    return dict(out)


def add_to_mapping(path: tuple[str, ...], value: Any) -> str:
    """The advice tail: merge ``value`` at ``path`` into the mapping file."""
    return MARKER + render(nested(path, value))


def add_to_settings(path: tuple[str, ...], value: Any) -> str:
    """The advice tail for the target connection's settings."""
    return SETTINGS_MARKER + render(nested(path, value))


def parse(reason: str) -> tuple[str, dict[str, Any]] | None:
    """``("mapping" | "settings", fragment)`` from a reason's advice, or None.

    The fragment is loaded with every scalar kept as text, so ``0.085`` stays the exact
    decimal the advice names (no float on the way)."""
    import yaml

    for where, marker in (("mapping", MARKER), ("settings", SETTINGS_MARKER)):
        head, found, tail = reason.rpartition(marker)
        if found and head:
            loaded = yaml.load(tail, Loader=yaml.BaseLoader)  # noqa: S506 -- BaseLoader: text only
            if isinstance(loaded, dict):
                return where, loaded
    return None


def merge(document: dict[str, Any], fragment: Mapping[str, Any]) -> dict[str, Any]:
    """``fragment`` merged into ``document`` (a copy): mappings key by key, lists appended."""
    out = dict(document)
    for key, value in fragment.items():
        current = out.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            out[key] = merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            out[key] = [*current, *value]
        else:
            out[key] = value
    return out


def fill(fragment: Any, placeholder: Callable[[str], Any]) -> Any:
    """``fragment`` with each ``<...>`` value replaced by ``placeholder(text)``."""
    if isinstance(fragment, dict):
        return {k: fill(v, placeholder) for k, v in fragment.items()}
    if isinstance(fragment, list):
        return [fill(v, placeholder) for v in fragment]
    if isinstance(fragment, str) and fragment.startswith("<") and fragment.endswith(">"):
        return placeholder(fragment)
    return fragment


__all__ = [
    "MARKER",
    "SETTINGS_MARKER",
    "add_to_mapping",
    "add_to_settings",
    "fill",
    "merge",
    "parse",
    "render",
]
