"""Structural comparison: does a response have the fields and JSON types of a doc example?

WooCommerce publishes no schema for wc/v3 (no OpenAPI), so its documentation
examples are the contract.  Fields the examples predate (documented as newer,
see the platform notes) may appear in responses without failing the check.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

NEWER_FIELDS = frozenset(
    {
        # newer than the WooCommerce 3.0 examples (documented in the platform notes)
        "payment_url",
        "is_editable",
        "needs_payment",
        "needs_processing",
        "image",  # on order line items
        "parent_name",
        "shipping.phone",
        # current core on tax lines / shipping lines / refunds
        "rate_percent",
        "instance_id",
        "shipping_lines",
        "tax_lines",
        "fee_lines",
        "parent_id",
    }
)


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | Decimal | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Every place ``actual`` lacks a field of ``expected`` or has another JSON type.

    ``null`` in the example means "nullable": any type is accepted there.  Extra
    fields in ``actual`` are reported unless listed in ``NEWER_FIELDS``.  For
    arrays, the example's first element describes every element of ``actual``.
    """
    if expected is None:
        return []
    if kind(expected) != kind(actual):
        if actual is None:
            return []  # a nullable field that is empty in this response
        return [f"{path}: expected {kind(expected)}, got {kind(actual)} ({actual!r:.40})"]
    found: list[str] = []
    if isinstance(expected, dict):
        for key, value in expected.items():
            if key not in actual:
                found.append(f"{path}.{key}: missing")
            else:
                found += differences(value, actual[key], f"{path}.{key}")
        parent = path.rsplit(".", 1)[-1].split("[", maxsplit=1)[0]
        for key in actual:
            if key not in expected and not {key, f"{parent}.{key}"} & NEWER_FIELDS:
                found.append(f"{path}.{key}: not in the documentation example")
    elif isinstance(expected, list) and expected:
        for i, item in enumerate(actual):
            found += differences(expected[0], item, f"{path}[{i}]")
    return found
