"""Hostile values and structural mutations of a JSON document (dicts, lists, scalars).

A mutation is ``(path, op, value)``: ``path`` a tuple of keys/indexes from the root,
``op`` one of ``OPS``.  ``apply`` returns a mutated deep copy; the original is
never touched.  Values are what platforms, proxies and careless integrators have
been seen to send: wrong JSON types, ``NaN``/``sNaN``/``Infinity``, absurd exponents,
5,000-digit numbers, megabyte strings, control characters, deep nesting.
"""

from __future__ import annotations

import copy
import random
from decimal import Decimal
from typing import Any

Path = tuple[str | int, ...]


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    return value


HOSTILE: list[Any] = [
    7,
    -1,
    0,
    None,
    True,
    False,
    "",
    " ",
    "sNaN",
    "NaN",
    "-Infinity",
    "Infinity",
    "1e999999999",
    "-1e999999999",
    "1e-999999999",
    "12,00",
    "0x10",
    "1_000",
    "١٢٣",
    "9" * 30,
    "x" * 100_000,
    10**5000,
    -(10**20),
    Decimal("sNaN"),
    Decimal("NaN"),
    Decimal("1E+400"),
    Decimal("-0"),
    Decimal("0.000000000000000000000000001"),
    1.5,
    [],
    {},
    [7],
    [None],
    {"a": 1},
    {"value": "x", "format": "y"},
    "2026-13-45T99:99:99",
    "0000-00-00 00:00:00",
    "\x00",
    "a\x00b",
    "😀" * 10,
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "{{ 7 * 7 }}",
    _nested(60),
]
"""Values substituted into documents (a tuple of reprs identifies each in reports)."""

OPS = ("replace", "delete", "empty", "wrap", "duplicate")


def paths(doc: Any, prefix: Path = ()) -> list[Path]:
    """Every path into ``doc`` (not the root itself), depth first."""
    found: list[Path] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.append((*prefix, key))
            found.extend(paths(value, (*prefix, key)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found.append((*prefix, index))
            found.extend(paths(value, (*prefix, index)))
    return found


def apply(doc: Any, path: Path, op: str, value: Any = None) -> Any:
    """A deep copy of ``doc`` with one mutation at ``path``."""
    result = copy.deepcopy(doc)
    parent = result
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    current = parent[last]
    if op == "replace":
        parent[last] = value
    elif op == "delete":
        if isinstance(parent, dict):
            del parent[last]
        else:
            parent.pop(last)
    elif op == "empty":
        parent[last] = type(current)() if isinstance(current, dict | list | str) else None
    elif op == "wrap":
        parent[last] = [current]
    elif op == "duplicate":
        if isinstance(parent, list):
            parent.insert(last, copy.deepcopy(current))
        else:
            parent[last] = [current, copy.deepcopy(current)]
    else:
        raise ValueError(f"unknown mutation {op!r}")
    return result


def describe(path: Path, op: str, value: Any = None) -> str:
    """``line_items[0].total = 'sNaN'`` -- how a report names a mutation."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    if op != "replace":
        return f"{text}: {op}"
    try:
        shown = repr(value)
    except ValueError:
        shown = "<huge int>"
    return f"{text} = {shown[:40]}"


def random_mutation(rng: random.Random, doc: Any) -> tuple[Any, str]:
    """One random mutation of ``doc``: the mutated copy and its description."""
    all_paths = paths(doc)
    path = rng.choice(all_paths)
    op = rng.choice(OPS) if rng.random() < 0.3 else "replace"
    value = rng.choice(HOSTILE)
    return apply(doc, path, op, value), describe(path, op, value)
